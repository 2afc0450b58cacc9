"""Validation of an ``x-contract`` block against the published vocabulary (spec/x-contract.schema.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ._pointer import join_pointer

__all__ = ["BLOCK_POINTER", "ContractFinding", "vocabulary_schema", "validate_block"]

BLOCK_POINTER = "/x-contract"


@dataclass(frozen=True)
class ContractFinding:
    """One problem with the spec's contract: where (a JSON pointer into the spec) and what."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


@cache
def vocabulary_schema() -> dict[str, Any]:
    """The JSON Schema of the ``x-contract`` vocabulary, shipped with the package."""
    text = resources.files(__package__).joinpath("specs", "x-contract.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _accepts() -> Any:
    """jsonschema_rs's yes/no check of the vocabulary (compiled Rust: ~1 ms where the Python validator takes
    40-50 ms); only a block it refuses is walked by ``jsonschema`` for located messages."""
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(vocabulary_schema(), validate_formats=False).is_valid


def validate_block(block: Any) -> list[ContractFinding]:
    """Every place where ``block`` breaks the vocabulary, sorted by location (deepest message first)."""
    return [] if _accepts()(block) else located_findings(block)


def located_findings(block: Any) -> list[ContractFinding]:
    """``validate_block`` by the Python validator alone (the located messages)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(vocabulary_schema())
    findings = []
    for error in validator.iter_errors(block):
        where = BLOCK_POINTER + join_pointer(error.absolute_path)
        findings.append(ContractFinding(where, _message(error)))
    return sorted(set(findings), key=lambda f: (f.pointer, f.message))


def _message(error: Any) -> str:
    if error.validator == "additionalProperties":
        return f"{error.message}; see docs/x-contract.md for the members allowed here"
    if error.validator == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(repr, error.validator_value))}"
    return str(error.message)
