"""End-to-end: fixture spec → generated tree, compared byte-for-byte with tests/golden/; determinism."""

from __future__ import annotations

import difflib
import random
from typing import Any

import pytest
import yaml
from codegen_support import GOLDEN_COMMAND, GOLDEN_DIR, GOLDEN_SPECS, REPO

from codegen import build_tree, load_spec, parse_spec


def _on_disk(package: str) -> dict[str, str]:
    root = GOLDEN_DIR / package
    return {
        f"{package}/{p.name}": p.read_text(encoding="utf-8") for p in sorted(root.iterdir()) if p.is_file()
    }


@pytest.mark.parametrize("package", sorted(GOLDEN_SPECS))
def test_generated_tree_equals_the_golden_tree(package: str) -> None:
    fresh = build_tree(load_spec(GOLDEN_SPECS[package]), package).files
    committed = _on_disk(package)
    if fresh != committed:
        diff = []
        for rel in sorted(set(fresh) | set(committed)):
            old, new = committed.get(rel, ""), fresh.get(rel, "")
            diff += difflib.unified_diff(
                old.splitlines(True), new.splitlines(True), f"golden/{rel}", f"fresh/{rel}"
            )
        pytest.fail(f"golden tree is stale; regenerate with `{GOLDEN_COMMAND}`\n" + "".join(diff[:200]))


def test_two_generations_are_byte_identical() -> None:
    spec = load_spec(GOLDEN_SPECS["messy_shop"])
    assert build_tree(spec, "messy_shop").files == build_tree(spec, "messy_shop").files


def _shuffled(node: Any, rng: random.Random) -> Any:
    if isinstance(node, dict):
        keys = list(node)
        rng.shuffle(keys)
        return {k: _shuffled(node[k], rng) for k in keys}
    if isinstance(node, list):
        return [_shuffled(v, rng) for v in node]  # list order is meaningful (enum, allOf): keep it
    return node


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(
    "spec_path", [GOLDEN_SPECS["messy_shop"], REPO / "spec" / "sendcloud-orders-v3.yaml"]
)
def test_dict_order_in_the_spec_does_not_change_the_output(seed: int, spec_path: Any) -> None:
    """Not even the header: it names the sha256 of the parsed, normalised spec, not of the file."""
    original = load_spec(spec_path)
    document = _shuffled(original.document, random.Random(seed))
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    shuffled = parse_spec(text.encode("utf-8"), original.name)
    assert list(shuffled.document) != list(original.document) or seed == 0
    assert build_tree(shuffled, "pkg").files == build_tree(original, "pkg").files


def test_the_drift_gate_ignores_comments_but_not_content() -> None:
    spec = GOLDEN_SPECS["messy_shop"]
    raw = spec.read_bytes()
    original = build_tree(parse_spec(raw, spec.name), "messy_shop").files
    commented = raw.replace(b"\npaths:\n", b"\n# a comment the generator never sees\npaths:\n", 1)
    assert commented != raw
    assert build_tree(parse_spec(commented, spec.name), "messy_shop").files == original
    changed = raw.replace(b"summary: List items", b"summary: List every item", 1)
    assert changed != raw
    fresh = build_tree(parse_spec(changed, spec.name), "messy_shop").files
    assert fresh["messy_shop/client.py"] != original["messy_shop/client.py"]
    assert fresh["messy_shop/__init__.py"] != original["messy_shop/__init__.py"]  # another SPEC_SHA256
