"""A fast yes/no check of a batch's items, so the detailed validator runs only for a batch it may reject.

``jsonschema_rs`` (compiled Rust) checks the items against a JSON Schema that is never looser than the
validator the server answers with:

- with the generated pydantic models, the schema is derived from the *models* (pydantic's own JSON Schema
  generator, extended): every constraint the models check appears in it, and where JSON Schema and strict
  JSON-mode pydantic differ the schema asks pydantic itself — an integer must not be a float (``1.0``),
  date-times pass a pattern of forms pydantic surely accepts (any other form is checked by pydantic), other
  dates, times, URLs, UUIDs, decimals and patterns with class escapes are checked by pydantic's validator of
  that one value (so is anything else JSON Schema cannot say: a custom validator, a set, ...), and the
  nesting depth of free-form and unknown members is bounded like pydantic's JSON parser bounds it (200
  levels).  A schema it cannot build (a recursive model) turns the fast check off: every batch then goes to
  pydantic, as before.
- with the spec's JSON Schema (no generated package), the schema is the spec's own, formats unchecked like
  the ``jsonschema`` validator the server uses then; a pattern with class escapes turns the check off.

``accepts(items)`` True means the detailed validator would find nothing; False means "ask it" (it usually
finds the errors; if it finds none the batch is valid).  Answers are therefore the detailed validator's by
construction whenever the fast schema is at least as strict; ``tests/server/test_server_fastcheck.py``
checks that both accept and reject the same batches.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema_rs
import orjson
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema, SchemaValidator

__all__ = ["Accepts", "from_json_schema", "from_models"]

log = logging.getLogger("contracts.server")
Accepts = Callable[[Any], bool]

MAX_DEPTH = 200  # pydantic's JSON parser refuses a document nested deeper than this
_LEAF, _INT, _ANY = "x-oc-leaf", "x-oc-int", "x-oc-any"
# A pattern is the same in every regex engine involved when it has no class escape (\d, \w, \s, \b, ...).
_PLAIN_PATTERN = re.compile(r"^(?:[^\\]|\\[.\-\\/^$\[\]{}()*+?|])*$")
# Date-times every pydantic datetime accepts: a real calendar day (29 February is left to pydantic), a time
# without a leap second, at most six decimals, and an explicit zone.  Anything else is asked of pydantic.
_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_SAFE_DATETIME = (
    "^(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-" + _DAY
    + "T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:[.][0-9]{1,6})?"
    + "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)  # fmt: skip
# Core schema types JSON Schema expresses as pydantic checks them (strict, JSON input).
_SAME = frozenset(
    {
        "any", "bool", "none", "str", "int", "float", "list", "dict", "model", "model-fields",
        "typed-dict", "nullable", "default", "definitions", "definition-ref", "union",
        "tagged-union", "literal", "enum",
    }
)  # fmt: skip
# Checked by pydantic's own validator of the one value (JSON Schema's formats differ in the details); so
# is every core schema type not in _SAME (custom validators, sets, tuples, ...).
_LEAVES = frozenset(
    {"datetime", "date", "time", "timedelta", "url", "multi-host-url", "uuid", "decimal", "complex", "bytes"}
)


class UnsupportedError(ValueError):
    """The models use something the fast schema cannot mirror exactly: no fast check."""


class _Mirror(GenerateJsonSchema):
    """pydantic's JSON Schema generator, made never looser than strict JSON-mode validation."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.leaves: list[SchemaValidator] = []

    def generate_inner(self, schema: Any) -> JsonSchemaValue:
        kind = schema.get("type") if isinstance(schema, Mapping) else None
        if kind == "datetime" and self._plain_datetime(schema):
            return {"type": "string", "pattern": _SAFE_DATETIME}  # no Python call per value
        if kind in _LEAVES or (kind == "str" and not self._plain_str(schema)):
            return self._leaf(schema)
        if kind in ("literal", "enum") and not all(isinstance(v, str) for v in self._values(schema)):
            return self._leaf(schema)
        if kind == "float" and schema.get("multiple_of") is not None:
            return self._leaf(schema)
        if kind is not None and kind not in _SAME and kind not in ("model-field", "typed-dict-field"):
            return self._leaf(schema)  # a custom validator (AnyUrl's wrapper), a set, ...: pydantic decides
        return super().generate_inner(schema)

    @staticmethod
    def _values(schema: Mapping[str, Any]) -> list[Any]:
        if schema["type"] == "literal":
            return list(schema["expected"])
        return [member.value for member in schema["members"]]

    @staticmethod
    def _plain_datetime(schema: Mapping[str, Any]) -> bool:
        """A datetime without bounds whose zone may be given (``AwareDatetime``, plain ``datetime``)."""
        constraints = ("le", "lt", "ge", "gt", "now_op", "now_utc_offset")
        return schema.get("tz_constraint") in (None, "aware") and not any(k in schema for k in constraints)

    @staticmethod
    def _plain_str(schema: Mapping[str, Any]) -> bool:
        if any(schema.get(k) for k in ("strip_whitespace", "to_lower", "to_upper", "coerce_numbers_to_str")):
            return False
        pattern = schema.get("pattern")
        return pattern is None or bool(_PLAIN_PATTERN.match(str(pattern)))

    def _leaf(self, schema: CoreSchema) -> JsonSchemaValue:
        self.leaves.append(SchemaValidator(schema))
        return {_LEAF: len(self.leaves) - 1}

    def int_schema(self, schema: Any) -> JsonSchemaValue:
        return {**super().int_schema(schema), _INT: True}

    def any_schema(self, schema: Any) -> JsonSchemaValue:
        return {_ANY: True}


