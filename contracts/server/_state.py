"""Per-process state of one app instance: settings, the store connection, contract rules, accounts."""

from __future__ import annotations

from dataclasses import dataclass

from ._contract import ContractRules
from ._settings import ServerSettings
from ._storage import Store

__all__ = ["ServerState"]


@dataclass
class ServerState:
    settings: ServerSettings
    store: Store
    rules: ContractRules

    def __post_init__(self) -> None:
        self.accounts = {account.username: account for account in self.settings.accounts}

    def fault(self, name: str) -> bool:
        return name in self.settings.faults
