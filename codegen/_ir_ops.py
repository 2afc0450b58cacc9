"""Stage 2a: one operation of a normalised spec → an `Operation` of the IR (parameters, body, responses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ._hoist import json_media
from ._load import resolve_ref
from ._naming import method_name, unique

__all__ = [
    "RESERVED_PARAM_NAMES",
    "Link",
    "Operation",
    "Pagination",
    "Param",
    "Response",
    "annotation_of",
    "array_field",
    "build_operation",
    "deref",
    "ref_name",
]

ParamLocation = Literal["path", "query", "header"]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "TRACE"})


@dataclass(frozen=True)
class Param:
    name: str  # on the wire
    py_name: str
    location: ParamLocation
    annotation: str  # a Python type expression valid in the generated client
    required: bool
    comma_list: bool  # array sent as one comma-separated value (style form, explode false)
    description: str


@dataclass(frozen=True)
class Response:
    status: str
    model: str | None  # class in models.py, None when there is no JSON body
    empty: bool


@dataclass(frozen=True)
class Link:
    status: str
    name: str
    operation_id: str
    parameters: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Pagination:
    iter_name: str
    items_field: str
    item_model: str | None
    cursor_param: str | None  # python name of the cursor query parameter


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method_name: str
    http_method: str
    path: str
    summary: str
    docstring: str  # summary, description, method + path and the full operationId
    params: tuple[Param, ...]
    body_model: str | None
    body_item_model: str | None
    body_is_list: bool
    body_required: bool
    responses: tuple[Response, ...]
    success: Response | None
    links: tuple[Link, ...]
    pagination: Pagination | None
    idempotent: bool  # safe to repeat after an ambiguous failure (GET/PUT, or made so by the contract)
    idempotency_param: str | None  # python name of an `Idempotency-Key` header: filled once per call


# locals and module names of the generated methods: a parameter must not shadow them
RESERVED_PARAM_NAMES = frozenset(
    {
        # builtins the generated method bodies and annotations use (shadowing `id` or `filter` is harmless)
        *("isinstance len list range str int float bool dict tuple".split()),
        # locals of the generated methods
        *("self body items payload url params headers response result".split()),
        *("checked start chunk chunk_size results exc started extra_headers max_pages".split()),
        *("timeout poll_interval max_interval".split()),
        # modules the generated client imports
        *("asyncio datetime time httpx pydantic".split()),
    }
)
_PRIMITIVES = {"integer": "int", "number": "float", "boolean": "bool", "string": "str"}
_FORMATS = {"date": "datetime.date", "date-time": "datetime.datetime"}


def deref(doc: dict[str, Any], node: Any) -> Any:
    for _ in range(16):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        node = resolve_ref(doc, node["$ref"])
    return node


def ref_name(node: Any) -> str | None:
    ref = node.get("$ref") if isinstance(node, dict) else None
    return (
        ref.rsplit("/", 1)[-1] if isinstance(ref, str) and ref.startswith("#/components/schemas/") else None
    )


def annotation_of(doc: dict[str, Any], schema: Any, depth: int = 0) -> str:
    schema = deref(doc, schema)
    if not isinstance(schema, dict) or depth > 4:
        return "str"
    kind = schema.get("type")
    kinds = [k for k in (kind if isinstance(kind, list) else [kind]) if k not in (None, "null")]
    for option in schema.get("anyOf") or schema.get("oneOf") or []:
        if not kinds and deref(doc, option).get("type") not in (None, "null"):
            return annotation_of(doc, option, depth + 1)
    first = kinds[0] if kinds else "string"
    if first == "array":
        return f"list[{annotation_of(doc, schema.get('items', {}), depth + 1)}]"
    if first == "string" and schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    return _PRIMITIVES.get(str(first), "str")


def _first_line(text: Any) -> str:
    lines = str(text or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def _params(doc: dict[str, Any], item: dict[str, Any], op: dict[str, Any]) -> tuple[Param, ...]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
        param = deref(doc, raw)
        if isinstance(param, dict) and param.get("in") in ("path", "query", "header"):
            merged[(str(param["in"]), str(param.get("name")))] = param
    taken = set(RESERVED_PARAM_NAMES)
    params = []
    for (location, name), param in sorted(merged.items(), key=lambda kv: (kv[0][0] != "path", kv[0])):
        py_name = unique(method_name(name, fallback="param"), taken)
        taken.add(py_name)
        annotation = annotation_of(doc, param.get("schema", {}))
        explode = param.get("explode", param.get("style", "form") == "form")
        comma = annotation.startswith("list[") and (location != "query" or not explode)
        required = bool(param.get("required")) or location == "path"
        description = _first_line(param.get("description"))
        params.append(Param(name, py_name, location, annotation, required, comma, description))  # type: ignore[arg-type]
    return tuple(sorted(params, key=lambda p: (not p.required, p.location != "path", p.py_name)))


def _response(doc: dict[str, Any], status: str, raw: Any) -> Response:
    response = deref(doc, raw)
    media = json_media(response)
    if media is None:
        return Response(status, None, not (isinstance(response, dict) and response.get("content")))
    return Response(status, ref_name(media[1].get("schema")), False)


def _links(doc: dict[str, Any], responses: dict[str, Any]) -> tuple[Link, ...]:
    found = []
    for status, raw in sorted(responses.items()):
        response = deref(doc, raw)
        links = response.get("links") if isinstance(response, dict) else None
        for name, link in sorted((links or {}).items()):
            link = deref(doc, link)
            if isinstance(link, dict) and "operationId" in link:
                params = tuple(sorted((str(k), str(v)) for k, v in (link.get("parameters") or {}).items()))
                found.append(Link(str(status), str(name), str(link["operationId"]), params))
    return tuple(found)


def _is_array(schema: Any) -> bool:
    return isinstance(schema, dict) and (
        schema.get("type") == "array" or "array" in (schema.get("type") or [])
    )


def array_field(
    doc: dict[str, Any], model: str | None, wanted: str | None = None
) -> tuple[str, str | None] | None:
    """The list property of a model (``wanted``, else `data`, else the only one) and its item model."""
    if model is None:
        return None
    schema = deref(doc, {"$ref": f"#/components/schemas/{model}"})
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return None
    arrays = [
        (name, ref_name(deref(doc, props[name]).get("items")))
        for name in sorted(props)
        if _is_array(deref(doc, props[name]))
    ]
    preferred = [wanted] if wanted else ["data"]
    chosen = [a for a in arrays if a[0] in preferred] or (arrays if len(arrays) == 1 else [])
    return chosen[0] if chosen else None


def _has_next_url(doc: dict[str, Any], model: str | None) -> bool:
    if model is None:
        return False
    schema = deref(doc, {"$ref": f"#/components/schemas/{model}"})
    props = schema.get("properties") if isinstance(schema, dict) else None
    return isinstance(props, dict) and "next" in props


def _docstring(op: dict[str, Any], method: str, path: str) -> tuple[str, str]:
    """(first line, full docstring): summary, else description's first line, else `METHOD /path`."""
    summary = _first_line(op.get("summary")) or _first_line(op.get("description")) or f"{method} {path}"
    parts = [summary]
    description = str(op.get("description") or "").strip()
    if description and description.splitlines()[0].strip() == summary:
        description = "\n".join(description.splitlines()[1:]).strip()  # the summary came from it
    if description:
        parts.append(description)
    where = f"``{method} {path}``"
    if op.get("operationId"):
        where += f" (operationId ``{op['operationId']}``)"
    parts.append(where + ".")
    return summary, "\n\n".join(parts)


