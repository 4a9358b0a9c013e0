"""Manifest routes: GET/HEAD with content negotiation, PUT by tag or digest, DELETE."""

from __future__ import annotations

import json

from aiohttp import web

from layerport.errors import EcrError
from layerport.faces.registry.blobs import parse_digest
from layerport.faces.registry.context import Call
from layerport.faces.registry.oci import API_VERSION, from_ecr, oci_error
from layerport.service import manifests
from layerport.service.registry import StoredManifest, is_digest

#: The image manifest cap of ECR (the model's ImageManifest max).
MAX_MANIFEST = 4 * 1024 * 1024

#: How a manifest PUT reports the service's refusals, in the spec's codes.
PUT_ERRORS = {
    "LayersNotFoundException": ("MANIFEST_BLOB_UNKNOWN", 400),
    "InvalidParameterException": ("MANIFEST_INVALID", 400),
}


def _accepts(accept: str, media_type: str) -> bool:
    if not accept.strip():
        return True
    types = {part.split(";")[0].strip() for part in accept.split(",")}
    return bool(types & {media_type, "*/*", "application/*"})


async def _negotiate(call: Call, stored: StoredManifest) -> StoredManifest | web.Response:
    """The manifest the client can take: an index it does not accept falls back to its
    linux/amd64 child (as Distribution does); a type it does not accept is not found."""
    accept = ",".join(call.request.headers.getall("Accept", []))
    if _accepts(accept, stored.media_type):
        return stored
    if stored.media_type in manifests.INDEXES:
        for child in json.loads(stored.raw).get("manifests", []):
            platform = child.get("platform") or {}
            if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
                picked = await call.registry.manifest(call.caller, call.name, child["digest"])
                if _accepts(accept, picked.media_type):
                    return picked
    return oci_error(
        404,
        "MANIFEST_UNKNOWN",
        f"the manifest is a {stored.media_type}, which the Accept header does not include",
    )


def _bad_digest(call: Call) -> web.Response | None:
    """DIGEST_INVALID for a reference meant as a digest (it has a ``:``) that is not one."""
    if not is_digest(call.ref):
        return None
    parsed = parse_digest(call.ref)
    return parsed if isinstance(parsed, web.Response) else None


def _headers(stored: StoredManifest) -> dict[str, str]:
    return {
        **API_VERSION,
        "Content-Type": stored.media_type,
        "Docker-Content-Digest": stored.digest,
        "ETag": f'"{stored.digest}"',
    }


async def get_manifest(call: Call) -> web.StreamResponse:
    """The manifest bytes exactly as pushed."""
    if (bad := _bad_digest(call)) is not None:
        return bad
    chosen = await _negotiate(call, await call.registry.manifest(call.caller, call.name, call.ref))
    if isinstance(chosen, web.Response):
        return chosen
    return web.Response(status=200, body=chosen.raw, headers=_headers(chosen))


async def head_manifest(call: Call) -> web.StreamResponse:
    """GET's headers without the body."""
    if _bad_digest(call) is not None:
        return web.Response(status=400, headers=API_VERSION)
    chosen = await _negotiate(call, await call.registry.manifest(call.caller, call.name, call.ref))
    if isinstance(chosen, web.Response):
        return web.Response(status=chosen.status, headers=API_VERSION)
    return web.Response(
        status=200, headers={**_headers(chosen), "Content-Length": str(len(chosen.raw))}
    )


async def put_manifest(call: Call) -> web.StreamResponse:
    """Store a manifest; 201 with its digest (and OCI-Subject for a referrer)."""
    request = call.request
    if (bad := _bad_digest(call)) is not None:
        return bad
    if (request.content_length or 0) > MAX_MANIFEST:
        return oci_error(413, "SIZE_INVALID", f"manifests are limited to {MAX_MANIFEST} bytes")
    body = bytearray()  # read() returns what is buffered, so a large or chunked body takes several
    while chunk := await request.content.read(MAX_MANIFEST + 1 - len(body)):
        body += chunk
        if len(body) > MAX_MANIFEST:
            return oci_error(413, "SIZE_INVALID", f"manifests are limited to {MAX_MANIFEST} bytes")
    raw = bytes(body)
    media_type = request.headers.get("Content-Type", "").split(";")[0].strip() or None
    try:
        digest, subject = await call.registry.put_manifest(
            call.caller, call.name, call.ref, raw, media_type
        )
    except EcrError as error:
        return from_ecr(error, PUT_ERRORS)
    headers = {
        **API_VERSION,
        "Location": call.location("manifests", digest),
        "Docker-Content-Digest": digest,
    }
    if subject:
        headers["OCI-Subject"] = subject
    return web.Response(status=201, headers=headers)


async def delete_manifest(call: Call) -> web.StreamResponse:
    """Delete by digest (the image) or by tag (only the tag); 202."""
    if (bad := _bad_digest(call)) is not None:
        return bad
    await call.registry.delete_manifest(call.caller, call.name, call.ref)
    return web.Response(status=202, headers=API_VERSION)
