"""Stage 2: a small intermediate representation of a normalised spec (what the client templates need)."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from ._findings import Finding, join, warning
from ._hoist import json_media
from ._load import resolve_ref
from ._naming import method_name, unique
from ._walk import iter_operations

__all__ = ["ApiIR", "Batch", "Conflict", "Link", "Operation", "Pagination", "Param", "Response", "build_ir"]

ParamLocation = Literal["path", "query", "header"]
DEFAULT_POINTER_PREFIX = "/data/attributes/"  # Sendcloud's JSON:API-style batch pointers


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
    params: tuple[Param, ...]
    body_model: str | None
    body_item_model: str | None
    body_is_list: bool
    body_required: bool
    responses: tuple[Response, ...]
    success: Response | None
    links: tuple[Link, ...]
    pagination: Pagination | None


@dataclass(frozen=True)
class Batch:
    method_name: str
    body_arg: str
    item_model: str
    min_items: int
    max_items: int | None
    result_field: str | None
    result_item_model: str | None


@dataclass(frozen=True)
class Conflict:
    status: int
    pointer: str
    detail: str
    code: str | None


@dataclass(frozen=True)
class ApiIR:
    title: str
    version: str
    operations: tuple[Operation, ...]
    batch: Batch | None
    conflict: Conflict | None
    error_model: str | None
    pointer_prefix: str
    basic_auth: bool
    partner_header: str | None
    contract_json: str  # the x-contract block (sorted JSON), "" when absent

    @property
    def model_names(self) -> tuple[str, ...]:
        names: set[str] = set()
        for op in self.operations:
            names.update(n for n in (op.body_model, op.body_item_model) if n)
            names.update(r.model for r in op.responses if r.model)
            if op.pagination and op.pagination.item_model:
                names.add(op.pagination.item_model)
        if self.batch and self.batch.result_item_model:
            names.add(self.batch.result_item_model)
        if self.error_model:
            names.add(self.error_model)
        return tuple(sorted(names))


# locals and module names of the generated methods: a parameter must not shadow them
RESERVED_PARAM_NAMES = frozenset(
    {
        # builtins the generated method bodies use (shadowing `id` or `filter` is harmless there)
        *("isinstance len list range set str int float bool dict tuple type super object".split()),
        *("self body items payload url params headers response page item seen following next_params".split()),
        *("results offset chunk_size exc extra_headers max_pages timeout".split()),
        *("asyncio datetime time httpx".split()),
    }
)
RESERVED_METHOD_NAMES = frozenset({"close", "aclose"})
_PRIMITIVES = {"integer": "int", "number": "float", "boolean": "bool", "string": "str"}
_FORMATS = {"date": "datetime.date", "date-time": "datetime.datetime"}


def _deref(doc: dict[str, Any], node: Any) -> Any:
    for _ in range(16):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        node = resolve_ref(doc, node["$ref"])
    return node


def _ref_name(node: Any) -> str | None:
    ref = node.get("$ref") if isinstance(node, dict) else None
    return (
        ref.rsplit("/", 1)[-1] if isinstance(ref, str) and ref.startswith("#/components/schemas/") else None
    )


def _annotation(doc: dict[str, Any], schema: Any, depth: int = 0) -> str:
    schema = _deref(doc, schema)
    if not isinstance(schema, dict) or depth > 4:
        return "str"
    kind = schema.get("type")
    kinds = [k for k in (kind if isinstance(kind, list) else [kind]) if k not in (None, "null")]
    for option in schema.get("anyOf") or schema.get("oneOf") or []:
        if not kinds and _deref(doc, option).get("type") not in (None, "null"):
            return _annotation(doc, option, depth + 1)
    first = kinds[0] if kinds else "string"
    if first == "array":
        return f"list[{_annotation(doc, schema.get('items', {}), depth + 1)}]"
    if first == "string" and schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    return _PRIMITIVES.get(str(first), "str")


def _params(doc: dict[str, Any], item: dict[str, Any], op: dict[str, Any]) -> tuple[Param, ...]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
        param = _deref(doc, raw)
        if isinstance(param, dict) and param.get("in") in ("path", "query", "header"):
            merged[(str(param["in"]), str(param.get("name")))] = param
    taken = set(RESERVED_PARAM_NAMES)
    params = []
    for (location, name), param in sorted(merged.items(), key=lambda kv: (kv[0][0] != "path", kv[0])):
        py_name = unique(method_name(name, fallback="param"), taken)
        taken.add(py_name)
        annotation = _annotation(doc, param.get("schema", {}))
        explode = param.get("explode", param.get("style", "form") == "form")
        comma = annotation.startswith("list[") and (location != "query" or not explode)
        required = bool(param.get("required")) or location == "path"
        desc = str(param.get("description", "")).strip().splitlines()
        params.append(Param(name, py_name, location, annotation, required, comma, desc[0] if desc else ""))  # type: ignore[arg-type]
    return tuple(sorted(params, key=lambda p: (not p.required, p.location != "path", p.py_name)))


def _response(doc: dict[str, Any], status: str, raw: Any) -> Response:
    response = _deref(doc, raw)
    media = json_media(response)
    if media is None:
        return Response(status, None, not (isinstance(response, dict) and response.get("content")))
    return Response(status, _ref_name(media[1].get("schema")), False)


def _links(doc: dict[str, Any], responses: dict[str, Any]) -> tuple[Link, ...]:
    found = []
    for status, raw in sorted(responses.items()):
        links = _deref(doc, raw).get("links") if isinstance(_deref(doc, raw), dict) else None
        for name, link in sorted((links or {}).items()):
            link = _deref(doc, link)
            if isinstance(link, dict) and "operationId" in link:
                params = tuple(sorted((str(k), str(v)) for k, v in (link.get("parameters") or {}).items()))
                found.append(Link(str(status), str(name), str(link["operationId"]), params))
    return tuple(found)


def _array_field(doc: dict[str, Any], model: str | None) -> tuple[str, str | None] | None:
    """The list property of a response model (`data` preferred) and its item model."""
    if model is None:
        return None
    schema = _deref(doc, {"$ref": f"#/components/schemas/{model}"})
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return None
    arrays = []
    for name in sorted(props):
        prop = _deref(doc, props[name])
        if isinstance(prop, dict) and (prop.get("type") == "array" or "array" in (prop.get("type") or [])):
            arrays.append((name, _ref_name(prop.get("items"))))
    chosen = [a for a in arrays if a[0] == "data"] or (arrays if len(arrays) == 1 else [])
    return chosen[0] if chosen else None


def _operation(
    doc: dict[str, Any], path: str, method: str, item: dict[str, Any], op: dict[str, Any], name: str
) -> Operation:
    params = _params(doc, item, op)
    body = _deref(doc, op.get("requestBody"))
    media = json_media(body)
    schema = media[1].get("schema") if media else None
    body_model = _ref_name(schema)
    target = _deref(doc, schema) if schema else None
    is_list = isinstance(target, dict) and (
        target.get("type") == "array" or "array" in (target.get("type") or [])
    )
    item_model = _ref_name(target.get("items")) if is_list and isinstance(target, dict) else None
    responses = tuple(_response(doc, str(s), r) for s, r in sorted((op.get("responses") or {}).items()))
    success = next((r for r in responses if r.status.startswith("2")), None)
    pagination = None
    headers = _deref(doc, (op.get("responses") or {}).get(success.status)) if success else None
    has_link = isinstance(headers, dict) and any(h.lower() == "link" for h in (headers.get("headers") or {}))
    cursor = next((p.py_name for p in params if p.name == "cursor" and p.location == "query"), None)
    field = _array_field(doc, success.model if success else None)
    if method == "get" and field and (has_link or cursor):
        iter_name = "iter_" + (name[len("list_") :] if name.startswith("list_") else name)
        pagination = Pagination(iter_name, field[0], field[1], cursor)
    summary = str(op.get("summary") or op.get("description") or "").strip().splitlines()
    return Operation(
        operation_id=str(op.get("operationId") or ""),
        method_name=name,
        http_method=method.upper(),
        path=path,
        summary=summary[0] if summary else "",
        params=params,
        body_model=body_model,
        body_item_model=item_model,
        body_is_list=bool(is_list and body_model),
        body_required=bool(isinstance(body, dict) and body.get("required")),
        responses=responses,
        success=success,
        links=_links(doc, op.get("responses") or {}),
        pagination=pagination,
    )


def _batch(
    doc: dict[str, Any], ops: list[tuple[Operation, dict[str, Any], str]], findings: list[Finding]
) -> Batch | None:
    """Which operation is the batch upsert? The one carrying `x-contract.batch`; without x-contract, the
    only operation whose JSON body is an array of a named model. Size limit: x-contract max_items, else
    the body schema's maxItems, else unknown (warning; `chunk_size` becomes a required argument)."""
    tagged = [o for o in ops if isinstance(o[1].get("x-contract", {}).get("batch"), dict)]
    lists = [o for o in ops if o[0].body_is_list and o[0].body_item_model]
    if not tagged and len(lists) > 1:
        names = ", ".join(o[0].method_name for o in lists)
        findings.append(
            warning(
                "/paths", f"several list-body operations ({names}); no batch helpers emitted", rule="batch"
            )
        )
    chosen = tagged[0] if tagged else (lists[0] if len(lists) == 1 else None)
    if chosen is None or not chosen[0].body_item_model:
        return None
    op, raw, where = chosen
    assert op.body_item_model is not None  # checked above
    contract = raw.get("x-contract", {}).get("batch", {})
    schema = _deref(doc, {"$ref": f"#/components/schemas/{op.body_model}"})
    max_items = contract.get("max_items", schema.get("maxItems"))
    min_items = contract.get("min_items", schema.get("minItems", 1))
    if max_items is None:
        message = (
            "batch size limit unknown (no x-contract.batch.max_items, no maxItems): chunk_size is required"
        )
        findings.append(warning(join(where, "requestBody"), message, rule="batch"))
    tail = op.method_name.rsplit("_", 1)[-1]
    used = {p.py_name for p in op.params}
    result = _array_field(doc, op.success.model if op.success else None)
    return Batch(
        method_name=op.method_name,
        body_arg=tail if tail.endswith("s") and tail not in RESERVED_PARAM_NAMES | used else "items",
        item_model=op.body_item_model,
        min_items=int(min_items),
        max_items=int(max_items) if max_items is not None else None,
        result_field=result[0] if result else None,
        result_item_model=result[1] if result else None,
    )


