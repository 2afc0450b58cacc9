"""Stage 1b: rewrite constructs real vendor specs contain so generators honour them.

Every rewrite reports a warning-level Finding located at the node it changed. The rewrites, in order:

1. ``canonical-order``  mapping keys sorted: dict order in the input never changes the output (silent).
2. ``nullable``  OpenAPI 3.0 ``nullable: true`` in a 3.1 file → ``type: [T, "null"]``, or
   ``anyOf: [<schema>, {type: "null"}]`` when there is no ``type`` or an ``enum`` (``None`` inside an
   enum would become an odd enum member).
3. ``alias-schema``  a component schema that is only ``$ref: X`` is removed; references go to X.
4. ``required-beside-ref``  ``required`` beside a single-``$ref`` ``oneOf``/``anyOf``/``allOf`` → the
   target's properties with the union of both ``required`` lists (a component keeps its name; inline nodes
   share a hoisted ``<Target>Required`` component).
5. ``single-variant``  ``oneOf``/``anyOf`` with one element → that element (``$ref`` with siblings).
6. ``type-beside-ref``  ``type`` beside ``$ref``: ``[..., "null"]`` → ``anyOf: [$ref, null]``; else dropped.
7. ``allof-override``  ``allOf: [$ref X, {properties: ...}]`` whose inline part redefines a property of X,
   or makes one of X's optional properties required → one flattened object (X's properties overridden by
   the inline ones; required lists united). Generators otherwise emit a subclass that redefines a field's
   type (or re-declares it with another name for the same type), which mypy rejects.
8. ``email-format``  ``format: email`` dropped (pydantic's EmailStr needs email-validator, which the
   generated package must not depend on).
9. ``duplicate-title``  a ``title`` used by more than one schema is kept on the first (pointer order) only.
Then ``_hoist`` names every inline operation schema and renames components to class names.
"""

from __future__ import annotations

import copy
from typing import Any

from ._findings import Finding, join, warning
from ._hoist import hoist_and_rename, redirect_refs, schema_ref
from ._load import resolve_ref
from ._walk import canonical, iter_schemas

__all__ = ["REWRITES", "normalise"]

REWRITES = (
    "nullable",
    "alias-schema",
    "required-beside-ref",
    "single-variant",
    "type-beside-ref",
    "allof-override",
    "email-format",
    "duplicate-title",
    "hoist-inline",
    "class-name",
)
_ANNOTATIONS = (
    "description",
    "title",
    "example",
    "examples",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
)
_COMBINERS = ("oneOf", "anyOf", "allOf")
_MAX_PASSES = 8


def _shallow(node: dict[str, Any]) -> dict[str, Any]:
    """Sorted keys, same child objects (so nodes collected by a walk stay attached to the tree)."""
    return {key: node[key] for key in sorted(node)}


def _nullable(document: dict[str, Any]) -> list[Finding]:
    if not str(document.get("openapi", "")).startswith("3.1"):
        return []  # 3.0 files: `nullable` is valid there and datamodel-code-generator reads it
    findings = []
    for where, node in list(iter_schemas(document)):
        if "nullable" not in node:
            continue
        flag = node.pop("nullable")
        loc = join(where, "nullable")
        if flag is not True:
            findings.append(warning(loc, "dropped `nullable: false` (OpenAPI 3.0 keyword)", flag, "nullable"))
            continue
        if "type" in node and "enum" not in node:
            types = node["type"] if isinstance(node["type"], list) else [node["type"]]
            node["type"] = [*types, "null"] if "null" not in types else types
            how = f"type: {node['type']}"
        else:
            inner = {k: v for k, v in node.items() if k not in _ANNOTATIONS}
            keep = {k: v for k, v in node.items() if k in _ANNOTATIONS}
            node.clear()
            node.update(_shallow({**keep, "anyOf": [inner, {"type": "null"}]}))
            how = "anyOf: [<schema>, {type: null}]"
        findings.append(
            warning(loc, f"OpenAPI 3.0 `nullable: true` in a 3.1 spec rewritten as {how}", flag, "nullable")
        )
    return findings


