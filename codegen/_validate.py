"""openapi-spec-validator for OpenAPI 3.1, its slowest step answered first by jsonschema_rs.

openapi-spec-validator checks each schema of a 3.1 spec against the OAS 3.1 dialect's meta-schema with
the pure-Python ``jsonschema`` (about 80 % of its time on our specs, ~0.5 s with a profiler). Here
jsonschema_rs first checks the same schema against the same meta-schema (the same resources, and the
same format checks: ``regex`` by openapi-schema-validator's own function, the formats it does not check
accepted): a schema jsonschema_rs accepts is not checked again; one it refuses, or cannot read (e.g. a
key that is not a string), goes to the Python check, which reports exactly what it always did. Every
other check (the document against the OpenAPI schema, operation ids, path parameters, defaults, ...) is
openapi-spec-validator's own. So the findings are the same as long as jsonschema_rs accepts no schema
the Python check refuses: ``tests/codegen/test_codegen_validate.py`` checks that on hand-picked and on
generated schemas. Uses two private methods of openapi-spec-validator 0.8 (pinned in pyproject).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema_rs
from openapi_schema_validator import OAS31_BASE_DIALECT_ID
from openapi_schema_validator._format import is_regex
from openapi_schema_validator._specifications import REGISTRY
from openapi_schema_validator.validators import OAS31Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from openapi_spec_validator.validation import keywords

__all__ = ["FastOpenAPIV31SpecValidator", "meta_schema_accepts"]

_UNCHECKED_FORMATS = ("uri", "uri-reference", "iri", "iri-reference")  # openapi-schema-validator: no check


@cache
def _meta_validator() -> Any:
    resources = [
        (uri, REGISTRY.contents(uri)) for uri in REGISTRY if not uri.startswith("https://json-schema")
    ]
    formats = {"regex": is_regex, **dict.fromkeys(_UNCHECKED_FORMATS, lambda _value: True)}
    return jsonschema_rs.validator_for(
        OAS31Validator.META_SCHEMA,
        registry=jsonschema_rs.Registry(resources),
        validate_formats=True,
        formats=formats,
    )


def meta_schema_accepts(schema: Any) -> bool:
    """True when jsonschema_rs finds ``schema`` valid under the OAS 3.1 base dialect (False: ask Python)."""
    try:
        return bool(_meta_validator().is_valid(schema))
    except Exception:  # a value jsonschema_rs cannot take (non-string key, huge number, ...): not sure
        return False


class _SchemaValidator(keywords.OpenAPIV31SchemaValidator):
    def _validate_schema_meta(self, schema: Any, schema_value: Any) -> Any:
        try:
            dialect = self._get_schema_dialect_id(schema, schema_value)
        except ValueError:
            dialect = None
        if dialect == OAS31_BASE_DIALECT_ID and meta_schema_accepts(schema_value):
            return None
        return super()._validate_schema_meta(schema, schema_value)


class FastOpenAPIV31SpecValidator(OpenAPIV31SpecValidator):
    """``OpenAPIV31SpecValidator`` with the meta-schema check answered by jsonschema_rs when it can."""

    keyword_validators = {**OpenAPIV31SpecValidator.keyword_validators, "schema": _SchemaValidator}
