"""Where a rule's promise comes from, as links into short spec excerpts embedded in the HTML report.

A rule's ``source`` is a sentence such as ``"seed 001: '...'; x-contract.batch.max_items, errors.too_many"``.
Each ``;``-separated part becomes a ``SourcePart``: the references it names that the spec can show (an
``x-contract`` member, an operationId, a component schema) link to an ``Excerpt`` (a few lines of YAML);
a quote from the vendor documentation stays a quote. Anything unknown is shown as plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["Excerpt", "SourcePart", "SpecExcerpts"]

EXCERPT_LINES = 30
_XC = re.compile(r"x-contract[./]([A-Za-z0-9_]+(?:[./][A-Za-z0-9_]+)*)")
_BARE = re.compile(r"(?<![\w./-])([a-z_]+(?:\.[a-z_]+)+)(?![\w/-])")
_WORD = re.compile(r"(?<![\w./#-])([A-Za-z][A-Za-z0-9]+)(?![\w-])")
_SEED = re.compile(r"^seeds? [0-9/]+:\s*")


@dataclass(frozen=True)
class Excerpt:
    anchor: str  # html id
    title: str  # e.g. "x-contract.batch.max_items" or "operation upsertOrders (POST /orders)"
    text: str  # YAML, at most EXCERPT_LINES lines


@dataclass(frozen=True)
class SourcePart:
    text: str
    vendor_quote: bool = False
    links: tuple[Excerpt, ...] = ()


def _yaml(node: Any) -> str:
    text = yaml.safe_dump(node, sort_keys=False, allow_unicode=True, width=100).rstrip()
    lines = text.splitlines()
    if len(lines) > EXCERPT_LINES:
        lines = [*lines[:EXCERPT_LINES], f"# ... {len(lines) - EXCERPT_LINES} more lines in the spec"]
    return "\n".join(lines)


def _const(value: Any) -> Callable[[], Any]:
    return lambda: value


def _operation_summary(op: Mapping[str, Any]) -> dict[str, Any]:
    keep: dict[str, Any] = {k: op[k] for k in ("summary", "operationId") if k in op}
    responses = op.get("responses")
    if isinstance(responses, Mapping):
        keep["responses"] = {
            str(code): (r.get("description", "") if isinstance(r, Mapping) else "")
            for code, r in responses.items()
        }
    return keep


@dataclass
class SpecExcerpts:
    """Resolves references against one spec; remembers every excerpt used (the report's appendix)."""

    document: Mapping[str, Any] | None  # the parsed spec
    member: Callable[[str], Any] | None  # the contract model's x-contract member lookup
    used: dict[str, Excerpt] = field(default_factory=dict)

    def _remember(self, key: str, title: str, make: Callable[[], Any]) -> Excerpt | None:
        if key in self.used:
            return self.used[key]
        try:
            node = make()
        except Exception:  # an unknown name is shown as text, never breaks the report
            return None
        excerpt = Excerpt(f"src-{len(self.used) + 1}", title, _yaml(node))
        self.used[key] = excerpt
        return excerpt

    def contract_member(self, dotted: str) -> Excerpt | None:
        member = self.member
        if member is None:
            return None
        name = ".".join(p for p in re.split(r"[./]", dotted) if p)
        return self._remember(
            f"xc:{name}", f"x-contract.{name}", lambda: {name.rsplit(".", 1)[-1]: member(name)}
        )

    def name(self, word: str) -> Excerpt | None:
        """An operationId, a component schema or a components section (``securitySchemes``) named ``word``."""
        doc = self.document
        if doc is None:
            return None
        components = doc.get("components", {})
        schemas = components.get("schemas", {}) if isinstance(components, Mapping) else {}
        if isinstance(schemas, Mapping) and word in schemas:
            return self._remember(f"schema:{word}", f"schema {word}", lambda: {word: schemas[word]})
        camel = word[:1].islower() and not word.islower()  # securitySchemes, not the prose word "responses"
        if camel and isinstance(components, Mapping) and word in components:
            section = {word: components[word]}
            return self._remember(f"components:{word}", f"components.{word}", _const(section))
        for path, item in (doc.get("paths") or {}).items():
            for method, op in item.items() if isinstance(item, Mapping) else ():
                if isinstance(op, Mapping) and op.get("operationId") == word:
                    where = f"{method.upper()} {path}"
                    node = {where: _operation_summary(op)}
                    return self._remember(f"op:{word}", f"operation {word} ({where})", _const(node))
        return None

    def part(self, text: str) -> SourcePart:
        text = text.strip()
        quote = bool(_SEED.match(text))
        links: list[Excerpt] = []
        if not quote:
            for match in _XC.finditer(text):
                links += [e for e in [self.contract_member(match.group(1))] if e]
            # "x-contract.batch.max_items, errors.documented.too_many": a dotted name that is a member too
            rest = _XC.sub("", text)
            links += [e for m in _BARE.finditer(rest) for e in [self.contract_member(m.group(1))] if e]
            links += [e for m in _WORD.finditer(_XC.sub("", text)) for e in [self.name(m.group(1))] if e]
        unique = list(dict.fromkeys(links))
        if unique and not _XC.sub("", text).strip(" ,"):  # "x-contract.auth" alone: the link says it all
            text = ""
        return SourcePart(_SEED.sub("", text) if quote else text, quote, tuple(unique))

    def parts(self, source: str) -> list[SourcePart]:
        return [self.part(p) for p in _split(source)]

    def appendix(self) -> Iterable[Excerpt]:
        return self.used.values()


def _split(source: str) -> list[str]:
    return [p.strip() for p in source.split("; ") if p.strip()]
