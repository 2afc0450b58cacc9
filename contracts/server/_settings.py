"""Immutable server configuration: accounts, storage path, timings and active faults."""

from __future__ import annotations

import dataclasses
import tomllib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._faults import FAULTS, Faults, UnknownFaultError, parse_faults

__all__ = [
    "DEFAULT_DB_PATH",
    "DEMO_ACCOUNTS",
    "DEMO_TENANT_ID",
    "Account",
    "ConfigError",
    "ServerSettings",
    "demo_accounts",
    "load_config",
]

DEFAULT_DB_PATH = str(Path(".orders-contract") / "reference.sqlite3")
DEMO_TENANT_ID = "3f1c2a6e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"


class ConfigError(ValueError):
    """The configuration file or a flag is invalid; the message says what and how to fix it."""


@dataclass(frozen=True)
class Account:
    """An API account: its credentials, the values it owns (what the contract's ownership member of an
    item must name) and the tenant-header values it may send.

    HTTP Basic checks ``username``/``password``; a token scheme (API key, bearer) checks ``api_key``, or the
    password when the account has no separate key.
    """

    username: str
    password: str
    owns: tuple[Any, ...] = ()
    tenants: tuple[str, ...] = ()
    api_key: str | None = None

    @property
    def token(self) -> str:
        return self.api_key or self.password

    @property
    def integrations(self) -> tuple[Any, ...]:  # the name of `owns` in older configs and callers
        return self.owns

    @property
    def partner_ids(self) -> tuple[str, ...]:  # the name of `tenants` in older configs and callers
        return self.tenants


DEMO_ACCOUNTS: tuple[Account, ...] = (
    Account("demo", "demo-secret", (7, 739283), (DEMO_TENANT_ID,)),
    Account("other", "other-secret", (8,)),
)
_DEMO_SETS: dict[str | None, tuple[Account, ...]] = {None: DEMO_ACCOUNTS}


def demo_accounts(spec_path: str | None) -> tuple[Account, ...]:
    """The demo accounts for the spec at ``spec_path``: ``DEMO_ACCOUNTS``, owning values of the spec's
    ownership member that its schema accepts (see ``_demo.py``); cached per spec."""
    found = _DEMO_SETS.get(spec_path)
    if found is None:
        from contracts.contract import ContractError, load_contract

        from ._demo import DemoValuesError, demo_owned_values

        try:
            first, second, third = demo_owned_values(load_contract(spec_path))
        except DemoValuesError as exc:
            raise ConfigError(str(exc)) from None
        except (ContractError, OSError):
            return DEMO_ACCOUNTS  # the spec's own error is reported where it is loaded
        demo, other = DEMO_ACCOUNTS
        found = (
            dataclasses.replace(demo, owns=(first, second)),
            dataclasses.replace(other, owns=(third,)),
        )
        if found == DEMO_ACCOUNTS:
            found = DEMO_ACCOUNTS
        _DEMO_SETS[spec_path] = found
    return found


