"""GetAuthorizationToken: a 12-hour token for the registry face (``docker login``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from layerport.auth.principals import Principal
from layerport.service.context import ServiceContext, authorize


class Authorization:
    """Issues registry tokens bound to the calling access key."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def get_authorization_token(
        self, caller: Principal, *, registry_ids: list[str] | None = None
    ) -> dict[str, Any]:
        """One entry per requested registry (deprecated parameter), else one entry.

        The token works for every registry the principal can reach, as ECR's does,
        so each entry carries the same token.
        """
        await authorize(self.ctx, caller, None, "GetAuthorizationToken")
        token, expires_at = self.ctx.tokens.issue(
            caller.access_key_id, caller.account_id, datetime.now(UTC)
        )
        entry = {
            "authorization_token": token,
            "expires_at": expires_at,
            "proxy_endpoint": self.ctx.public_url,
        }
        return {"authorization_data": [dict(entry) for _ in registry_ids or [""]]}
