"""Hostile strings in a spec yield code that compiles, imports and executes nothing extra.

Examples per run: env ORDERS_CONTRACT_PROFILE = ci (default in tests, 8) | dev (30) | deep (200).
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from codegen_support import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen import build_tree, parse_spec
from contracts._settings import examples_for_profile

EXAMPLES = examples_for_profile(ci=8, dev=30, deep=200)

FRAGMENTS = [
    '"""; import os; os._exit(3)  #',
    "'''; import os; os._exit(3)  #",
    '"',
    "'",
    "\\",
    "\\n",
    "\n",
    "\r\n",
    "{{ x }}",
    "{% raw %}",
    "${x}",
    "class",
    "None",
    "import",
    "lambda",
    "__import__('os')._exit(4)",
    "ünïcödé ✓ 名前",
    "\u2028",
    "\x0c",
    "#",
    "0day",
    "BaseModel",
    "Field",
    ".",
    "-",
]
# Lone surrogates cannot occur in a UTF-8 file; escapes of them are refused by the loader (tested below).
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=6)
hostile = st.lists(st.sampled_from(FRAGMENTS) | text, min_size=1, max_size=5).map("".join)


def _base() -> dict[str, Any]:
    import yaml

    document: dict[str, Any] = yaml.safe_load((FIXTURES / "messy_shop.yaml").read_text(encoding="utf-8"))
    document["openapi"] = "3.1.0"  # webhooks
    return document


BASE = _base()


def poisoned(
    title: str, description: str, op_id: str, enum_value: str, prop: str, summary: str
) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    doc["info"]["title"], doc["info"]["description"] = title, description
    get = doc["paths"]["/items"]["get"]
    get["operationId"], get["summary"] = op_id, summary
    get["parameters"].append(
        {"name": prop, "in": "query", "description": description, "schema": {"type": "string"}}
    )
    money = doc["components"]["schemas"]["money"]
    money["description"] = description
    money["properties"]["currency"]["enum"] = ["EUR", enum_value] if enum_value != "EUR" else ["EUR"]
    money["properties"][prop] = {"type": "string", "title": title, "description": description}
    doc["components"]["schemas"]["item"]["title"] = title
    # OpenAPI allows only [a-zA-Z0-9._-] in component names (others fail validation, tested below);
    # within that: leading digits, dots, keywords, names of imported classes ("BaseModel", "None")...
    name = re.sub(r"[^A-Za-z0-9._-]", "", prop) or "None"
    if name not in doc["components"]["schemas"]:
        doc["components"]["schemas"][name] = {"type": "object", "description": description}
        money["properties"]["extra"] = {"$ref": "#/components/schemas/" + name}
    # client options and warnings: a security scheme, a declared header parameter, a webhook
    scheme = re.sub(r"[^A-Za-z0-9._-]", "", title) or "scheme"
    doc["components"]["securitySchemes"] = {
        scheme: {
            "type": "apiKey",
            "in": "header",
            "name": prop or "X-Key",
            "description": f"{prop}: {description} k",
        }
    }
    doc["components"]["parameters"] = {
        "Hostile": {
            "name": f"X-{prop}",
            "in": "header",
            "description": description,
            "schema": {"type": "string"},
        }
    }
    get["parameters"].append({"$ref": "#/components/parameters/Hostile"})
    get["description"] = description
    doc["webhooks"] = {
        title or "hook": {"post": {"description": description, "responses": {"200": {"description": "ok"}}}}
    }
    return doc


def assert_inert(document: dict[str, Any], tmp: Path) -> None:
    import yaml

    spec = parse_spec(yaml.safe_dump(document, allow_unicode=True).encode("utf-8"), "hostile.yaml")
    tree = build_tree(spec, "hostile_pkg")  # renders, formats and compile()s every file
    out = tmp / uuid.uuid4().hex
    for rel, content in tree.files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(content, encoding="utf-8")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import hostile_pkg, hostile_pkg.client, hostile_pkg.models; "
        "c = hostile_pkg.OrdersClient if hasattr(hostile_pkg, 'OrdersClient') else hostile_pkg.PkgClient; "
        "print('IMPORTED-CLEANLY')"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code, str(out)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "IMPORTED-CLEANLY"  # nothing else ran (no output, no early exit)


def test_unpaired_surrogate_escapes_are_refused_by_the_loader() -> None:
    import pytest

    from codegen import SpecLoadError

    with pytest.raises(SpecLoadError, match="unpaired surrogate"):
        parse_spec(b'openapi: 3.1.0\ninfo: {title: "\\ud800", version: "1"}\npaths: {}\n', "s.yaml")


def test_a_hostile_component_name_fails_validation_closed() -> None:
    import pytest
    import yaml

    from codegen import SpecError

    doc = copy.deepcopy(BASE)
    doc["components"]["schemas"]['x"; import os'] = {"type": "object"}
    with pytest.raises(SpecError, match="does not match"):
        build_tree(parse_spec(yaml.safe_dump(doc).encode("utf-8"), "bad.yaml"), "bad_pkg")


def test_the_classic_docstring_breakout_is_inert(tmp_path: Path) -> None:
    payload = '"""; import os; os._exit(3)  #'
    assert_inert(poisoned(payload, payload, payload, payload, payload, payload), tmp_path)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(title=hostile, description=hostile, op_id=hostile, enum_value=hostile, prop=hostile, summary=hostile)
def test_hostile_strings_yield_inert_importable_code(
    tmp_path: Path, title: str, description: str, op_id: str, enum_value: str, prop: str, summary: str
) -> None:
    assert_inert(poisoned(title, description, op_id, enum_value, prop, summary), tmp_path)
