"""Fail-closed pipeline: code that does not import is never written."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from codegen_support import FIXTURES

from codegen import build_tree, import_check, load_spec, write_tree


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


def test_build_tree_can_import_check_and_write_tree_trusts_it(tmp_path: Path) -> None:
    tree = build_tree(load_spec(FIXTURES / "messy_shop.yaml"), "shop_pkg", check_import=True)
    assert tree.import_checked
    written = write_tree(tree, tmp_path)
    assert [p.name for p in written] == ["__init__.py", "_runtime.py", "client.py", "models.py", "py.typed"]
