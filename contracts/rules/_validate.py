"""Judge raw HTTP replies against the spec itself: documented status, content type, body schema."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from ..strategies import SpecDocument
from ._http import Reply

__all__ = ["ResponseValidator"]


class ResponseValidator:
    """Validates replies of an operation (by ``operationId``) with jsonschema on the spec's schemas."""

    def __init__(self, spec: SpecDocument) -> None:
        self.spec = spec
        self._cache: dict[tuple[str, str], tuple[dict[str, Any], Draft202012Validator | None]] = {}

    def documented(self, operation_id: str) -> list[str]:
        _, _, op = self.spec.operation(operation_id)
        return sorted(str(code) for code in op.get("responses", {}))

    def _response(
        self, operation_id: str, status: int
    ) -> tuple[dict[str, Any], Draft202012Validator | None] | None:
        _, _, op = self.spec.operation(operation_id)
        responses = {str(k): v for k, v in op.get("responses", {}).items()}
        key = next((k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None)
        if key is None:
            return None
        if (operation_id, key) not in self._cache:
            response = self.spec.deref(responses[key])
            schema = (response.get("content") or {}).get("application/json", {}).get("schema")
            validator = None
            if schema is not None:
                validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
            self._cache[(operation_id, key)] = (response, validator)
        return self._cache[(operation_id, key)]

    def problems(self, operation_id: str, reply: Reply) -> list[str]:
        """What is wrong with ``reply`` for ``operation_id`` (empty when it matches the spec)."""
        found = self._response(operation_id, reply.status)
        if found is None:
            documented = ", ".join(self.documented(operation_id))
            return [f"status {reply.status} is not documented for {operation_id} (documented: {documented})"]
        response, validator = found
        content = response.get("content") or {}
        if not content:
            if reply.text.strip():
                return [f"{operation_id} {reply.status} should have no body, got {reply.describe(80)}"]
            return []
        ctype = reply.headers.get("content-type", "")
        problems = []
        if "application/json" in content and "json" not in ctype:
            problems.append(
                f"{operation_id} {reply.status}: Content-Type is {ctype!r}, expected application/json"
            )
        if not reply.is_json:
            return [*problems, f"{operation_id} {reply.status}: body is not JSON: {reply.describe(120)}"]
        if validator is not None:
            for error in sorted(validator.iter_errors(reply.data), key=lambda e: list(e.absolute_path))[:3]:
                where = "/" + "/".join(str(p) for p in error.absolute_path)
                problems.append(f"{operation_id} {reply.status} body at {where}: {error.message[:160]}")
        return problems

    def check_body(self, schema_name: str, value: Any) -> list[str]:
        validator = Draft202012Validator(self.spec.schema(schema_name))
        return [
            f"{'/' + '/'.join(str(p) for p in e.absolute_path)}: {e.message[:160]}"
            for e in validator.iter_errors(value)
        ][:3]