def _ladder(depth: int) -> dict[str, Any]:
    """``$defs`` oc-depth-0..depth: oc-depth-N accepts any JSON value nested at most N containers deep."""
    defs: dict[str, Any] = {"oc-depth-0": {"type": ["string", "number", "boolean", "null"]}}
    for level in range(1, depth + 1):
        below = {"$ref": f"#/$defs/oc-depth-{level - 1}"}
        defs[f"oc-depth-{level}"] = {"items": below, "additionalProperties": below}
    return defs


def _bound_depth(root: dict[str, Any]) -> None:
    """Replace free-form values and open objects' unknown members by depth-bounded schemas (in place).

    A node reached at several depths gets the bound of the deepest; a recursive schema is unsupported."""
    defs: dict[str, Any] = root.setdefault("$defs", {})
    deepest: dict[int, int] = {}  # id(node) -> deepest prefix seen
    nodes: dict[int, dict[str, Any]] = {}

    def visit(node: Any, prefix: int, trail: frozenset[str]) -> None:
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.rsplit("/", 1)[-1]
            if name in trail:
                raise UnsupportedError(f"recursive schema {name!r}")
            visit(defs[name], prefix, trail | {name})
        if deepest.get(id(node), -1) >= prefix:
            return
        deepest[id(node)] = max(prefix, deepest.get(id(node), -1))
        nodes[id(node)] = node
        for key in ("anyOf", "oneOf", "allOf"):
            for part in node.get(key) or ():
                visit(part, prefix, trail)
        for key in ("items", "additionalProperties"):
            visit(node.get(key), prefix + 1, trail)
        for part in node.get("prefixItems") or ():
            visit(part, prefix + 1, trail)
        for part in (node.get("properties") or {}).values():
            visit(part, prefix + 1, trail)

    visit(root, 0, frozenset())
    for key, node in nodes.items():
        allowed = MAX_DEPTH - deepest[key]  # the value here may itself hold this many containers
        if allowed < 0:
            raise UnsupportedError("schema nests deeper than the parser allows")
        ladder = {"$ref": f"#/$defs/oc-depth-{allowed}"}
        if node.pop(_ANY, None):
            node.update(ladder)
        if node.get("type") == "object" and node.get("additionalProperties", True) is True:
            node["additionalProperties"] = {"$ref": f"#/$defs/oc-depth-{max(allowed - 1, 0)}"}
    defs.update(_ladder(MAX_DEPTH))


def _keywords(leaves: list[SchemaValidator]) -> dict[str, Any]:
    class Leaf:
        def __init__(self, parent: Any, value: int, path: Any) -> None:
            self.check = leaves[value]

        def validate(self, instance: Any) -> None:
            self.check.validate_json(orjson.dumps(instance), strict=True)  # raises when pydantic would

    class StrictInt:
        def __init__(self, parent: Any, value: Any, path: Any) -> None:
            pass

        def validate(self, instance: Any) -> None:
            if type(instance) is float:
                raise ValueError("a float is not an integer here")

    return {_LEAF: Leaf, _INT: StrictInt}


def from_models(adapter: TypeAdapter[Any]) -> Accepts | None:
    """The fast check mirroring ``adapter`` (a list of items), or None when it cannot mirror it exactly."""
    try:
        mirror: list[_Mirror] = []

        class Generator(_Mirror):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                mirror.append(self)

        schema = adapter.json_schema(mode="validation", schema_generator=Generator)
        _bound_depth(schema)
        validator = jsonschema_rs.Draft202012Validator(
            schema, keywords=_keywords(mirror[-1].leaves), validate_formats=False
        )
    except Exception as exc:  # noqa: BLE001 - any failure means: no fast path, pydantic decides alone
        log.info("fast batch check unavailable (%s): every batch is validated by pydantic", exc)
        return None
    return validator.is_valid


def _plain_patterns(node: Any) -> bool:
    if isinstance(node, Mapping):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and not _PLAIN_PATTERN.match(pattern):
            return False
        return all(_plain_patterns(value) for value in node.values())
    if isinstance(node, list):
        return all(_plain_patterns(value) for value in node)
    return True


def from_json_schema(document: Mapping[str, Any], items: Any) -> Accepts | None:
    """The fast check for the spec's own item schema ``items`` (refs into ``document``), or None."""
    root = {"type": "array", "items": items, "components": document.get("components") or {}}
    if not _plain_patterns(root):
        return None
    try:
        validator = jsonschema_rs.Draft202012Validator(root, validate_formats=False)
    except Exception as exc:  # noqa: BLE001 - e.g. a reference outside components: no fast path
        log.info("fast batch check unavailable (%s): every batch is validated by jsonschema", exc)
        return None
    return validator.is_valid
