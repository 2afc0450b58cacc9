"""Client options from the spec: security schemes, declared headers, names, docstrings, webhooks, ids."""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from codegen_support import FIXTURES, codegen_app
from typer.testing import CliRunner

from codegen import build_tree, load_spec, package_name, prepare, write_tree

TOKEN_SPEC = FIXTURES / "token_shop-openapi.yaml"


@pytest.fixture(scope="module")
def token_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    out = tmp_path_factory.mktemp("token")
    write_tree(build_tree(load_spec(TOKEN_SPEC)), out)
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("token_shop")
    finally:
        sys.path.remove(str(out))


def test_names_drop_openapi_and_shorten_vendor_operation_ids(token_shop: Any) -> None:
    assert package_name(load_spec(TOKEN_SPEC)) == "token_shop"
    client = token_shop.ShopClient
    assert {"create_parcel", "get_parcel_by_id", "delete_parcel"} <= set(vars(client))
    doc = client.get_parcel_by_id.__doc__ or ""
    assert doc.startswith("GET /parcels/{parcel_id}")  # no summary, no description: method and path
    assert "operationId ``ts-public-v2-parcels-get-parcel_by_id``" in doc
    delete_doc = client.delete_parcel.__doc__ or ""
    assert (
        delete_doc.startswith("Removes a parcel for good.") and "A second line of description." in delete_doc
    )


def test_api_key_with_prefix_bearer_and_declared_header_are_options(token_shop: Any) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(201, json={"id": 42})
        return httpx.Response(200, json={"parcel_id": "42", "weight": 1.5})

    transport = httpx.MockTransport(handler)
    with token_shop.ShopClient(api_key="k_1", x_shop_tenant="t-9", transport=transport) as api:
        created = api.create_parcel({"weight": 1.5})
        parcel = api.get_parcel_by_id(created.id)  # an int id from one answer, a str path parameter
        again = api.get_parcel_by_id(parcel.parcel_id)
    assert again == parcel
    assert [r.headers["authorization"] for r in seen] == ["Token k_1"] * 3
    assert [r.headers["x-shop-tenant"] for r in seen] == ["t-9"] * 3
    assert seen[1].url.path == "/v2/parcels/42"
    with token_shop.ShopClient(token="ey.j", transport=transport) as api:
        api.get_parcel_by_id("7")
    assert seen[-1].headers["authorization"] == "Bearer ey.j"
    options = inspect.signature(token_shop.ShopClient).parameters
    assert {"api_key", "token", "x_shop_tenant"} <= set(options)
    assert not {"username", "password", "partner_id"} & set(options)  # no basic scheme, no partner header


def test_unsupported_scheme_and_webhooks_are_warnings_naming_what_was_skipped(token_shop: Any) -> None:
    _doc, _ir, findings = prepare(load_spec(TOKEN_SPEC))
    by_rule = {f.rule: f for f in findings if f.rule in ("security", "webhooks")}
    assert by_rule["security"].location == "/components/securitySchemes/Partner"
    assert "'Partner' (oauth2)" in by_rule["security"].message
    assert by_rule["webhooks"].location == "/webhooks/ParcelShipped/post"
    assert "payload model ParcelShippedEvent" in by_rule["webhooks"].message
    assert token_shop.WEBHOOK_PAYLOADS == {"ParcelShipped": token_shop.ParcelShippedEvent}


def test_path_ids_accept_every_id_type_of_the_resource(token_shop: Any) -> None:
    hints = inspect.signature(token_shop.ShopClient.get_parcel_by_id.__wrapped__).parameters
    assert str(hints["parcel_id"].annotation) == "str | int"
    assert "accepts str or int" in (token_shop.ShopClient.get_parcel_by_id.__doc__ or "")
    for model, member in ((token_shop.ParcelCreated, "id"), (token_shop.Parcel, "parcel_id")):
        note = f"Its ``{member}`` can be passed as it is to ``delete_parcel``, ``get_parcel_by_id``."
        assert note in (model.__doc__ or ""), model


def test_generate_prints_grouped_warnings_and_the_notable_ones(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        codegen_app(),
        ["generate", "--spec", str(TOKEN_SPEC), "--out", str(tmp_path), "--client-name", "TokenClient"],
    )
    assert result.exit_code == 0, result.output
    first, *rest = result.output.strip().splitlines()
    assert "warning(s): " in first and "security 1" in first and "webhooks 1" in first
    assert f"details: orders-contract lint {TOKEN_SPEC}" in first
    assert any("/components/securitySchemes/Partner" in line for line in rest)
    assert "class TokenClient(_Base):" in (tmp_path / "token_shop" / "client.py").read_text(encoding="utf-8")
    assert "TokenClient" in json.dumps((tmp_path / "token_shop" / "__init__.py").read_text(encoding="utf-8"))


def test_a_post_with_an_idempotency_key_header_is_retried_with_the_same_key(token_shop: Any) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(502) if len(seen) == 1 else httpx.Response(201, json={"id": 1})

    retry = token_shop.RetryPolicy(jitter=False)
    with token_shop.ShopClient(
        transport=httpx.MockTransport(handler), retry=retry, sleep=lambda s: None
    ) as api:
        assert api.create_parcel({"weight": 1.0}).id == 1
        api.create_parcel({"weight": 1.0}, idempotency_key="mine")
    keys = [r.headers["idempotency-key"] for r in seen]
    assert len(keys) == 3 and keys[0] == keys[1] and len(keys[0]) == 32 and keys[2] == "mine"
