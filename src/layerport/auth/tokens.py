"""Authorization tokens: what GetAuthorizationToken hands out and ``/v2/`` Basic auth checks.

ECR's token is ``base64("AWS:" + password)``, valid for 12 hours.  Ours carries its
claims (access key, account, expiry) in the password, with an HMAC-SHA256 over
them under a server secret that every replica shares, so checking a token is
one HMAC and never a password hash.  The password is base64 of JSON, like
ECR's, so it holds no ``:`` (``aws ecr get-login-password`` splits on it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

TOKEN_LIFETIME: Final = timedelta(hours=12)
USERNAME: Final = "AWS"


class TokenError(Exception):
    """The token is malformed, forged, or expired; the message says which."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """Whom a token speaks for, and until when."""

    access_key_id: str
    account_id: str
    expires_at: datetime


class TokenSigner:
    """Mints and verifies tokens under one server secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()

    def issue(self, access_key_id: str, account_id: str, now: datetime) -> tuple[str, datetime]:
        """A token (``base64("AWS:" + password)``) and the moment it expires."""
        expires_at = (now + TOKEN_LIFETIME).replace(microsecond=0)
        payload = json.dumps(
            {"accessKeyId": access_key_id, "accountId": account_id},
            separators=(",", ":"),
            sort_keys=True,
        )
        encoded = base64.b64encode(payload.encode()).decode()
        expiration = int(expires_at.timestamp())
        body = {
            "payload": encoded,
            "version": "2",
            "type": "DATA_KEY",
            "expiration": expiration,
            "signature": self._mac(f"{encoded}.{expiration}"),
        }
        password = base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()
        token = base64.b64encode(f"{USERNAME}:{password}".encode()).decode()
        return token, expires_at

    def verify(self, password: str, now: datetime) -> TokenClaims:
        """Check a Basic-auth password; raise :class:`TokenError` unless valid now."""
        try:
            body = json.loads(base64.b64decode(password, validate=True))
            encoded = body["payload"]
            expiration = int(body["expiration"])
            signature = body["signature"]
            if not isinstance(encoded, str) or not isinstance(signature, str):
                raise TypeError
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise TokenError("the authorization token is malformed") from None
        if not hmac.compare_digest(self._mac(f"{encoded}.{expiration}"), signature):
            raise TokenError("the authorization token is not valid")
        expires_at = datetime.fromtimestamp(expiration, UTC)
        if now >= expires_at:
            raise TokenError("Your authorization token has expired. Reauthenticate and try again.")
        claims = json.loads(base64.b64decode(encoded))
        return TokenClaims(claims["accessKeyId"], claims["accountId"], expires_at)
