"""Client conformance: check that a client sends what the spec expects and copes with its answers.

Driven by the spec's ``Contract`` (``contracts.contract``): any API of the family, synchronous or
asynchronous. Public API: :func:`check_request` (pure checker), :class:`ClientChecker`, :class:`Violation`,
:class:`ClientCheckMiddleware` (any ASGI app), :class:`CheckStore`, :class:`Script` (scripted answers),
:func:`create_proxy_app`, :func:`serve_with_checks`, :func:`run_proxy`."""

from ._checker import ClientChecker, ConflictHistory, RequestFacts, check_request, request_key
from ._middleware import CONTROL_PREFIX, CheckOptions, ClientCheckMiddleware
from ._model import CLIENT_RULES, RULES, SERVER_RULES, RequestSummary, Violation
from ._operations import DEFAULT_MIN_POLL_INTERVAL, OperationHistory, SeenOperation
from ._proxy import ForwardingApp, create_proxy_app
from ._report import Report, fetch_report, write_reports
from ._scripts import Script, ScriptError, parse_script_flag, script_from_json
from ._serve import run_proxy, serve_with_checks
from ._spec import ClientSpec, client_spec_for, load_client_spec
from ._store import CheckStore

__all__ = [
    "CLIENT_RULES",
    "CONTROL_PREFIX",
    "DEFAULT_MIN_POLL_INTERVAL",
    "RULES",
    "SERVER_RULES",
    "CheckOptions",
    "CheckStore",
    "ClientCheckMiddleware",
    "ClientChecker",
    "ClientSpec",
    "ConflictHistory",
    "ForwardingApp",
    "OperationHistory",
    "Report",
    "RequestFacts",
    "RequestSummary",
    "Script",
    "ScriptError",
    "SeenOperation",
    "Violation",
    "check_request",
    "client_spec_for",
    "create_proxy_app",
    "fetch_report",
    "load_client_spec",
    "parse_script_flag",
    "request_key",
    "run_proxy",
    "script_from_json",
    "serve_with_checks",
    "write_reports",
]
