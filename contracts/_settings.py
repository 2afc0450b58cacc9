"""Hypothesis settings profiles for the contract suite, registered in one place.

Profiles: ``ci`` (fast, used by ``make test``), ``dev`` (default for local runs) and ``deep`` (long
searches). Choose with the environment variable ``ORDERS_CONTRACT_PROFILE`` or ``--profile``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hypothesis import settings

# Hypothesis is imported by the functions that need it: the CLI reads PROFILES for its help text, and
# `orders-contract --help` must not pay for Hypothesis.

__all__ = [
    "PROFILE_ENV",
    "PROFILES",
    "Profile",
    "active_profile",
    "examples_for_profile",
    "hypothesis_settings",
    "register_profiles",
]

PROFILE_ENV = "ORDERS_CONTRACT_PROFILE"


@dataclass(frozen=True)
class Profile:
    """Budget of one profile: examples per property rule, Schemathesis examples per operation and mode,
    and the default time limits."""

    name: str
    max_examples: int
    schemathesis_examples: int
    deadline_s: float  # default deadline of a whole run
    rule_budget_s: float  # default time one rule may take


PROFILES: dict[str, Profile] = {
    "ci": Profile("ci", max_examples=6, schemathesis_examples=2, deadline_s=180, rule_budget_s=30),
    "dev": Profile("dev", max_examples=20, schemathesis_examples=5, deadline_s=300, rule_budget_s=60),
    "deep": Profile("deep", max_examples=200, schemathesis_examples=50, deadline_s=3600, rule_budget_s=300),
}

_REGISTERED: list[bool] = []


def _suppressed() -> list[Any]:
    from hypothesis import HealthCheck

    return list(HealthCheck)


def register_profiles() -> None:
    """Register every profile with Hypothesis under ``orders-contract-<name>`` (idempotent)."""
    from hypothesis import settings

    _REGISTERED.append(True)
    for profile in PROFILES.values():
        settings.register_profile(
            f"orders-contract-{profile.name}",
            max_examples=profile.max_examples,
            deadline=None,
            database=None,
            suppress_health_check=_suppressed(),
            print_blob=False,
        )


def active_profile(name: str | None = None) -> Profile:
    """The profile named explicitly, else the one in ``ORDERS_CONTRACT_PROFILE``, else ``dev``."""
    chosen = name or os.environ.get(PROFILE_ENV) or "dev"
    try:
        return PROFILES[chosen]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValueError(f"unknown profile {chosen!r}; choose one of: {known}") from None


def examples_for_profile(*, ci: int, dev: int, deep: int) -> int:
    """A property test's example count: the profile in ``ORDERS_CONTRACT_PROFILE``, else ``ci``, so the
    test suite is fast unless asked for more (``make test-deep``)."""
    return {"ci": ci, "dev": dev, "deep": deep}[active_profile(os.environ.get(PROFILE_ENV) or "ci").name]


def hypothesis_settings(max_examples: int, *, derandomize: bool = False) -> settings:
    """Settings for one property run inside a rule: no deadline, no example database, no health checks."""
    from hypothesis import settings

    if not _REGISTERED:
        register_profiles()
    return settings(
        max_examples=max(1, max_examples),
        deadline=None,
        database=None,
        suppress_health_check=_suppressed(),
        derandomize=derandomize,
        print_blob=False,
        report_multiple_bugs=False,
    )
