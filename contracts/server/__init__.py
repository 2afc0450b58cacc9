"""Reference server for any batch-order API of the family, served from its spec's ``Contract`` on SQLite.

Public API: :func:`create_app`, :class:`ServerSettings`, :class:`Account`, :data:`FAULTS` (and
:func:`faults_for` a dialect), :func:`running_server` (subprocess) and :func:`running_server_in_thread`,
:class:`RunningServer`, and for launchers that wrap the app (client checks): :data:`SETTINGS_ENV`,
:func:`app_from_env`, :func:`prepare_database`, :func:`uvicorn_options`.
"""

from __future__ import annotations

from ._app import create_app
from ._faults import (
    FAULTS,
    FaultNotApplicableError,
    Faults,
    UnknownFaultError,
    check_faults,
    faults_for,
    parse_faults,
)
from ._launch import (
    SETTINGS_ENV,
    RunningServer,
    app_from_env,
    prepare_database,
    running_server,
    running_server_in_thread,
    serve,
    uvicorn_options,
)
from ._settings import DEMO_ACCOUNTS, Account, ConfigError, ServerSettings, load_config
from ._storage import StoreLayoutError

__all__ = [
    "DEMO_ACCOUNTS",
    "FAULTS",
    "SETTINGS_ENV",
    "Account",
    "ConfigError",
    "FaultNotApplicableError",
    "Faults",
    "RunningServer",
    "ServerSettings",
    "StoreLayoutError",
    "UnknownFaultError",
    "app_from_env",
    "check_faults",
    "create_app",
    "faults_for",
    "load_config",
    "parse_faults",
    "prepare_database",
    "running_server",
    "running_server_in_thread",
    "serve",
    "uvicorn_options",
]
