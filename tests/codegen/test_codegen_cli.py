"""CLI behaviour: generate, generate --check (drift), lint, and clear one-line errors."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import pytest
from codegen_support import FIXTURES, PACKAGE_FILES, REPO, VENDOR_SPEC, codegen_app
from typer.testing import CliRunner

app = codegen_app()
runner = CliRunner()
BROKEN = sorted((FIXTURES / "broken").glob("*.yaml"))


def _expectations(spec: Path) -> tuple[int, str]:
    lines = spec.read_text(encoding="utf-8").splitlines()
    code = next(int(x.split(":", 1)[1]) for x in lines if x.startswith("# expect-exit:"))
    message = next(x.split(":", 1)[1].strip() for x in lines if x.startswith("# expect:"))
    return code, message


def test_check_passes_on_the_committed_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = runner.invoke(app, ["generate", "--check"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert "generated/sendcloud_orders: up to date" in result.output
    assert "generated/karrio_batches: up to date" in result.output


@pytest.fixture()
def repo_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "spec", tmp_path / "spec")
    shutil.copytree(REPO / "generated", tmp_path / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_fails_with_a_diff_when_a_generated_file_is_edited(repo_copy: Path) -> None:
    client = repo_copy / "generated" / "sendcloud_orders" / "client.py"
    client.write_text(client.read_text(encoding="utf-8").replace("def upsert_orders(", "def upsert_orderz("))
    result = runner.invoke(app, ["generate", "--check"])
    assert result.exit_code == 1
    assert "--- a/sendcloud_orders/client.py" in result.output
    assert "-    def upsert_orderz(" in result.output and "+    def upsert_orders(" in result.output
    assert "make generate" in result.output


def test_check_reports_missing_and_extra_files(repo_copy: Path) -> None:
    package = repo_copy / "generated" / "sendcloud_orders"
    (package / "models.py").unlink()
    (package / "stale.py").write_text("x = 1\n")
    result = runner.invoke(app, ["generate", "--check"])
    assert result.exit_code == 1
    assert "+++ b/sendcloud_orders/models.py" in result.output
    assert "+++ /dev/null" in result.output  # stale.py would be removed


def test_generate_repairs_drift_and_removes_stale_files(repo_copy: Path) -> None:
    package = repo_copy / "generated" / "sendcloud_orders"
    (package / "models.py").write_text("broken = True\n")
    (package / "stale.py").write_text("x = 1\n")
    assert runner.invoke(app, ["generate"]).exit_code == 0
    assert not (package / "stale.py").exists()
    assert (package / "models.py").read_bytes() == (
        REPO / "generated/sendcloud_orders/models.py"
    ).read_bytes()
    assert runner.invoke(app, ["generate", "--check"]).exit_code == 0


def test_generate_any_spec_into_any_folder(tmp_path: Path) -> None:
    spec = FIXTURES / "messy_shop.yaml"
    result = runner.invoke(
        app, ["generate", "--spec", str(spec), "--out", str(tmp_path), "--package", "shop2"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "shop2").iterdir()) == PACKAGE_FILES


@pytest.mark.parametrize("spec", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_specs_fail_closed_with_their_message(spec: Path, tmp_path: Path) -> None:
    code, message = _expectations(spec)
    result = runner.invoke(app, ["generate", "--spec", str(spec), "--out", str(tmp_path)])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not any(tmp_path.iterdir()), "nothing may be written when a spec is broken"
    assert multiprocessing.active_children() == [], "a helper process outlived the failed generation"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lint", "does/not/exist.yaml"], "does/not/exist.yaml: no such file"),
        (["generate", "--spec", "does/not/exist.yaml"], "does/not/exist.yaml: no such file"),
        (["lint", "."], ".: is a directory"),
        (["generate", "--package", "x"], "--package/--client-name need --spec"),
        (
            ["generate", "--spec", "spec/x.yaml", "--package", "Bad-Name"],
            "is not a lowercase Python identifier",
        ),
        (["generate", "--spec", "spec/x.yaml", "--client-name", "lower"], "is not a Python class name"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert multiprocessing.active_children() == []


def test_lint_groups_rewrites_with_locations() -> None:
    result = runner.invoke(app, ["lint", str(FIXTURES / "messy_shop.yaml")])
    assert result.exit_code == 0, result.output  # only warnings
    assert "required-beside-ref (2)" in result.output
    assert "warning /components/schemas/item/properties/price:" in result.output


def test_lint_reports_examples_that_fail_their_own_schema() -> None:
    if not VENDOR_SPEC.is_file():
        pytest.skip(f"vendor spec not found at {VENDOR_SPEC}")
    result = runner.invoke(app, ["lint", str(VENDOR_SPEC)])
    assert result.exit_code == 1
    assert "example (" in result.output
    where = "/paths/~1orders/get/responses/200/content/application~1json/examples/Response/value"
    assert (
        f"{where}/data/1/order_details/order_items/0/delivery_dates: "
        "example fails its own schema: None is not of type 'object'" in result.output
    )
