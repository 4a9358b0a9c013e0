"""Registry-face authentication as ECR does it: HTTP Basic, user ``AWS``, token as password.

A missing or unusable ``Authorization`` gets ``401`` with a ``Basic`` challenge
(clients that only speak Bearer break on ECR too); an expired token gets
ECR's ``403 DENIED`` message.  The token's access key must still be active,
so deleting a key stops its tokens at once.
"""

from __future__ import annotations

import base64
import binascii
import math
from datetime import UTC, datetime

from aiohttp import web

from layerport.auth.principals import AccessKeys, Principal
from layerport.auth.ratelimit import RateLimiter
from layerport.auth.tokens import USERNAME, TokenError, TokenSigner
from layerport.faces.registry.oci import oci_error


class Unauthenticated(Exception):
    """The request may not proceed; ``response`` says why in the spec's terms."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


class BasicAuth:
    """Checks ``Authorization: Basic`` against authorization tokens.

    tokens: verifies token signatures and expiry.
    keys: confirms the token's access key is still active.
    realm: the ``realm`` of the challenge (the public URL).
    limiter: the per-access-key request rate limit.
    """

    def __init__(
        self, tokens: TokenSigner, keys: AccessKeys, realm: str, limiter: RateLimiter
    ) -> None:
        self.tokens = tokens
        self.keys = keys
        self.limiter = limiter
        self.challenge = f'Basic realm="{realm}/",service="ecr.amazonaws.com"'

    def _refuse(self, message: str) -> Unauthenticated:
        return Unauthenticated(
            oci_error(401, "UNAUTHORIZED", message, headers={"WWW-Authenticate": self.challenge})
        )

    async def principal(self, request: web.Request) -> Principal:
        """The caller the request's token speaks for."""
        header = request.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "basic" or not credentials:
            raise self._refuse("Not Authorized")
        try:
            user, sep, password = (
                base64.b64decode(credentials, validate=True).decode().partition(":")
            )
        except (binascii.Error, ValueError):  # ValueError: not ASCII, or not UTF-8 inside
            raise self._refuse("Not Authorized") from None
        if not sep or user != USERNAME:
            raise self._refuse("Not Authorized")
        try:
            claims = self.tokens.verify(password, datetime.now(UTC))
        except TokenError as exc:
            if "expired" in str(exc):
                raise Unauthenticated(oci_error(403, "DENIED", str(exc))) from None
            raise self._refuse("Not Authorized") from None
        key = await self.keys.get(claims.access_key_id)
        if key is None or key.account_id != claims.account_id:
            raise self._refuse("Not Authorized")
        wait = self.limiter.wait_time(key.access_key_id)
        if wait:
            raise Unauthenticated(
                oci_error(
                    429,
                    "TOOMANYREQUESTS",
                    "Rate exceeded",
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
            )
        return Principal.of(key)
