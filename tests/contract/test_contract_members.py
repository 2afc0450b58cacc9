"""The x-contract pointers are checked against the schemas they point into (``_members``): a pointer naming
nothing there is one located lint finding, while the repo's specs, the unseen third API and free-form
schemas stay accepted."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.contract import ContractError, contract_from_document

ROOT = Path(__file__).resolve().parents[2]
SENDCLOUD = ROOT / "spec" / "sendcloud-orders-v3.yaml"
KARRIO = ROOT / "spec" / "karrio-batch-orders.yaml"
THIRD = ROOT / "tests" / "fixtures" / "specs" / "third_api" / "depot-stock-items.yaml"


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def _set(document: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    node = changed["x-contract"]
    for name in path[:-1]:
        node = node[name]
    node[path[-1]] = value
    return changed


def _first_finding(document: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ContractError) as caught:
        contract_from_document(document)
    finding = caught.value.findings[0]
    return finding.pointer, finding.message


@pytest.mark.parametrize("spec", [SENDCLOUD, KARRIO, THIRD], ids=lambda p: p.stem)
@pytest.mark.parametrize(
    ("path", "value", "where", "says"),
    [
        (("batch", "items"), "/nope", "/x-contract/batch/items", "no member 'nope'"),
        (("errors", "list"), "", "/x-contract/errors/list", "not a list"),
        (("key", "members"), ["/order_idd"], "/x-contract/key/members/0", "no member 'order_idd'"),
        (("key", "immutable"), ["/a/b"], "/x-contract/key/immutable/0", "no member 'a'"),
        (("resource", "item"), "/nope", "/x-contract/resource/item", "no member 'nope'"),
    ],
)
def test_a_pointer_naming_nothing_in_its_schema_is_a_located_finding(
    spec: Path, path: tuple[str, ...], value: Any, where: str, says: str
) -> None:
    pointer, message = _first_finding(_set(_load(spec), path, value))
    assert pointer == where
    assert says in message


def test_results_and_list_pages_must_be_lists() -> None:
    pointer, message = _first_finding(_set(_load(SENDCLOUD), ("processing", "results"), ""))
    assert (pointer, "not a list" in message) == ("/x-contract/processing/results", True)
    pointer, message = _first_finding(_set(_load(KARRIO), ("list", "results"), "/count"))
    assert (pointer, "not a list" in message) == ("/x-contract/list/results", True)


def test_list_filters_name_members_of_a_stored_item() -> None:
    """Karrio filters by `status`, which the server sets: a member of the stored order, not of the request
    item — accepted; a member neither has is refused."""
    document = _load(KARRIO)
    contract_from_document(document)  # /status is in the stored order's schema
    filters = dict(document["x-contract"]["list"]["filters"], colour="/colour")
    pointer, message = _first_finding(_set(document, ("list", "filters"), filters))
    assert pointer == "/x-contract/list/filters/colour"
    assert "no member 'colour'" in message


def test_a_member_inside_a_free_form_or_open_schema_is_accepted() -> None:
    """A schema that says nothing about its members (no type, no properties) or takes any member
    (additionalProperties with a schema) can hold the pointed member: no finding."""
    document = _load(SENDCLOUD)
    item = document["components"]["schemas"]
    name = next(iter(k for k in item if k.lower().startswith("order") and "properties" in item[k]))
    item[name]["properties"]["extras"] = {"description": "anything"}
    item[name]["properties"]["labels"] = {"type": "object", "additionalProperties": {"type": "string"}}
    free = _set(document, ("key", "immutable"), ["/order_id", "/extras/a/b", "/labels/colour"])
    try:
        contract_from_document(free)
    except ContractError as error:  # the chosen schema is not the item: the test itself is wrong
        pytest.fail(f"{name}: {error}")


def test_a_dangling_body_or_answer_reference_is_not_judged_and_never_crashes() -> None:
    """A request body or response that is a reference to nothing: nothing to check the pointers against
    (the spec validator reports the dangling reference), so no finding from here, and no exception."""
    document = _load(KARRIO)
    post = document["paths"]["/v1/batches/orders"]["post"]
    post["requestBody"] = {"$ref": "#/components/requestBodies/Nope"}
    post["responses"]["400"] = {"$ref": "#/components/responses/Nope"}
    contract_from_document(document)


def test_lint_prints_the_finding_and_exits_nonzero(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(_set(_load(KARRIO), ("batch", "items"), "/nope")), encoding="utf-8")
    done = subprocess.run(
        [Path(sys.executable).with_name("orders-contract"), "lint", str(broken)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode != 0
    assert "/x-contract/batch/items" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
