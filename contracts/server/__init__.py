"""Reference server for the batch-order upsert API (Sendcloud Orders v3 shape) on SQLite.

Public API: :func:`create_app`, :class:`ServerSettings`, :class:`Account`, :data:`FAULTS`,
:func:`running_server` (subprocess) and :func:`running_server_in_thread`, :class:`RunningServer`.
"""

from __future__ import annotations

from ._app import create_app
from ._faults import FAULTS, Faults, UnknownFaultError, parse_faults
from ._launch import RunningServer, running_server, running_server_in_thread, serve
from ._settings import DEMO_ACCOUNTS, Account, ConfigError, ServerSettings, load_config

__all__ = [
    "DEMO_ACCOUNTS",
    "FAULTS",
    "Account",
    "ConfigError",
    "Faults",
    "RunningServer",
    "ServerSettings",
    "UnknownFaultError",
    "create_app",
    "load_config",
    "parse_faults",
    "running_server",
    "running_server_in_thread",
    "serve",
]
