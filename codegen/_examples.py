"""Spec examples that fail their own schema (JSON Schema 2020-12 with local $ref resolution)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from ._findings import Finding, error, join
from ._load import resolve_ref
from ._walk import iter_operations

__all__ = ["check_examples", "iter_examples"]

_ROOT = "urn:spec"


def _media_examples(media: dict[str, Any], where: str) -> Iterator[tuple[str, str, Any]]:
    if not isinstance(media.get("schema"), dict):
        return
    schema = join(where, "schema")
    if "example" in media:
        yield join(where, "example"), schema, media["example"]
    for name, example in sorted((media.get("examples") or {}).items()):
        if isinstance(example, dict) and "value" in example:
            yield join(where, "examples", name, "value"), schema, example["value"]


def iter_examples(document: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(location, schema pointer, example value) for every request/response example of every operation."""
    for path, method, _item, op in iter_operations(document):
        base = join("", "paths", path, method)
        containers: list[tuple[str, Any]] = [(join(base, "requestBody"), op.get("requestBody"))]
        for status, response in sorted((op.get("responses") or {}).items()):
            containers.append((join(base, "responses", str(status)), response))
        for where, container in containers:
            if isinstance(container, dict) and isinstance(container.get("$ref"), str):
                ref = container["$ref"]
                where = ref[1:] if ref.startswith("#/") else where
                container = _resolve(document, ref)
            for media_type, media in sorted(((container or {}).get("content") or {}).items()):
                if isinstance(media, dict):
                    yield from _media_examples(media, join(where, "content", media_type))


def _resolve(document: dict[str, Any], ref: str) -> Any:
    try:
        return resolve_ref(document, ref)
    except KeyError:
        return None


def check_examples(document: dict[str, Any]) -> list[Finding]:
    """An error-level finding for every example that its own schema rejects (first problem per example)."""
    registry: Registry[Any] = Registry().with_resource(_ROOT, DRAFT202012.create_resource(document))
    findings = []
    for where, schema, value in iter_examples(document):
        wrapped = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": _ROOT + "#" + schema}
        validator = jsonschema.Draft202012Validator(wrapped, registry=registry)
        problems = sorted(
            validator.iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.message)
        )
        if problems:
            first = problems[0]
            inside = "".join("/" + str(p) for p in first.absolute_path)
            findings.append(
                error(
                    where + inside,
                    f"example fails its own schema: {first.message}",
                    first.instance,
                    "example",
                )
            )
    return findings
