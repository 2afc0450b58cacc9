"""pytest plugin (entry point ``pytest11``): the contract rules as pytest tests.

``pytest --orders-contract-url URL --orders-contract-username U --orders-contract-password P
--orders-contract-integration-id N`` adds one test per rule (``orders-contract::<rule id>``). Without
``--orders-contract-url`` the plugin only registers its options: nothing else is imported or collected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .rules import Rule
    from .runner import SuiteSession

__all__ = ["pytest_addoption", "pytest_collection_modifyitems", "pytest_configure"]

_SESSION_KEY = pytest.StashKey["SuiteSession | None"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("orders-contract", "orders batch API contract suite")
    group.addoption("--orders-contract-url", help="API root of the server under test (enables the suite).")
    group.addoption("--orders-contract-username", help="HTTP Basic username.")
    group.addoption("--orders-contract-password", help="HTTP Basic password.")
    group.addoption(
        "--orders-contract-integration-id",
        action="append",
        type=int,
        default=[],
        help="Integration id of the account (repeat for two).",
    )
    group.addoption(
        "--orders-contract-foreign-integration-id", type=int, help="Integration of another account."
    )
    group.addoption("--orders-contract-rules", help="Comma-separated rule ids (default: all).")
    group.addoption("--orders-contract-profile", help="Hypothesis profile: ci, dev or deep.")
    group.addoption("--orders-contract-seed", type=int, help="Seed for a reproducible run.")
    group.addoption("--orders-contract-spec", help="OpenAPI spec with the x-contract block.")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SESSION_KEY] = None


def _session(config: pytest.Config) -> SuiteSession:
    from .runner import RunConfig, SuiteSession, UsageError

    existing = config.stash[_SESSION_KEY]
    if existing is not None:
        return existing
    opt = config.getoption
    missing = [name for name in ("username", "password") if not opt(f"--orders-contract-{name}")]
    if missing or not opt("--orders-contract-integration-id"):
        names = [f"--orders-contract-{n}" for n in missing]
        if not opt("--orders-contract-integration-id"):
            names.append("--orders-contract-integration-id")
        raise pytest.UsageError(f"--orders-contract-url also needs {', '.join(names)}")
    rules = opt("--orders-contract-rules")
    run_config = RunConfig(
        base_url=str(opt("--orders-contract-url")),
        username=str(opt("--orders-contract-username")),
        password=str(opt("--orders-contract-password")),
        integration_ids=tuple(opt("--orders-contract-integration-id")),
        foreign_integration_id=opt("--orders-contract-foreign-integration-id"),
        rules=tuple(rules.split(",")) if rules else (),
        seed=opt("--orders-contract-seed"),
        spec_path=opt("--orders-contract-spec"),
        profile=opt("--orders-contract-profile"),
    )
    try:
        session = SuiteSession(run_config)
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_SESSION_KEY] = session
    config.add_cleanup(session.close)
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
            raise ContractFailure(f"target unreachable: {exc}") from None
        if result.status == "skipped":
            pytest.skip(result.message)
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
