"""The demo accounts own values of the spec's ownership member that its schema accepts, for any spec.

Variants of the third API's spec (tests/fixtures/specs/third_api/) change only the ownership member's schema;
the derived values must validate against it, be distinct, and stay the documented 7, 739283 / 8 where the
schema allows them (Sendcloud's integration ids).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from contracts.server import DEMO_ACCOUNTS, Account, ConfigError, ServerSettings

ROOT = Path(__file__).resolve().parents[2]
THIRD = ROOT / "tests" / "fixtures" / "specs" / "third_api" / "depot-stock-items.yaml"
OWNER = ("components", "schemas", "StockItemInput", "properties", "warehouse_code")


def _variant(tmp_path: Path, schema: dict[str, Any]) -> str:
    document = yaml.safe_load(THIRD.read_text(encoding="utf-8"))
    node = document
    for token in OWNER[:-1]:
        node = node[token]
    node[OWNER[-1]] = copy.deepcopy(schema)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return str(path)


def _owned(settings: ServerSettings) -> list[Any]:
    demo, other = settings.accounts
    assert len(demo.owns) == 2 and len(other.owns) == 1
    return [*demo.owns, *other.owns]


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "minLength": 1, "maxLength": 16},
        {"type": "string", "format": "uuid"},
        {"type": "string", "enum": ["AMS", "RTM", "LHR", "FRA"]},
        {"type": "string", "pattern": "^[A-Z]{3}[0-9]$"},
        {"type": "string", "pattern": "^WH-[0-9]{4}$", "maxLength": 7},
        {"type": "integer", "minimum": 1000, "maximum": 1999},
        {"type": "integer", "minimum": 1},
    ],
)
def test_demo_values_validate_against_the_ownership_schema(tmp_path: Path, schema: dict[str, Any]) -> None:
    values = _owned(ServerSettings(spec_path=_variant(tmp_path, schema), db_path=":memory:"))
    checker = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    assert all(checker.is_valid(value) for value in values), values
    assert len({str(value) for value in values}) == 3, values
    if schema == {"type": "integer", "minimum": 1}:
        assert values == [7, 739283, 8]


def test_the_documented_demo_values_stay_for_the_packaged_specs() -> None:
    for spec in ("sendcloud-orders-v3.yaml", "karrio-batch-orders.yaml", None):
        settings = ServerSettings(spec_path=spec, db_path=":memory:")
        assert settings.accounts == DEMO_ACCOUNTS


def test_a_schema_with_no_three_values_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot derive demo values .*--config"):
        ServerSettings(
            spec_path=_variant(tmp_path, {"type": "string", "enum": ["A", "B"]}), db_path=":memory:"
        )


def test_configured_accounts_are_kept(tmp_path: Path) -> None:
    mine = (Account("me", "secret", ("X1",)),)
    settings = ServerSettings(spec_path=str(THIRD), accounts=mine, db_path=":memory:")
    assert settings.accounts == mine
