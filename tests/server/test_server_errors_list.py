"""A contract whose error answers are the list itself (``errors.list: ""``, the error schema an array): the
server answers a bare JSON array of error objects, each still located — not the ``{"errors": [...]}`` of
the other dialects."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml
from srv_helpers import client, make_order

from contracts.contract import load_contract
from contracts.server import running_server_in_thread

ROOT = Path(__file__).resolve().parents[2]


def test_errors_list_at_the_root_is_answered_as_a_bare_array(tmp_path: Path) -> None:
    document = yaml.safe_load((ROOT / "spec" / "sendcloud-orders-v3.yaml").read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    schemas["ErrorResponse"] = schemas["ErrorResponse"]["properties"]["errors"]  # the array itself
    document["x-contract"]["errors"]["list"] = ""
    spec = tmp_path / "bare-errors.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    assert load_contract(spec).errors.errors_at == ""  # the lint takes it: the schema is an array
    with running_server_in_thread(spec_path=str(spec)) as server, client(server) as c:
        bad = make_order()
        del bad["order_number"]
        refused = c.post("/orders", json=[make_order(), bad])
        assert refused.status_code == 400
        errors = refused.json()
        assert isinstance(errors, list) and errors, errors
        assert errors[0]["source"]["pointer"].startswith("/data/attributes/[1]")
        unauthenticated = httpx.get(server.api_url + "/orders", timeout=10)  # no credentials
        assert unauthenticated.status_code == 401
        assert isinstance(unauthenticated.json(), list)
        accepted = c.post("/orders", json=[make_order()])
        assert accepted.status_code == 201, accepted.text