def _aliases(document: dict[str, Any]) -> list[Finding]:
    schemas = document.get("components", {}).get("schemas", {})
    findings = []
    for name in sorted(schemas):
        node = schemas[name]
        if isinstance(node, dict) and set(node) == {"$ref"} and node["$ref"] != schema_ref(name):
            target = node["$ref"]
            del schemas[name]
            redirect_refs(document, {schema_ref(name): target})
            where = join("", "components", "schemas", name)
            findings.append(
                warning(where, f"alias schema removed; references now use {target}", node, "alias-schema")
            )
    return findings


def _single_ref(node: dict[str, Any]) -> tuple[str, str] | None:
    for key in _COMBINERS:
        value = node.get(key)
        if (
            isinstance(value, list)
            and len(value) == 1
            and isinstance(value[0], dict)
            and set(value[0]) == {"$ref"}
        ):
            if not any(k in node for k in _COMBINERS if k != key):
                return key, value[0]["$ref"]
    return None


def _required_beside_ref(document: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    shared: dict[tuple[str, tuple[str, ...]], str] = {}
    for where, node in list(iter_schemas(document)):
        found = _single_ref(node)
        if found is None or not isinstance(node.get("required"), list):
            continue
        key, ref = found
        target = resolve_ref(document, ref)
        if not isinstance(target, dict) or not isinstance(target.get("properties"), dict):
            continue  # nothing to merge into; datamodel-code-generator keeps the reference
        required = list(dict.fromkeys([*target.get("required", []), *node["required"]]))
        merged = copy.deepcopy({k: v for k, v in target.items() if k != "title"})
        merged["required"] = required
        keep = {k: v for k, v in node.items() if k in _ANNOTATIONS and k != "title"}
        component = where.startswith("/components/schemas/") and where.count("/") == 3
        if component:
            replacement = {**merged, **keep}
            how = "merged the referenced schema with the union of both `required` lists"
        else:
            target_name = ref.rsplit("/", 1)[-1]
            sig = (ref, tuple(sorted(required)))
            if sig not in shared:
                name = f"{target_name}-required"
                while name in schemas:
                    name += "-x"
                shared[sig] = name
                schemas[name] = canonical(merged)
            replacement = {**keep, "$ref": schema_ref(shared[sig])}
            how = f"now references {schema_ref(shared[sig])} (the target with `required` {required})"
        node.clear()
        node.update(_shallow(replacement))
        message = f"`required` beside a single-$ref `{key}` is ignored by generators; {how}"
        findings.append(
            warning(where, message, {key: [{"$ref": ref}], "required": required}, "required-beside-ref")
        )
    return findings


def _single_variant(document: dict[str, Any]) -> list[Finding]:
    findings = []
    for where, node in list(iter_schemas(document)):
        for key in ("oneOf", "anyOf"):
            value = node.get(key)
            if not (isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict)):
                continue
            only = value[0]
            rest = {k: v for k, v in node.items() if k != key}
            if set(rest) & set(only) - set(_ANNOTATIONS):
                continue  # conflicting keywords: leave it to the generator rather than guess
            node.clear()
            node.update(_shallow({**only, **rest}))
            findings.append(
                warning(
                    join(where, key),
                    f"single-element `{key}` replaced by its element",
                    only,
                    "single-variant",
                )
            )
    return findings


def _type_beside_ref(document: dict[str, Any]) -> list[Finding]:
    findings = []
    for where, node in list(iter_schemas(document)):
        if "$ref" not in node or "type" not in node:
            continue
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        keep = {k: v for k, v in node.items() if k in _ANNOTATIONS and k != "title"}
        original = dict(node)
        node.clear()
        if "null" in types:
            node.update(_shallow({**keep, "anyOf": [{"$ref": original["$ref"]}, {"type": "null"}]}))
            how = "rewritten as anyOf: [$ref, {type: null}]"
        else:
            node.update(_shallow({**keep, "$ref": original["$ref"]}))
            how = "`type` dropped (the referenced schema defines it)"
        findings.append(
            warning(join(where, "type"), f"`type` {types} beside `$ref`: {how}", original, "type-beside-ref")
        )
    return findings


