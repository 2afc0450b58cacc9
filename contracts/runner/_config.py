"""Options from a config file: ``orders-contract.toml`` (top level) or ``[tool.orders-contract]`` in
``pyproject.toml``, in the current folder. Keys are option names (``base-url`` or ``base_url``); a
``[run]`` / ``[conformance]`` table (``[tool.orders-contract.run]``) holds options of one command only.
Flags win over environment variables, which win over the file."""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any

__all__ = ["ConfigFileError", "config_defaults", "find_config"]

COMMANDS = ("run", "conformance")


class ConfigFileError(ValueError):
    """A config file that cannot be used; the message is one line naming the file and the fix."""


def find_config(folder: Path) -> tuple[Path, dict[str, Any]] | None:
    """The config table found in ``folder`` and where it came from (None when there is none)."""
    own = folder / "orders-contract.toml"
    if own.is_file():
        return own, _read(own)
    project = folder / "pyproject.toml"
    if project.is_file():
        table = _read(project).get("tool", {}).get("orders-contract")
        if isinstance(table, dict):
            return project, table
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path} is not valid TOML: {exc}") from None


def config_defaults(
    command: str,
    options: Collection[str],
    multiple: Collection[str],
    elsewhere: Collection[str] = (),
    folder: Path | None = None,
) -> dict[str, Any]:
    """Defaults for ``command`` (a click ``default_map``): the shared keys, then the command's table.

    ``options`` are the command's parameter names, ``multiple`` those that take a list, ``elsewhere``
    options of the other commands (a shared key for them is not an error here). An unknown key is a
    ``ConfigFileError``: a typo would otherwise be ignored silently."""
    found = find_config(folder or Path.cwd())
    if found is None:
        return {}
    path, table = found
    where = "[tool.orders-contract]" if path.name == "pyproject.toml" else "top level"
    shared = {k: v for k, v in table.items() if k not in COMMANDS}
    own = table.get(command, {})
    if not isinstance(own, dict):
        raise ConfigFileError(f"{path}: {command} must be a table of options, not {type(own).__name__}")
    defaults: dict[str, Any] = {}
    for source, section in ((shared, where), (own, f"[{command}]")):
        for key, value in source.items():
            name = key.replace("-", "_")
            if name not in options:
                if source is own or name not in elsewhere:
                    known = ", ".join(sorted(o.replace("_", "-") for o in options))
                    raise ConfigFileError(f"{path} {section}: unknown option {key!r}; known: {known}")
                continue  # an option of the other command
            if name in multiple and not isinstance(value, list):
                value = [value]
            defaults[name] = [str(v) for v in value] if isinstance(value, list) else value
    return defaults
