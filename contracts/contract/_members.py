"""Lint of the ``x-contract`` pointers against the schemas they point into: the batch's list in the request
body, the key, ownership and error members in one item, the results, error list and stored item in the
answers.  A pointer that names nothing there (``batch.items: /nope``) would otherwise pass the lint and make
the server refuse every batch, or answer in a shape the spec does not describe.

Only what is certainly wrong is a finding: a member that a schema with declared ``properties`` does not have
(and no ``additionalProperties``/``patternProperties`` schema could hold), a member inside a value that is not
an object, or a list member whose schema is not an array.  A free-form schema (no type, no properties) can
hold anything, so a pointer into it is accepted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._pointer import deref, split_pointer

__all__ = ["member_findings"]

_JSON = ("application/json",)
_MAX_REFS = 64
_FREE = object()  # a free-form schema: any member may be there


def _deref(document: Mapping[str, Any], node: Any) -> Any:
    """``deref``, where a reference outside the document or to nothing in it can hold anything."""
    try:
        return deref(document, node, _FREE, depth=_MAX_REFS)
    except ValueError:  # not a pointer into this document (another file): not ours to judge
        return _FREE


def _branches(document: Mapping[str, Any], node: Any) -> Iterator[Any]:
    """The node and every schema it combines (allOf / anyOf / oneOf), dereferenced."""
    node = _deref(document, node)
    yield node
    if isinstance(node, Mapping):
        for key in ("allOf", "anyOf", "oneOf"):
            for part in node.get(key) or ():
                yield from _branches(document, part)


def _child(document: Mapping[str, Any], node: Any, token: str) -> Any | None:
    """The schema of ``token`` inside ``node``: a schema, _FREE, or None when it certainly cannot be there."""
    declared = False
    for branch in _branches(document, node):
        if branch is _FREE or not isinstance(branch, Mapping):
            return _FREE
        properties = branch.get("properties")
        if isinstance(properties, Mapping) and token in properties:
            return properties[token]
        if token.isdigit() and ("items" in branch or branch.get("type") == "array"):
            return branch.get("items", _FREE)
        extra = branch.get("additionalProperties")
        if isinstance(extra, Mapping) or branch.get("patternProperties"):
            return extra if isinstance(extra, Mapping) else _FREE
        kind = branch.get("type")
        declared = declared or bool(properties) or (kind is not None and kind != "object")
    return None if declared else _FREE


def _at(document: Mapping[str, Any], schema: Any, pointer: str) -> tuple[Any, str | None]:
    """(schema at ``pointer``, None) or (None, why it cannot be there)."""
    node = schema
    walked = ""
    for token in split_pointer(pointer):
        found = _child(document, node, token)
        if found is None:
            return None, f"{walked or 'the value'} has no member {token!r} in the schema"
        walked += "/" + token
        node = found
    return node, None


def _is_list(document: Mapping[str, Any], node: Any) -> bool:
    for branch in _branches(document, node):
        if branch is _FREE or not isinstance(branch, Mapping):
            return True
        if branch.get("type") == "array" or "items" in branch:
            return True
        if branch.get("type") is not None or branch.get("properties"):
            continue
        if not any(key in branch for key in ("allOf", "anyOf", "oneOf")):
            return True  # free-form
    return False


def _json_schema(document: Mapping[str, Any], node: Any) -> Any:
    """The JSON schema of a request body or response object (``$ref`` followed), or None."""
    found = _deref(document, node)
    content = found.get("content") if isinstance(found, Mapping) else None
    if not isinstance(content, Mapping):
        return None
    for media, entry in content.items():
        if (media in _JSON or str(media).endswith("+json")) and isinstance(entry, Mapping):
            return entry.get("schema")
    return None


def _response(node: Mapping[str, Any], document: Mapping[str, Any], wanted: str) -> Any:
    """The JSON schema of the first response whose status starts with ``wanted`` ("2" or "4")."""
    for status, response in sorted((node.get("responses") or {}).items(), key=lambda pair: str(pair[0])):
        if str(status).startswith(wanted):
            schema = _json_schema(document, response)
            if schema is not None:
                return schema
    return None


def member_findings(
    document: Mapping[str, Any],
    block: Mapping[str, Any],
    operations: Mapping[str, tuple[str, str, Mapping[str, Any]]],
    at: str,
) -> list[tuple[str, str]]:
    """(location in the block, message) for every pointer that cannot name what it says."""
    findings: list[tuple[str, str]] = []

    def check(schema: Any, pointer: Any, where: str, *, listing: bool = False) -> Any:
        if schema is None or not isinstance(pointer, str):
            return None
        found, why = _at(document, schema, pointer)
        if why is not None:
            findings.append((f"{at}/{where}", why))
            return None
        if listing and not _is_list(document, found):
            findings.append((f"{at}/{where}", f"{pointer or 'the whole value'} is not a list in the schema"))
            return None
        return found

    def operation(role: str) -> Mapping[str, Any] | None:
        found = operations.get(str(block["operations"].get(role, "")))
        return found[2] if found else None

    write = operation("batch_write")
    if write is not None:
        body = _json_schema(document, write.get("requestBody"))
        listed = _deref(document, check(body, block["batch"]["items"], "batch/items", listing=True))
        item = listed.get("items") if isinstance(listed, Mapping) else None
        key = block["key"]
        for name in ("members", "immutable"):
            for position, member in enumerate(key.get(name) or ()):
                check(item, member, f"key/{name}/{position}")
        check(item, key.get("explicit_id"), "key/explicit_id")
        check(item, (block.get("ownership") or {}).get("member"), "ownership/member")
        processing = block["processing"]
        if processing["mode"] == "synchronous":
            results = processing.get("results")
            check(_response(write, document, "2"), results, "processing/results", listing=True)
        check(_response(write, document, "4"), block["errors"]["list"], "errors/list", listing=True)
    reading = operation("read_one")
    if reading is not None:
        check(_response(reading, document, "2"), block["resource"]["item"], "resource/item")
    listing_op = operation("list")
    if listing_op is not None and "list" in block:
        page = _response(listing_op, document, "2")
        listed = _deref(document, check(page, block["list"].get("results"), "list/results", listing=True))
        stored = listed.get("items") if isinstance(listed, Mapping) else None
        for name, member in (block["list"].get("filters") or {}).items():  # members of a stored item
            check(stored, member, f"list/filters/{name}")
    return findings