def _conflict(ops: list[tuple[Operation, dict[str, Any], str]]) -> Conflict | None:
    for _op, raw, _where in ops:
        block = raw.get("x-contract", {}).get("conflict")
        if isinstance(block, dict) and "detail" in block:
            code = block.get("code")
            return Conflict(
                int(block.get("status", 400)), str(block.get("pointer", "/data")), str(block["detail"]), code
            )
    return None


def _pointer_prefix(ops: list[tuple[Operation, dict[str, Any], str]]) -> str:
    for _op, raw, _where in ops:
        template = raw.get("x-contract", {}).get("error_pointer", {}).get("template")
        if isinstance(template, str) and "[{index}]" in template:
            return template.split("[{index}]", 1)[0]
    return DEFAULT_POINTER_PREFIX


def _dedupe_helpers(
    ops: list[tuple[Operation, dict[str, Any], str]], taken: set[str]
) -> list[tuple[Operation, dict[str, Any], str]]:
    """Pagination iterators and `<batch>_chunked` helpers must not collide with operation methods."""
    taken.update(o.method_name + "_chunked" for o, _, _ in ops)  # reserved whether or not emitted
    result = []
    for op, raw, where in ops:
        if op.pagination is not None:
            name = unique(op.pagination.iter_name, taken)
            taken.add(name)
            op = dataclasses.replace(op, pagination=dataclasses.replace(op.pagination, iter_name=name))
        result.append((op, raw, where))
    return result


