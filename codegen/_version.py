"""Generator version: part of every generated file's header (bump when the output changes)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["GENERATOR_VERSION", "dmcg_version"]

GENERATOR_VERSION = "0.1.0"


def dmcg_version() -> str:
    try:
        return version("datamodel-code-generator")
    except PackageNotFoundError:  # pragma: no cover - it is a hard dependency
        return "unknown"
