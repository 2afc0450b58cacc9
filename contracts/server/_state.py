"""Per-process state of one app instance: settings, the store, the contract and its shape, accounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.contract import Contract

from ._settings import Account, ServerSettings
from ._shape import Shape, shape_of
from ._storage import Store
from ._validation import Validators, validators_for

__all__ = ["ServerState"]


@dataclass
class ServerState:
    settings: ServerSettings
    store: Store
    contract: Contract
    shape: Shape = field(init=False)
    worker: Any = field(default=None, init=False)  # the OperationWorker of an asynchronous contract

    def __post_init__(self) -> None:
        self.shape = shape_of(self.contract)
        self.validators: Validators = validators_for(self.shape)
        responses = self.contract.batch_write.node.get("responses") or {}
        self.success_status = min((int(s) for s in responses if str(s).startswith("2")), default=200)
        self.accounts: dict[str, Account] = {account.username: account for account in self.settings.accounts}
        self.tokens: dict[str, Account] = {account.token: account for account in self.settings.accounts}

    def fault(self, name: str) -> bool:
        return name in self.settings.faults