def build_ir(doc: dict[str, Any]) -> tuple[ApiIR, list[Finding]]:
    """Build the IR from a *normalised* spec; findings are warnings about what could not be inferred."""
    findings: list[Finding] = []
    ops: list[tuple[Operation, dict[str, Any], str]] = []
    taken: set[str] = set(RESERVED_METHOD_NAMES)
    for path, method, item, op in iter_operations(doc):
        where = join("", "paths", path, method)
        if not op.get("operationId"):
            findings.append(
                warning(where, "no operationId; method named from HTTP method and path", rule="naming")
            )
        name = unique(method_name(str(op.get("operationId") or f"{method} {path}")), taken)
        taken.add(name)
        ops.append((_operation(doc, path, method, item, op, name), op, where))
    ops = _dedupe_helpers(ops, taken)
    errors = Counter(
        r.model for o, _, _ in ops for r in o.responses if r.model and not r.status.startswith("2")
    )
    error_model = sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if errors else None
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    basic = any(isinstance(s, dict) and str(s.get("scheme", "")).lower() == "basic" for s in schemes.values())
    partner = sorted(
        p.name for o, _, _ in ops for p in o.params if p.location == "header" and "partner" in p.name.lower()
    )
    contract = next(
        (raw["x-contract"] for _o, raw, _w in ops if isinstance(raw.get("x-contract"), dict)), None
    )
    info = doc.get("info") or {}
    ir = ApiIR(
        title=str(info.get("title", "")),
        version=str(info.get("version", "")),
        operations=tuple(o for o, _, _ in ops),
        batch=_batch(doc, ops, findings),
        conflict=_conflict(ops),
        error_model=error_model,
        pointer_prefix=_pointer_prefix(ops),
        basic_auth=basic,
        partner_header=partner[0] if partner else None,
        contract_json=json.dumps(contract, sort_keys=True) if contract is not None else "",
    )
    return ir, findings
