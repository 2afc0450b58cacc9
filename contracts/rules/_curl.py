"""Render recorded exchanges as ready-to-run curl commands, keeping large batches short."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from typing import Any

from ._http import Exchange

__all__ = ["render_curl", "render_reproduction"]

_INLINE_LIMIT = 160
_LEFT_OUT = 200_000


def _uniform_batch(body: Any) -> tuple[dict[str, Any], list[str]] | None:
    """``(template, order_ids)`` when a long batch differs only in ``order_id``."""
    if not isinstance(body, list) or len(body) <= 3 or not all(isinstance(o, dict) for o in body):
        return None
    first = {k: v for k, v in body[0].items() if k != "order_id"}
    if any({k: v for k, v in o.items() if k != "order_id"} != first for o in body):
        return None
    ids = [str(o.get("order_id", "")) for o in body]
    prefix = ids[0].rsplit("-", 1)[0]
    if ids != [f"{prefix}-{i}" for i in range(len(ids))]:
        return None
    return first, [prefix]


def render_curl(exchange: Exchange) -> str:
    parts = ["curl", "-sS", "-i", "-X", exchange.method, shlex.quote(exchange.url)]
    if exchange.auth is not None:
        parts += ["-u", shlex.quote(f"{exchange.auth[0]}:{exchange.auth[1]}")]
    for name, value in exchange.headers:
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if exchange.body is None:
        return " ".join(parts)
    text = exchange.body.decode("utf-8", errors="replace")
    if len(text) > _LEFT_OUT:  # a deliberately huge body: say what it was instead of printing it
        shown = " ".join(text[:160].split())
        return (
            " ".join([*parts, "--data-binary", "@body.json"])
            + f"  # body.json: {len(text)} bytes: {shown}..."
        )
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = None
    uniform = _uniform_batch(body) if body is not None else None
    if uniform is not None:
        template, (prefix,) = uniform
        script = (
            f"import json; o = json.loads({json.dumps(json.dumps(template))}); "
            f"print(json.dumps([dict(o, order_id='{prefix}-%d' % i) for i in range({len(body)})]))"
        )
        return f"python3 -c {shlex.quote(script)} | \\\n  " + " ".join([*parts, "--data-binary", "@-"])
    if len(text) <= _INLINE_LIMIT and "\n" not in text:
        return " ".join([*parts, "--data-binary", shlex.quote(text)])
    pretty = _compact(body) if body is not None else text
    return " ".join([*parts, "--data-binary", "@-", "<<'JSON'"]) + "\n" + pretty + "\nJSON"


def _compact(body: Any) -> str:
    """Compact JSON, one array item per line."""
    if isinstance(body, list) and body:
        items = [json.dumps(item, separators=(",", ":"), ensure_ascii=False) for item in body]
        return "[" + ",\n ".join(items) + "]"
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def render_reproduction(exchanges: Sequence[Exchange], note: str = "", limit: int = 8) -> str:
    """Shell script replaying ``exchanges`` (the last ``limit``), each followed by what came back."""
    lines: list[str] = []
    if note:
        lines += [f"# {line}" for line in note.splitlines()]
    collapsed: list[tuple[Exchange, int]] = []
    for ex in exchanges:  # polling repeats one request; show it once
        if collapsed and collapsed[-1][0] == ex:
            collapsed[-1] = (ex, collapsed[-1][1] + 1)
        else:
            collapsed.append((ex, 1))
    shown = collapsed[-limit:]
    if len(collapsed) > len(shown):
        lines.append(f"# ({len(collapsed) - len(shown)} earlier requests left out)")
    for ex, times in shown:
        lines.append(render_curl(ex))
        got = (
            f"no answer ({ex.error or 'nothing came back'})"
            if ex.status is None
            else f"HTTP {ex.status} {_snippet(ex.response_text)}"
        )
        lines.append(f"#   -> {got}" + (f"  (same answer {times} times while polling)" if times > 1 else ""))
    return "\n".join(lines)


def _snippet(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."
