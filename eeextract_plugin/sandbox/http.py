"""The sandbox's HTTP request and response, independent of the server that carries them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Union

from eeextract_plugin.sandbox.errors import EEError, invalid_argument


@dataclass
class Request:
    method: str
    path: str                      # URL-decoded path, without the query string
    query: Dict[str, List[str]]    # parsed query string (parse_qs)
    headers: Dict[str, str]        # header names lower-cased
    body: bytes = b""

    def param(self, name: str, default: Optional[str] = None) -> Optional[str]:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Dict[str, Any]:
        if not self.body:
            return {}
        try:
            value = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise invalid_argument(f"Invalid JSON payload received. {exc}") from None
        if not isinstance(value, dict):
            raise invalid_argument("Invalid JSON payload received. Expected an object.")
        return value

    @property
    def bearer_token(self) -> Optional[str]:
        auth = self.headers.get("authorization", "")
        return auth[7:].strip() or None if auth.lower().startswith("bearer ") else None


@dataclass
class Response:
    status: int = 200
    body: Union[bytes, Iterable[bytes]] = b""
    content_type: str = "application/json; charset=UTF-8"
    headers: Dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(value, separators=(",", ":")).encode("utf-8"))

    @classmethod
    def error(cls, error: EEError) -> Response:
        response = cls.json(error.body(), error.code)
        response.headers.update(error.headers)
        return response
