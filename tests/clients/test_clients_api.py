"""The public surface of contracts.clients: `__all__` is complete, importable and free of private names."""

from __future__ import annotations

import contracts.clients as clients
from contracts.clients import CLIENT_RULES, RULES, SERVER_RULES


def test_all_names_exist_and_are_public() -> None:
    assert len(set(clients.__all__)) == len(clients.__all__)
    for name in clients.__all__:
        assert not name.startswith("_")
        assert getattr(clients, name) is not None


def test_rule_ids_are_namespaced_and_described() -> None:
    assert set(RULES) == set(CLIENT_RULES) | set(SERVER_RULES)
    assert len(CLIENT_RULES) == 11
    assert all(rule.startswith("client.") for rule in CLIENT_RULES)
    assert all(rule.startswith("server.") for rule in SERVER_RULES)
    assert all(description for description in RULES.values())
