"""Client conformance: check that a client sends what the spec expects and copes with its answers.

Public API: :func:`check_request` (pure checker), :class:`ClientChecker`, :class:`Violation`."""

from ._checker import ClientChecker, ConflictHistory, check_request, request_key
from ._model import CLIENT_RULES, RULES, SERVER_RULES, RequestSummary, Violation
from ._spec import ClientSpec, load_client_spec

__all__ = [
    "CLIENT_RULES",
    "RULES",
    "SERVER_RULES",
    "ClientChecker",
    "ClientSpec",
    "ConflictHistory",
    "RequestSummary",
    "Violation",
    "check_request",
    "load_client_spec",
    "request_key",
]
