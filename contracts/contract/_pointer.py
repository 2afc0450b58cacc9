"""RFC 6901 JSON pointers: the one walker every layer uses (get, set, split, join)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MISSING", "deref", "escape_token", "join_pointer", "pointer_get", "pointer_set", "split_pointer"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_RAISE: Any = object()


def escape_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def split_pointer(pointer: str) -> tuple[str, ...]:
    """``"/a/b~1c"`` → ``("a", "b/c")``; ``""`` → ``()``. A leading ``#`` (a URI fragment) is accepted."""
    text = pointer[1:] if pointer.startswith("#") else pointer
    if not text:
        return ()
    if not text.startswith("/"):
        raise ValueError(f"not a JSON pointer: {pointer!r} (must be empty or start with '/')")
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/"))


def join_pointer(tokens: Iterable[str | int]) -> str:
    return "".join("/" + escape_token(token) for token in tokens)


def _index(token: str, size: int) -> int | None:
    if not token.isascii() or not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        return None
    number = int(token)
    return number if number < size else None


def pointer_get(document: Any, pointer: str | tuple[str, ...], default: Any = _RAISE) -> Any:
    """The value at ``pointer``, or ``default`` when nothing is there (KeyError when no default is given)."""
    node = document
    for token in split_pointer(pointer) if isinstance(pointer, str) else pointer:
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and (position := _index(token, len(node))) is not None:
            node = node[position]
        else:
            if default is _RAISE:
                raise KeyError(pointer)
            return default
    return node


def pointer_set(document: Any, pointer: str, value: Any) -> None:
    """Set the value at ``pointer``, creating missing objects on the way (the root cannot be replaced)."""
    tokens = split_pointer(pointer)
    if not tokens:
        raise ValueError("cannot set the whole document through the empty pointer")
    node = document
    for token in tokens[:-1]:
        if isinstance(node, list):
            position = _index(token, len(node))
            if position is None:
                raise KeyError(pointer)
            node = node[position]
        else:
            node = node.setdefault(token, {})
    last = tokens[-1]
    if isinstance(node, list):
        position = _index(last, len(node))
        if position is None:
            raise KeyError(pointer)
        node[position] = value
    else:
        node[last] = value


_EMPTY: Any = object()


def deref(document: Mapping[str, Any], node: Any, missing: Any = _EMPTY, *, depth: int = 32) -> Any:
    """``node`` with local ``$ref`` s followed (at most ``depth`` of them, so a reference cycle ends);
    ``missing`` (default: a new ``{}``) for a reference to nothing in the document.  A reference that is
    not a JSON pointer into the document (``other.yaml#/x``) raises ValueError, as ``split_pointer`` does."""
    for _ in range(depth):
        if not isinstance(node, Mapping) or not isinstance(node.get("$ref"), str):
            return node
        node = pointer_get(document, node["$ref"], {} if missing is _EMPTY else missing)
    return node
