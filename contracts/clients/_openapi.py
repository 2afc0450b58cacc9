"""openapi-core as a source of findings: parameters, request bodies and responses against the spec."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from openapi_core.datatypes import RequestParameters
from openapi_core.validation.request.exceptions import (
    InvalidRequestBody,
    MissingRequestBodyError,
    ParameterValidationError,
)
from openapi_core.validation.request.validators import V31RequestBodyValidator, V31RequestParametersValidator
from openapi_core.validation.response.validators import V31ResponseValidator
from werkzeug.datastructures import Headers, ImmutableMultiDict

from contracts.contract import split_pointer

from ._rules import Finding
from ._spec import ClientSpec

__all__ = ["SpecRequest", "SpecResponse", "SpecValidators"]


@dataclass
class SpecRequest:
    """A request in the shape openapi-core reads (its `Request` protocol), addressed to the spec's server."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters = field(default_factory=RequestParameters)

    @classmethod
    def build(
        cls,
        spec: ClientSpec,
        method: str,
        spec_path: str,
        query: list[tuple[str, str]],
        headers: Headers,
        body: bytes,
        content_type: str,
    ) -> SpecRequest:
        params = RequestParameters(
            query=ImmutableMultiDict(query), header=headers, cookie=ImmutableMultiDict()
        )
        return cls(spec.host_url, spec.base_path + spec_path, method.lower(), body, content_type, params)


@dataclass
class SpecResponse:
    status_code: int
    headers: Headers
    content_type: str
    data: bytes | None


SchemaError = Any  # jsonschema.exceptions.ValidationError (no stubs installed): read by attribute


def _is_schema_error(error: object) -> bool:
    return hasattr(error, "absolute_path") and hasattr(error, "validator") and hasattr(error, "message")


def _sort_key(error: SchemaError) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, p) if isinstance(p, int) else (1, str(p)) for p in error.absolute_path)


def _error_path(error: SchemaError) -> list[int | str]:
    path: list[int | str] = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance]
        if missing:
            path.append(str(missing[0]))
    return path


def _refine(error: SchemaError) -> SchemaError:
    for _ in range(8):  # nested unions: descend to the most specific branch error (deepest path)
        if error.validator not in ("oneOf", "anyOf") or not error.context:
            break
        error = max(error.context, key=lambda e: len(list(e.absolute_path)))
    return error


class SpecValidators:
    """The openapi-core validators for one spec, built once and reused for every request."""

    def __init__(self, spec: ClientSpec) -> None:
        self.spec = spec
        self._params = V31RequestParametersValidator(spec.api.spec)
        self._body = V31RequestBodyValidator(spec.api.spec)
        self._response = V31ResponseValidator(spec.api.spec)

    def parameter_findings(self, request: SpecRequest) -> list[Finding]:
        findings = []
        for exc in self._params.iter_errors(request):
            if not isinstance(exc, ParameterValidationError):
                continue
            where = exc.location
            cause = exc.__cause__
            detail = str(cause) if cause is not None else str(exc)
            errors = list(getattr(cause, "schema_errors", []) or [])
            if errors:
                detail = "; ".join(e.message for e in errors[:3])
            if where == "query":
                rule = "client.query_params"
            elif where == "path":
                rule = "client.id_string"  # the path parameters of this family name stored items
            else:
                rule = "client.request_schema"
            message = f"{where} parameter {exc.name!r}: {detail}"
            findings.append(Finding(rule, message[:300], None, f"{where}:{exc.name}"))
        return findings

    def body_findings(self, request: SpecRequest, *, batch: bool) -> list[Finding]:
        """Schema problems of the body, first one by document order, with the count of the rest.

        Batch size, date-time formats and order ids are left to their own rules."""
        for exc in self._body.iter_errors(request):
            if isinstance(exc, MissingRequestBodyError):
                return []
            if not isinstance(exc, InvalidRequestBody):
                cause = exc.__cause__ or exc
                return [Finding("client.content_type", f"body cannot be read as JSON: {cause}"[:300])]
            errors = [e for e in getattr(exc.__cause__, "schema_errors", []) or [] if _is_schema_error(e)]
            kept = [e for e in map(_refine, errors) if not self._left_to_other_rules(e, batch)]
            if not kept:
                return []
            kept.sort(key=_sort_key)
            first = kept[0]
            more = f" (and {len(kept) - 1} more problems)" if len(kept) > 1 else ""
            path = tuple(_error_path(first))
            pointer = self.spec.body_pointer(path, batch=batch)
            prefix = self.spec.message_prefix(path, batch=batch)
            return [Finding("client.request_schema", f"{prefix}{first.message[:240]}{more}", pointer)]
        return []

    def _left_to_other_rules(self, error: SchemaError, batch: bool) -> bool:
        path = tuple(error.absolute_path)
        items = self.spec.batch.items_tokens
        if batch and tuple(map(str, path)) == items and error.validator in ("minItems", "maxItems"):
            return True  # client.batch_size
        if error.validator == "format" and error.validator_value == "date-time":
            return True  # client.timestamps
        explicit_id = self.spec.contract.key.explicit_id
        if explicit_id is None:
            return False
        if batch:
            located = self.spec.item_path(path)
            if located is None:
                return False
            path = located[1]
        return tuple(map(str, path)) == split_pointer(explicit_id)  # client.id_string

    def response_findings(self, request: SpecRequest, response: SpecResponse) -> list[Finding]:
        findings = []
        for exc in self._response.iter_errors(request, response):
            cause = exc.__cause__
            errors: Iterable[Any] = getattr(cause, "schema_errors", None) or []
            schema_errors = sorted((e for e in errors if _is_schema_error(e)), key=_sort_key)
            if schema_errors:
                first = _refine(schema_errors[0])
                pointer = self.spec.body_pointer(tuple(_error_path(first)), batch=False)
                more = f" (and {len(schema_errors) - 1} more problems)" if len(schema_errors) > 1 else ""
                message = f"{response.status_code} response: {first.message[:240]}{more}"
                findings.append(Finding("server.response_schema", message, pointer, "response"))
            else:
                detail = f"{exc}: {cause}" if cause is not None else str(exc)
                findings.append(
                    Finding(
                        "server.response_schema",
                        f"{response.status_code} response: {detail}"[:300],
                        None,
                        "response",
                    )
                )
        return findings
