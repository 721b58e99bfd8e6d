"""Earth Engine-style errors: what the service answers, as ``{"error": {code, message, status}}``."""

from __future__ import annotations

from typing import Any, Dict


class EEError(Exception):
    """An error the sandbox answers with, shaped like Earth Engine's (google.rpc.Status)."""

    def __init__(self, code: int, status: str, message: str, headers: Dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> Dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


def invalid_argument(message: str) -> EEError:
    return EEError(400, "INVALID_ARGUMENT", message)


def not_found(message: str) -> EEError:
    return EEError(404, "NOT_FOUND", message)


def failed_precondition(message: str) -> EEError:
    return EEError(400, "FAILED_PRECONDITION", message)


def resource_exhausted(message: str) -> EEError:
    return EEError(429, "RESOURCE_EXHAUSTED", message)


def unauthenticated(message: str = "Request is missing required authentication credential.") -> EEError:
    return EEError(401, "UNAUTHENTICATED", message)


def permission_denied(message: str) -> EEError:
    return EEError(403, "PERMISSION_DENIED", message)


def internal(message: str = "An internal error has occurred.") -> EEError:
    return EEError(500, "INTERNAL", message)


def unavailable(message: str = "The service is currently unavailable.") -> EEError:
    return EEError(503, "UNAVAILABLE", message)


def method_not_allowed(method: str, path: str) -> EEError:
    return EEError(405, "METHOD_NOT_ALLOWED", f"Method {method} is not allowed for {path}.")
