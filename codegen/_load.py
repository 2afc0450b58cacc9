"""Stage 1a: read a spec file and validate it (openapi-spec-validator + local $ref check)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ._findings import Finding, error, join, pointer

__all__ = [
    "LoadedSpec",
    "SpecLoadError",
    "iter_refs",
    "load_spec",
    "parse_spec",
    "quick_validate",
    "resolve_ref",
    "validate",
]


# libyaml's loader (~15x faster than the pure-Python one on our specs) when PyYAML was built with it.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SpecLoadError(Exception):
    """The spec file cannot be read or parsed at all (one line, no traceback)."""


@dataclass(frozen=True)
class LoadedSpec:
    name: str  # file name only: paths never leak into generated code
    raw: bytes
    document: dict[str, Any]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def parse_spec(raw: bytes, name: str) -> LoadedSpec:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecLoadError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        document = _yaml_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise SpecLoadError(f"{name}: invalid YAML/JSON{where}: {problem}") from None
    if not isinstance(document, dict):
        raise SpecLoadError(f"{name}: expected a mapping at the top level, got {type(document).__name__}")
    try:
        json.dumps(document, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        raise SpecLoadError(
            f"{name}: contains an unpaired surrogate escape (e.g. \\ud800); not valid Unicode"
        ) from None
    if not isinstance(document.get("openapi"), str):
        raise SpecLoadError(f"{name}: not an OpenAPI 3 document (no 'openapi: 3.x' version key)")
    return LoadedSpec(name=name, raw=raw, document=document)


def _yaml_load(text: str) -> Any:
    """YAML through libyaml; a text libyaml refuses is read again by the pure-Python loader, which
    accepts or refuses it exactly as before (and words its errors as before: positions, problems)."""
    try:
        return yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        if _FAST_LOADER is yaml.SafeLoader:
            raise
    return yaml.safe_load(text)


def load_spec(path: Path) -> LoadedSpec:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecLoadError(f"{path}: no such file; pass the path of an OpenAPI YAML/JSON file") from None
    except IsADirectoryError:
        raise SpecLoadError(f"{path}: is a directory; pass the path of an OpenAPI YAML/JSON file") from None
    except OSError as exc:
        raise SpecLoadError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_spec(raw, path.name)


def iter_refs(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Yield (location, ref) for every `$ref` string in the document, in document order."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield where, ref
        for key, value in node.items():
            yield from iter_refs(value, join(where, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from iter_refs(value, join(where, index))


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def resolve_ref(document: dict[str, Any], ref: str) -> Any:
    """Resolve a local `#/...` reference; raise KeyError if it points nowhere."""
    if not ref.startswith("#"):
        raise KeyError(ref)
    node: Any = document
    for token in ref[1:].split("/")[1:] if ref != "#" else []:
        key = _unescape(token)
        if isinstance(node, list) and key.isascii() and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            raise KeyError(ref)
    return node


def _check_refs(document: dict[str, Any]) -> list[Finding]:
    findings = []
    for where, ref in iter_refs(document):
        if not ref.startswith("#/"):
            findings.append(
                error(where, f"external reference {ref!r} is not supported; inline it", ref, "ref")
            )
            continue
        try:
            resolve_ref(document, ref)
        except KeyError:
            findings.append(error(where, f"$ref {ref!r} points to nothing in this document", ref, "ref"))
    return findings


def quick_validate(document: dict[str, Any]) -> list[Finding] | None:
    """`validate`'s answer when it needs no openapi-spec-validator (milliseconds), else None."""
    findings = _check_refs(document)
    if findings:  # the validator itself crashes on dangling references
        return findings
    version = str(document.get("openapi", ""))
    if not version.startswith(("3.0", "3.1")):
        return [error("/openapi", f"unsupported OpenAPI version {version!r}; use 3.0.x or 3.1.x", version)]
    from ._verify import proves_valid

    return [] if proves_valid(document) else None  # sure openapi-spec-validator finds nothing


def validate(document: dict[str, Any]) -> list[Finding]:
    """Structural validation. Every problem is an error-level finding with a JSON pointer."""
    quick = quick_validate(document)
    if quick is not None:
        return quick
    version = str(document.get("openapi", ""))
    findings: list[Finding] = []
    from openapi_spec_validator import OpenAPIV30SpecValidator  # slow import

    from ._validate import FastOpenAPIV31SpecValidator

    validator_cls = FastOpenAPIV31SpecValidator if version.startswith("3.1") else OpenAPIV30SpecValidator
    try:
        for exc in validator_cls(document).iter_errors():
            path = [str(p) for p in getattr(exc, "path", ())]
            message = str(getattr(exc, "message", exc)).splitlines()[0]
            findings.append(error(pointer(*path), message, _node_at(document, path), rule="openapi-schema"))
    except Exception as exc:  # the validator has crashed on malformed specs before; fail closed
        findings.append(
            error("", f"spec validator failed: {type(exc).__name__}: {exc}", rule="openapi-schema")
        )
    return sorted(set(findings))


def _node_at(document: Any, path: list[str]) -> Any:
    node = document
    for key in path:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isascii() and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node
