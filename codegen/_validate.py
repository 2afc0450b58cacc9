"""openapi-spec-validator for OpenAPI 3.1, its slowest step answered first by jsonschema_rs.

openapi-spec-validator checks each schema of a 3.1 spec against the OAS 3.1 dialect's meta-schema with
the pure-Python ``jsonschema`` (about 80 % of its time on our specs). Here jsonschema_rs first checks the
same schema against the same meta-schema (``_metaschema``): a schema it accepts is not checked again;
one it refuses, or cannot read (e.g. a key that is not a string), goes to the Python check, which
reports exactly what it always did. Every other check is openapi-spec-validator's own. Used when
``_verify.proves_valid`` is not sure a spec is valid. Relies on two private methods of
openapi-spec-validator 0.8 (pinned in pyproject).
"""

from __future__ import annotations

from typing import Any

from openapi_schema_validator import OAS31_BASE_DIALECT_ID
from openapi_spec_validator import OpenAPIV31SpecValidator
from openapi_spec_validator.validation import keywords

from ._metaschema import meta_schema_accepts

__all__ = ["FastOpenAPIV31SpecValidator"]


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