def build_operation(
    doc: dict[str, Any], path: str, method: str, item: dict[str, Any], op: dict[str, Any], name: str
) -> Operation:
    params = _params(doc, item, op)
    body = deref(doc, op.get("requestBody"))
    media = json_media(body)
    schema = media[1].get("schema") if media else None
    body_model = ref_name(schema)
    target = deref(doc, schema) if schema else None
    is_list = _is_array(target)
    item_model = ref_name(target.get("items")) if is_list and isinstance(target, dict) else None
    responses = tuple(_response(doc, str(s), r) for s, r in sorted((op.get("responses") or {}).items()))
    success = next((r for r in responses if r.status.startswith("2")), None)
    pagination = None
    headers = deref(doc, (op.get("responses") or {}).get(success.status)) if success else None
    has_link = isinstance(headers, dict) and any(h.lower() == "link" for h in (headers.get("headers") or {}))
    cursor = next((p.py_name for p in params if p.name == "cursor" and p.location == "query"), None)
    model = success.model if success else None
    field = array_field(doc, model)
    if method == "get" and field and (has_link or cursor or _has_next_url(doc, model)):
        iter_name = "iter_" + (name[len("list_") :] if name.startswith("list_") else name)
        pagination = Pagination(iter_name, field[0], field[1], cursor)
    summary, docstring = _docstring(op, method.upper(), path)
    key = next((p for p in params if p.location == "header" and p.name.lower() == "idempotency-key"), None)
    if key is not None:
        docstring += (
            f"\n\n``{key.py_name}``: one key is generated per call when none is given, and every retry of "
            "the call sends the same key, so the call is retried like an idempotent one."
        )
    return Operation(
        operation_id=str(op.get("operationId") or ""),
        method_name=name,
        http_method=method.upper(),
        path=path,
        summary=summary,
        docstring=docstring,
        params=params,
        body_model=body_model,
        body_item_model=item_model,
        body_is_list=bool(is_list and body_model),
        body_required=bool(isinstance(body, dict) and body.get("required")),
        responses=responses,
        success=success,
        links=_links(doc, op.get("responses") or {}),
        pagination=pagination,
        idempotent=method.upper() in SAFE_METHODS or key is not None,
        idempotency_param=key.py_name if key is not None else None,
    )
