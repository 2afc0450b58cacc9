"""Fail-closed pipeline: code that does not import is never written."""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest
from codegen_support import FIXTURES, PACKAGE_FILES, REPO

from codegen import _generate, _importcheck, _models_child, build_tree, import_check, load_spec, write_tree
from codegen._models import render_models
from codegen._normalize import normalise


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ("\nimport os\nos._exit(3)\n", "exited with code 3"),
        ("\nraise ValueError('boom')\n", "ValueError: boom"),
        ("\nfrom .nowhere import X\n", "ModuleNotFoundError"),
    ],
)
def test_a_package_that_does_not_import_is_not_written(tmp_path: Path, tail: str, message: str) -> None:
    tree = build_tree(load_spec(FIXTURES / "messy_shop.yaml"), "shop_pkg")
    files = dict(tree.files)
    files["shop_pkg/models.py"] += tail
    broken = dataclasses.replace(tree, files=files, import_checked=False)
    with pytest.raises(RuntimeError, match=message):
        import_check(broken)
    with pytest.raises(RuntimeError, match="does not import"):
        write_tree(broken, tmp_path)
    assert not any(tmp_path.iterdir())


def test_a_child_that_imports_while_the_files_are_written_sees_only_whole_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forked child may start importing while the parent writes the client files (a loaded machine)."""
    tree = build_tree(load_spec(FIXTURES / "messy_shop.yaml"), "shop_pkg")
    files = dict(tree.files)
    files["shop_pkg/models.py"] += "\nraise ValueError('boom')\n"
    broken = dataclasses.replace(tree, files=files, import_checked=False)
    real_write, real_staged = Path.write_text, _importcheck._staged

    def slow_write(self: Path, data: str, *args: Any, **kwargs: Any) -> int:
        real_write(self, data[: len(data) // 2], *args, **kwargs)  # half a file is on disk for a while
        time.sleep(0.3)
        return real_write(self, data, *args, **kwargs)

    def late_child(*args: Any) -> None:
        time.sleep(0.2)  # start importing in the middle of the parent's first write
        real_staged(*args)

    monkeypatch.setattr(Path, "write_text", slow_write)
    monkeypatch.setattr(_importcheck, "_staged", late_child)
    with pytest.raises(RuntimeError, match="ValueError: boom"):
        import_check(broken)


def test_build_tree_can_import_check_and_write_tree_trusts_it(tmp_path: Path) -> None:
    tree = build_tree(load_spec(FIXTURES / "messy_shop.yaml"), "shop_pkg", check_import=True)
    assert tree.import_checked
    written = write_tree(tree, tmp_path)
    assert [p.name for p in written] == PACKAGE_FILES


@pytest.mark.parametrize("check_import", [True, False], ids=["import-checked", "compiled"])
def test_code_that_does_not_compile_is_reported_as_a_syntax_error(
    monkeypatch: pytest.MonkeyPatch, check_import: bool
) -> None:
    """Import-checked, the child's import is the compile (not paid twice); otherwise compile() is."""
    real = _generate.ruff_format_many

    def broken(sources: dict[str, str]) -> dict[str, str]:
        formatted = real(sources)
        formatted["_calls.py"] += "\nreturn 1\n"  # ruff accepts it; the compiler does not
        return formatted

    monkeypatch.setattr(_generate, "ruff_format_many", broken)
    with pytest.raises(SyntaxError, match="'return' outside function"):
        build_tree(load_spec(FIXTURES / "messy_shop.yaml"), "shop_pkg", check_import=check_import)
    assert multiprocessing.active_children() == []


