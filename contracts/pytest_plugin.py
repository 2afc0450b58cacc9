"""pytest plugin (entry point ``pytest11``): the contract rules as pytest tests.

``pytest --orders-contract-url URL --orders-contract-username U --orders-contract-password P
--orders-contract-owned N`` adds one test per rule (``orders-contract::<rule id>``);
``--orders-contract-token`` replaces username/password for token schemes, ``--orders-contract-spec``
names the spec (a path or a packaged name). Without ``--orders-contract-url`` the plugin only registers
its options: nothing else is imported or collected.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .rules import Rule
    from .runner import SuiteSession

__all__ = ["pytest_addoption", "pytest_collection_modifyitems", "pytest_configure"]

_SESSION_KEY = pytest.StashKey["SuiteSession | None"]()
_ENV = {
    "--orders-contract-username": "ORDERS_CONTRACT_USERNAME",
    "--orders-contract-password": "ORDERS_CONTRACT_PASSWORD",
    "--orders-contract-token": "ORDERS_CONTRACT_TOKEN",
}
_LEGACY = {
    "--orders-contract-integration-id": "orders_contract_owned",
    "--orders-contract-foreign-integration-id": "orders_contract_foreign",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("orders-contract", "orders batch API contract suite")
    group.addoption("--orders-contract-url", help="API root of the server under test (enables the suite).")
    group.addoption("--orders-contract-username", help="HTTP Basic username.")
    group.addoption("--orders-contract-password", help="HTTP Basic password.")
    group.addoption("--orders-contract-token", help="API key or bearer token (token auth schemes).")
    group.addoption(
        "--orders-contract-owned",
        action="append",
        default=[],
        help="A value of the contract's ownership member the account owns (repeat for two).",
    )
    group.addoption(
        "--orders-contract-foreign", action="append", default=[], help="A value another account owns."
    )
    group.addoption(
        "--orders-contract-header", action="append", default=[], help="'Name: value' sent with every request."
    )
    for old, new in _LEGACY.items():  # the old option names, hidden
        group.addoption(old, action="append", default=[], dest=new, help=argparse.SUPPRESS)
    group.addoption("--orders-contract-rules", help="Comma-separated rule ids (default: all).")
    group.addoption("--orders-contract-exclude", help="Comma-separated rule ids to leave out.")
    group.addoption("--orders-contract-profile", help="Hypothesis profile: ci, dev or deep.")
    group.addoption("--orders-contract-seed", type=int, help="Seed for a reproducible run.")
    group.addoption(
        "--orders-contract-spec",
        help="OpenAPI spec with an x-contract block: a path or a packaged spec's name.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SESSION_KEY] = None


def _session(config: pytest.Config) -> SuiteSession:
    from .runner import RunConfig, SuiteSession, UsageError

    existing = config.stash[_SESSION_KEY]
    if existing is not None:
        return existing

    def opt(name: str) -> Any:  # credentials may come from the CLI's environment variables
        value = config.getoption(name)
        env = _ENV.get(name)
        return os.environ.get(env) if value is None and env is not None else value

    token = opt("--orders-contract-token")
    if token is None and not (opt("--orders-contract-username") and opt("--orders-contract-password")):
        raise pytest.UsageError(
            "--orders-contract-url also needs --orders-contract-username and --orders-contract-password "
            "(HTTP Basic) or --orders-contract-token (or ORDERS_CONTRACT_USERNAME / _PASSWORD / _TOKEN)"
        )
    headers = []
    for raw in opt("--orders-contract-header"):
        name, sep, value = str(raw).partition(":")
        if not sep:
            raise pytest.UsageError(f"--orders-contract-header takes 'Name: value', got {raw!r}")
        headers.append((name.strip(), value.strip()))
    rules = opt("--orders-contract-rules")
    exclude = opt("--orders-contract-exclude")
    run_config = RunConfig(
        base_url=str(opt("--orders-contract-url")),
        username=str(token if token is not None else opt("--orders-contract-username")),
        password="" if token is not None else str(opt("--orders-contract-password")),
        owned=tuple(opt("--orders-contract-owned")),
        foreign=tuple(opt("--orders-contract-foreign")),
        headers=tuple(headers),
        rules=tuple(rules.split(",")) if rules else (),
        exclude=tuple(exclude.split(",")) if exclude else (),
        seed=opt("--orders-contract-seed"),
        spec_path=opt("--orders-contract-spec"),
        profile=opt("--orders-contract-profile"),
    )
    try:
        session = SuiteSession(run_config)
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_SESSION_KEY] = session

    def finish() -> None:  # deletes what the rules created (bounded), then closes
        session.finish()

    config.add_cleanup(finish)
    return session


class ContractFailure(Exception):
    """A rule failed; carries the message and the curl reproduction."""


class RuleItem(pytest.Item):
    """One contract rule as a pytest test."""

    def __init__(self, *, rule: Rule, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rule = rule

    def runtest(self) -> None:
        from .runner import TargetUnreachable

        session = _session(self.config)
        try:
            result = session.run(self.rule)
        except TargetUnreachable as exc:
            raise ContractFailure(f"preflight: {exc}") from None
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status == "not_applicable":
            pytest.skip(f"not applicable: {result.message}")
        if result.status == "failed":
            raise ContractFailure(f"{result.message}\n\n{result.reproduction}".rstrip())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ContractFailure):
            return f"{self.rule.id}: {self.rule.description}\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int, str]:
        return "orders-contract", 0, f"orders-contract::{self.rule.id}"


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not config.getoption("--orders-contract-url"):
        return
    suite = _session(config)
    for rule in suite.rules:
        items.append(RuleItem.from_parent(session, name=f"orders-contract::{rule.id}", rule=rule))