def _allof_override(document: dict[str, Any]) -> list[Finding]:
    findings = []
    for where, node in list(iter_schemas(document)):
        parts = node.get("allOf")
        if not isinstance(parts, list) or len(parts) < 2 or any(not isinstance(p, dict) for p in parts):
            continue
        refs = [p for p in parts if set(p) == {"$ref"}]
        inline = [p for p in parts if "$ref" not in p]
        if len(refs) != 1 or len(inline) != len(parts) - 1:
            continue
        target = resolve_ref(document, refs[0]["$ref"])
        if not isinstance(target, dict) or not isinstance(target.get("properties"), dict):
            continue
        base_props = target["properties"]
        overridden = sorted({k for p in inline for k in (p.get("properties") or {}) if k in base_props})
        base_required = set(target.get("required") or [])
        tightened = sorted(
            {
                k
                for p in inline
                for k in (p.get("required") or [])
                if k in base_props and k not in base_required
            }
        )
        if not (overridden or tightened):
            continue
        if any(set(p) - {"type", "properties", "required", *_ANNOTATIONS} for p in inline):
            continue
        properties = copy.deepcopy(base_props)
        required = list(target.get("required", []))
        for part in inline:
            properties.update(copy.deepcopy(part.get("properties") or {}))
            required += [r for r in part.get("required", []) if r not in required]
        flat: dict[str, Any] = {
            k: v for k, v in target.items() if k not in ("properties", "required", "title")
        }
        flat.update({k: v for k, v in node.items() if k != "allOf"})
        flat.update(type="object", properties=properties)
        if required:
            flat["required"] = required
        node.clear()
        node.update(_shallow(flat))
        what = f"redefines {overridden}" if overridden else f"makes {tightened} required"
        message = f"allOf {what} of {refs[0]['$ref']}: flattened into one object (inline part wins)"
        findings.append(warning(join(where, "allOf"), message, parts, "allof-override"))
    return findings


def _email_format(document: dict[str, Any]) -> list[Finding]:
    findings = []
    for where, node in list(iter_schemas(document)):
        if node.get("format") in ("email", "idn-email"):
            fmt = node.pop("format")
            message = f"`format: {fmt}` dropped: EmailStr would need the email-validator package"
            findings.append(warning(join(where, "format"), message, fmt, "email-format"))
    return findings


def _duplicate_titles(document: dict[str, Any]) -> list[Finding]:
    seen: dict[str, str] = {}
    findings = []
    for where, node in sorted(iter_schemas(document), key=lambda item: item[0]):
        title = node.get("title")
        if not isinstance(title, str):
            continue
        if title in seen:
            del node["title"]
            message = (
                f"duplicate title {title!r} (first used at {seen[title]}) dropped so no two classes collide"
            )
            findings.append(warning(join(where, "title"), message, title, "duplicate-title"))
        else:
            seen[title] = where
    return findings


def normalise(document: dict[str, Any]) -> tuple[dict[str, Any], list[Finding]]:
    """Return a rewritten deep copy of a *valid* spec and one finding per rewrite (input untouched)."""
    doc: dict[str, Any] = canonical(document)
    findings: list[Finding] = []
    for rewrite in (
        _nullable,
        _aliases,
        _required_beside_ref,
        _single_variant,
        _type_beside_ref,
        _allof_override,
        _email_format,
        _duplicate_titles,
    ):
        for _ in range(_MAX_PASSES):  # a rewrite can expose another instance (nested nodes): repeat
            found = rewrite(doc)
            findings.extend(found)
            if not found:
                break
    findings.extend(hoist_and_rename(doc))
    return canonical(doc), findings