def test_a_failure_while_rendering_stops_the_import_check_child(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> dict[str, str]:
        raise RuntimeError("ruff is gone")

    monkeypatch.setattr(_generate, "ruff_format_many", fail)
    with pytest.raises(RuntimeError, match="ruff is gone"):
        build_tree(load_spec(FIXTURES / "messy_shop.yaml"), "shop_pkg", check_import=True)
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("enabled", [True, False], ids=["collector-on", "collector-off"])
def test_build_tree_pauses_the_garbage_collector_and_gives_it_back(
    monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    """The cyclic collector is off while a tree is built, and as it was afterwards, even after a failure."""
    seen: list[bool] = []
    real = _generate.normalise

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(_generate, "normalise", watched)
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        build_tree(load_spec(FIXTURES / "messy_shop.yaml"), "shop_pkg")
        assert seen == [False]
        assert gc.isenabled() is enabled
        monkeypatch.setattr(_generate, "ruff_format_many", _raise_gone)
        with pytest.raises(RuntimeError, match="ruff is gone"):
            build_tree(load_spec(FIXTURES / "messy_shop.yaml"), "shop_pkg")
        assert seen == [False, False]
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def _raise_gone(*args: Any, **kwargs: Any) -> dict[str, str]:
    raise RuntimeError("ruff is gone")


@pytest.mark.parametrize(
    ("argv", "collecting"),
    [(["generate", "--spec", "x.yaml"], False), (["lint", "x.yaml"], False),
     (["run", "--base-url", "u"], True), (["serve"], True), (["--version"], True), ([], True)],
)  # fmt: skip
def test_the_console_script_runs_short_commands_without_the_collector(
    argv: list[str], collecting: bool
) -> None:
    from orders_contract import cli

    was = gc.isenabled()
    try:
        gc.disable() if collecting else gc.enable()  # the opposite: main sets it
        cli._collector_for(argv)
        assert gc.isenabled() is collecting
    finally:
        (gc.enable if was else gc.disable)()


def _normalised_messy_shop() -> dict[str, Any]:
    document, _rewrites = normalise(load_spec(FIXTURES / "messy_shop.yaml").document)
    return document


def test_the_warm_models_child_renders_what_the_generator_renders_in_process() -> None:
    document = _normalised_messy_shop()
    expected = render_models(document, "# header\n", format_source=False)
    assert _models_child.ModelsChild().render(document, "# header\n") == expected
    assert multiprocessing.active_children() == []


def test_a_models_child_that_dies_is_replaced_by_the_generator_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def die(conn: Any) -> str:
        os._exit(3)

    monkeypatch.setattr(_models_child, "_serve", die)
    document = _normalised_messy_shop()
    assert _models_child.ModelsChild().render(document, "") == render_models(
        document, "", format_source=False
    )
    assert multiprocessing.active_children() == []


def test_an_error_of_the_generator_in_the_models_child_is_raised_first_hand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The child's failure is not reported second hand: the parent renders again and raises it itself."""
    calls: list[int] = []

    def broken(document: dict[str, Any], header: str, *, format_source: bool = True) -> str:
        calls.append(os.getpid())
        raise LookupError("the generator failed")

    monkeypatch.setattr(_models_child, "render_models", broken)
    with pytest.raises(LookupError, match="the generator failed"):
        _models_child.ModelsChild().render(_normalised_messy_shop(), "")
    assert calls == [os.getpid()]  # the child's own calls happened in the child
    assert multiprocessing.active_children() == []


def test_a_child_started_early_serves_one_generation_and_is_stopped_when_unused() -> None:
    with _models_child.warming_up():
        early = _models_child.take()
        later = _models_child.take()
        assert later is not early
        later.close()
        early.close()
    with _models_child.warming_up():
        assert len(multiprocessing.active_children()) == 1  # warming up, never taken
    assert multiprocessing.active_children() == []


def test_a_models_child_that_never_reads_cannot_block_the_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a file name goes through the pipe: a stuck child (a lock held at fork time, say) that never
    reads cannot leave the parent blocked on a full pipe; after the answer's deadline it renders itself."""

    def stuck(conn: Any) -> str:
        time.sleep(20)  # bounded, so the test cannot leave a process behind for long
        return ""

    monkeypatch.setattr(_models_child, "_serve", stuck)
    monkeypatch.setattr(_models_child, "_ANSWER", 1.0)
    document = _normalised_messy_shop()
    document["info"]["description"] = "x" * 1_000_000  # far more than a pipe holds
    expected = render_models(document, "", format_source=False)
    assert _models_child.ModelsChild().render(document, "") == expected
    assert multiprocessing.active_children() == []


def test_the_command_line_app_run_inside_another_program_freezes_none_of_its_objects() -> None:
    """Only the console script (``main``) freezes what a command imported: a program (or a test) invoking
    the app keeps its own objects collectable."""
    from typer.testing import CliRunner

    from orders_contract.cli import app

    before = gc.get_freeze_count()
    result = CliRunner().invoke(app, ["lint", str(REPO / "spec" / "karrio-batch-orders.yaml")])
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == before