@dataclass(frozen=True)
class ServerSettings:
    """Everything the app and its launcher need.  Built from defaults, a TOML file and CLI flags."""

    db_path: str = DEFAULT_DB_PATH
    accounts: tuple[Account, ...] = DEMO_ACCOUNTS
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    processing_delay: float = 0.0
    batch_latency: float = 0.0
    faults: Faults = field(default_factory=frozenset)
    max_body_bytes: int = 5 * 1024 * 1024
    claim_ttl: float = 30.0
    body_timeout: float = 30.0  # seconds to receive a request body
    spec_path: str | None = None
    log_level: str = "warning"

    def __post_init__(self) -> None:
        if any(self.accounts is demo for demo in _DEMO_SETS.values()):
            # Demo accounts own values of the spec's ownership member, derived from its schema.
            object.__setattr__(self, "accounts", demo_accounts(self.spec_path))
        _check_settings(self)

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-able dict (used to hand the settings to uvicorn worker processes)."""
        data = dataclasses.asdict(self)
        data["faults"] = sorted(self.faults)
        return data

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> ServerSettings:
        values = dict(data)
        if "accounts" in values:
            values["accounts"] = tuple(
                _account_from_mapping(a, f"accounts[{i}]") for i, a in enumerate(values.get("accounts", ()))
            )
        if "faults" in values:
            values["faults"] = parse_faults(values["faults"])
        return cls(**values)

    def replace(self, **changes: Any) -> ServerSettings:
        return dataclasses.replace(self, **changes)


def _check_settings(s: ServerSettings) -> None:
    if not s.accounts:
        raise ConfigError("no accounts configured; add at least one [[accounts]] table to the config file")
    seen_users: set[str] = set()
    seen_tokens: set[str] = set()
    owner: dict[Any, str] = {}
    for account in s.accounts:
        if account.username in seen_users:
            raise ConfigError(f"account {account.username!r} is configured twice; usernames must be unique")
        seen_users.add(account.username)
        if account.api_key is not None and account.api_key in seen_tokens:
            raise ConfigError(
                f"account {account.username!r} reuses another account's api_key; keys must differ"
            )
        seen_tokens.add(account.token)
        for value in account.owns:
            if value in owner:
                raise ConfigError(
                    f"owned value {value!r} belongs to both {owner[value]!r} and "
                    f"{account.username!r}; give each owned value to one account"
                )
            owner[value] = account.username
    unknown = sorted(set(s.faults) - set(FAULTS))
    if unknown:
        raise ConfigError(f"unknown fault {unknown[0]!r}; known faults: {', '.join(sorted(FAULTS))}")
    if s.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {s.workers}")
    if s.workers > 1 and s.db_path == ":memory:":
        raise ConfigError("--db :memory: cannot be shared by several workers; use a file or --workers 1")
    for name in ("processing_delay", "batch_latency"):
        value = getattr(s, name)
        if not 0 <= value <= 3600:
            raise ConfigError(f"--{name.replace('_', '-')} must be between 0 and 3600 seconds, got {value}")
    if not 0 < s.body_timeout <= 3600:
        raise ConfigError(f"body_timeout must be between 0 and 3600 seconds, got {s.body_timeout}")
    if s.max_body_bytes < 1024:
        raise ConfigError(f"max_body_bytes must be at least 1024, got {s.max_body_bytes}")
    if not 0 <= s.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {s.port}")


_OLD_OWNS, _OLD_TENANTS = "integrations", "partner_ids"  # older names of `owns` and `tenants`, still read
_ACCOUNT_KEYS = ("username", "password", "api_key", "owns", _OLD_OWNS, "tenants", _OLD_TENANTS)


def _account_from_mapping(raw: Any, where: str) -> Account:
    if isinstance(raw, Account):
        return raw
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table with username, password (or api_key) and owns")
    unknown = set(raw) - set(_ACCOUNT_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}; allowed: {', '.join(_ACCOUNT_KEYS)}")
    username, password, api_key = raw.get("username"), raw.get("password"), raw.get("api_key")
    if not isinstance(username, str) or not username or ":" in username:
        raise ConfigError(f"{where}.username: expected a non-empty string without ':'")
    if api_key is not None and (not isinstance(api_key, str) or not api_key.strip() or " " in api_key):
        raise ConfigError(f"{where}.api_key: expected a non-empty string without spaces")
    if password is None and api_key is not None:
        password = api_key
    if not isinstance(password, str) or not password:
        raise ConfigError(f"{where}.password: expected a non-empty string (or give an api_key)")
    if "owns" in raw and _OLD_OWNS in raw:
        raise ConfigError(f"{where}: give `owns` or its older name `{_OLD_OWNS}`, not both")
    owns = raw.get("owns", raw.get(_OLD_OWNS, ()))
    if _OLD_OWNS in raw:
        if (
            not isinstance(owns, Sequence)
            or isinstance(owns, str)
            or not all(type(i) is int and i > 0 for i in owns)
        ):
            raise ConfigError(f"{where}.{_OLD_OWNS}: expected a list of positive integers, e.g. [7, 739283]")
    elif (
        not isinstance(owns, Sequence)
        or isinstance(owns, str)
        or not all((type(v) is int and v > 0) or (isinstance(v, str) and v) for v in owns)
    ):
        raise ConfigError(f"{where}.owns: expected a list of positive integers or non-empty strings")
    if "tenants" in raw and _OLD_TENANTS in raw:
        raise ConfigError(f"{where}: give `tenants` or its older name `{_OLD_TENANTS}`, not both")
    tenants = raw.get("tenants", raw.get(_OLD_TENANTS, ()))
    if not isinstance(tenants, Sequence) or isinstance(tenants, str):
        raise ConfigError(f"{where}.tenants: expected a list of strings (UUIDs for a uuid tenant header)")
    checked: list[str] = []
    for value in tenants:
        try:
            checked.append(str(uuid.UUID(str(value))))
        except ValueError:
            if "partner_ids" in raw or not isinstance(value, str) or not value:
                raise ConfigError(f"{where}.tenants: {value!r} is not a UUID") from None
            checked.append(value)
    return Account(username, password, tuple(owns), tuple(checked), api_key)


_SERVER_KEYS = {
    "db": "db_path",
    "host": "host",
    "port": "port",
    "workers": "workers",
    "processing_delay": "processing_delay",
    "batch_latency": "batch_latency",
    "max_body_bytes": "max_body_bytes",
    "body_timeout": "body_timeout",
    "faults": "faults",
}


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a TOML config into ServerSettings keyword arguments (``accounts`` and ``[server]`` keys)."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {p} does not exist; pass an existing TOML file to --config") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {p} is not valid TOML: {exc}") from None
    unknown = set(raw) - {"accounts", "server"}
    if unknown:
        raise ConfigError(f"{p}: unknown top-level keys {sorted(unknown)}; allowed: [[accounts]], [server]")
    result: dict[str, Any] = {}
    accounts = raw.get("accounts")
    if accounts is not None:
        if not isinstance(accounts, list):
            raise ConfigError(f"{p}: 'accounts' must be an array of tables ([[accounts]])")
        result["accounts"] = tuple(
            _account_from_mapping(a, f"{p}: accounts[{i}]") for i, a in enumerate(accounts)
        )
    server = raw.get("server", {})
    if not isinstance(server, dict):
        raise ConfigError(f"{p}: [server] must be a table")
    for key, value in server.items():
        if key not in _SERVER_KEYS:
            raise ConfigError(f"{p}: unknown [server] key {key!r}; allowed: {sorted(_SERVER_KEYS)}")
        if key == "faults":
            try:
                value = parse_faults(value if isinstance(value, list) else [str(value)])
            except UnknownFaultError as exc:
                raise ConfigError(f"{p}: {exc}") from None
        result[_SERVER_KEYS[key]] = value
    return result
