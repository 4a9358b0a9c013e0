"""GetDownloadUrlForLayer and BatchCheckLayerAvailability.

A layer URL is handed out only for a digest that is linked into the repository
*and* referenced by one of its images (as a layer or as a config), checked in
that order so each failure has ECR's own exception.  The check is one indexed
query; the URL is one HMAC.
"""

from __future__ import annotations

from typing import Any

from layerport.auth.principals import Principal
from layerport.digest import Digest, InvalidDigest
from layerport.errors import (
    LayerInaccessibleException,
    LayersNotFoundException,
    RepositoryNotFoundException,
)
from layerport.service.context import (
    ServiceContext,
    authorize,
    find_repository,
    not_found_message,
    parse_digest,
)


class Layers:
    """Reading layers: availability and pre-signed download URLs."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def download_url(
        self, caller: Principal, registry_id: str | None, repository_name: str, digest: Digest
    ) -> str:
        """The pre-signed URL of a referenced layer; the registry face redirects to it."""
        registry = await authorize(
            self.ctx, caller, registry_id, "GetDownloadUrlForLayer", repository_name
        )
        access = await self.ctx.metadata.layer_access(registry, repository_name, str(digest))
        where = f"the repository with name '{repository_name}' in the registry with id '{registry}'"
        if not access.repository_exists:
            raise RepositoryNotFoundException(not_found_message(repository_name, registry))
        if not access.linked:
            raise LayersNotFoundException(
                f"The layer with digest '{digest}' does not exist within {where}"
            )
        if not access.referenced:
            raise LayerInaccessibleException(
                f"The layer with digest '{digest}' in {where} is not associated with an image"
            )
        return self.ctx.blobs.download_url(digest, self.ctx.presign_expires)

    async def get_download_url_for_layer(
        self,
        caller: Principal,
        *,
        repository_name: str,
        layer_digest: str,
        registry_id: str | None = None,
    ) -> dict[str, Any]:
        """Pre-signed, expiring download URL of a layer an image in the repository uses."""
        digest = parse_digest(layer_digest, "layerDigest")
        url = await self.download_url(caller, registry_id, repository_name, digest)
        return {"download_url": url, "layer_digest": str(digest)}

    async def batch_check_layer_availability(
        self,
        caller: Principal,
        *,
        repository_name: str,
        layer_digests: list[str],
        registry_id: str | None = None,
    ) -> dict[str, Any]:
        """AVAILABLE (with size) for each digest the repository holds, UNAVAILABLE otherwise."""
        repository = await find_repository(
            self.ctx, caller, registry_id, repository_name, "BatchCheckLayerAvailability"
        )
        failures: list[dict[str, Any]] = []
        valid: list[str] = []
        for text in layer_digests:
            if not text:
                failures.append(
                    {
                        "layer_digest": text,
                        "failure_code": "MissingLayerDigest",
                        "failure_reason": "Missing layer digest",
                    }
                )
                continue
            try:
                valid.append(str(Digest.parse(text)))
            except InvalidDigest as exc:
                failures.append(
                    {
                        "layer_digest": text,
                        "failure_code": "InvalidLayerDigest",
                        "failure_reason": f"Invalid layer digest: {exc}",
                    }
                )
        sizes = await self.ctx.metadata.linked_blob_sizes(repository.id, valid)
        layers = [
            {"layer_digest": d, "layer_availability": "AVAILABLE", "layer_size": sizes[d]}
            if d in sizes
            else {"layer_digest": d, "layer_availability": "UNAVAILABLE"}
            for d in dict.fromkeys(valid)
        ]
        return {"layers": layers, "failures": failures}
