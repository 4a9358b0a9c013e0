"""Blob routes: HEAD answers from metadata; GET redirects to the pre-signed layer URL."""

from __future__ import annotations

from aiohttp import web

from layerport.digest import Digest, InvalidDigest
from layerport.faces.registry.context import Call
from layerport.faces.registry.oci import API_VERSION, oci_error


def parse_digest(text: str) -> Digest | web.Response:
    """The digest in a path or query, or the spec's DIGEST_INVALID response."""
    try:
        return Digest.parse(text)
    except InvalidDigest as exc:
        return oci_error(400, "DIGEST_INVALID", str(exc))


async def head_blob(call: Call) -> web.StreamResponse:
    """200 with size and digest when the repository holds the blob (no redirect)."""
    digest = parse_digest(call.ref)
    if isinstance(digest, web.Response):
        return web.Response(status=400, headers=API_VERSION)
    size = await call.registry.blob_size(call.caller, call.name, digest)
    return web.Response(
        status=200,
        headers={
            **API_VERSION,
            "Content-Length": str(size),
            "Content-Type": "application/octet-stream",
            "Docker-Content-Digest": str(digest),
            "ETag": f'"{digest}"',
        },
    )


async def get_blob(call: Call) -> web.StreamResponse:
    """307 to exactly the URL GetDownloadUrlForLayer returns for this layer."""
    digest = parse_digest(call.ref)
    if isinstance(digest, web.Response):
        return digest
    layers = call.service.layers
    url = await layers.download_url(call.caller, call.registry.registry_id, call.name, digest)
    return web.Response(
        status=307,
        headers={**API_VERSION, "Location": url, "Docker-Content-Digest": str(digest)},
    )


async def delete_blob(call: Call) -> web.StreamResponse:
    """Unlink a blob no image uses; 202."""
    digest = parse_digest(call.ref)
    if isinstance(digest, web.Response):
        return digest
    await call.registry.delete_blob(call.caller, call.name, digest)
    return web.Response(status=202, headers=API_VERSION)
