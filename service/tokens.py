"""Opaque, tamper-evident tokens for list cursors and change-feed positions.

A token is base64url(JSON payload) + "." + a truncated HMAC-SHA256 of it. Clients treat it
as an opaque string; the service refuses one it did not sign (422) instead of trusting it.
"""

import base64
import hashlib
import hmac
from typing import Any

import orjson

from service.problems import Invalid


class Signer:
    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def _mac(self, data: bytes) -> str:
        digest = hmac.new(self._key, data, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def dump(self, payload: Any) -> str:
        data = base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")
        return f"{data}.{self._mac(data.encode())}"

    def load(self, token: str, parameter: str) -> Any:
        data, _, mac = token.partition(".")
        if not (mac and token.isascii()) or not hmac.compare_digest(mac, self._mac(data.encode())):
            raise Invalid(
                f"The {parameter} is not one this service issued.",
                errors=[{"parameter": parameter, "in": "query", "detail": "invalid token"}],
            )
        return orjson.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
