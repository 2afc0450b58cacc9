"""Stage 3b: the httpx client package (jinja2 templates), every spec value emitted as a Python literal."""

from __future__ import annotations

import keyword
import math
import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from ._ir import ApiIR
from ._naming import RUNTIME_EXPORTS

__all__ = ["RenderError", "load_templates", "render_client_files"]

_TEMPLATES = Path(__file__).parent / "templates"
_ONE_TYPE = r"[A-Za-z_][A-Za-z0-9_.]*(\[[A-Za-z0-9_.\[\], |]+\])?"
_ANNOTATION = re.compile(rf"^{_ONE_TYPE}( \| {_ONE_TYPE})*$")


class RenderError(Exception):
    """A value that is not safe to emit reached a template (a generator bug: fail closed)."""


def literal(value: Any) -> str:
    """A Python literal for str/int/bool/None/finite float (repr is a valid, inert literal for these)."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise RenderError(f"refusing to emit a {type(value).__name__} as a literal: {value!r}")


def docstring(value: Any, indent: int = 8) -> str:
    """A triple-quoted docstring literal for any text (backslashes, quotes and control characters made
    inert); lines after the first are indented by ``indent`` spaces."""
    text = "".join(ch if ch == "\n" or ch.isprintable() else " " for ch in str(value)).strip()
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    pad = " " * indent
    lines = [line.rstrip() for line in text.splitlines()] or [""]
    body = "\n".join([lines[0], *[(pad + line) if line else "" for line in lines[1:]]])
    closing = f"\n{pad}" if len(lines) > 1 else ""
    return f'"""{body}{closing}"""'


def identifier(value: Any) -> str:
    text = str(value)
    if not text.isidentifier() or keyword.iskeyword(text) or not text.isascii():
        raise RenderError(f"not a safe Python identifier: {text!r}")
    return text


def annotation(value: Any) -> str:
    text = str(value)
    if not _ANNOTATION.match(text):
        raise RenderError(f"not a safe type annotation: {text!r}")
    return text


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs, as Python keeps ``__pycache__`` (compiling the five templates
    takes ~80 ms, loading them ~2 ms). jinja2's private per-user temporary folder; an entry is used only
    for the same template file, source checksum, jinja2 and Python version. A cache that cannot be read or
    written only makes the run slower."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # unreadable or truncated entry: compile afresh
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@cache
def _template_cache() -> jinja2.BytecodeCache | None:
    try:
        return _TemplateCache()
    except (OSError, RuntimeError):  # no safe temporary folder: no cache
        return None


_TEMPLATE_NAMES = ("_calls.py", "_errors.py", "_runtime.py", "client.py", "__init__.py")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        bytecode_cache=_template_cache(),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - Python source, not HTML; values go through `lit`/`ident`
    )
    env.filters.update(lit=literal, ident=identifier, annotation=annotation, doc=docstring)
    return env


@cache
def _loaded() -> jinja2.Environment:
    """One environment per process with the client templates loaded (jinja2 re-reads a changed file)."""
    env = _environment()
    for name in _TEMPLATE_NAMES:
        env.get_template(name + ".jinja")
    return env


def load_templates() -> None:
    """Load the client templates now (compiled ones from the cache): `generate` calls this while it waits for
    datamodel-code-generator, so rendering the client later costs only the rendering."""
    _loaded()


def _client_doc(ir: ApiIR, client_name: str) -> str:
    """The sync client's docstring: how to use it and what each option sends (spec text made inert by
    the `doc` filter)."""
    lines = [f"Synchronous client. Use as a context manager (``with {client_name}(...) as client:``)."]
    options = []
    for s in ir.security:
        if s.kind == "basic":
            options.append(f"* ``username``/``password``: HTTP Basic (scheme ``{s.scheme}``).")
        else:
            value = f"{s.prefix} <value>" if s.prefix else "<value>"
            options.append(f"* ``{s.option}``: sent as ``{s.header}: {value}`` (scheme ``{s.scheme}``).")
    for o in ir.header_options:
        described = f": {o.description}" if o.description else "."
        options.append(f"* ``{o.py_name}``: sent as the ``{o.name}`` header{described}")
    return "\n".join([*lines, *([""] if options else []), *options])


def render_client_files(
    ir: ApiIR, *, header: str, base_url: str, client_name: str, model_classes: frozenset[str], sha256: str
) -> dict[str, str]:
    """Unformatted sources of `_calls.py`, `_errors.py`, `_runtime.py`, `client.py` and `__init__.py`."""
    env = _loaded()
    async_name = "Async" + client_name
    context = {
        "ir": ir,
        "header": header,
        "base_url": base_url,
        "client_name": identifier(client_name),
        "async_name": identifier(async_name),
        "model_imports": sorted(set(ir.model_names) | ({ir.batch.item_model} if ir.batch else set())),
        "models": sorted(model_classes),
        "sha256": sha256,
        "client_doc": _client_doc(ir, client_name),
    }
    extra = ["DEFAULT_BASE_URL", "SPEC_SHA256"] + (["WEBHOOK_PAYLOADS"] if ir.webhooks else [])
    context["runtime_exports"] = RUNTIME_EXPORTS
    context["exports"] = sorted({*RUNTIME_EXPORTS, client_name, async_name, *model_classes, *extra})
    return {name: env.get_template(name + ".jinja").render(context) for name in _TEMPLATE_NAMES}
