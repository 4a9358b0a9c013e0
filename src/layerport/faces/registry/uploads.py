"""Upload routes: POST (start, monolithic, mount), PATCH (chunks), PUT (finish), GET, DELETE.

Bodies are streamed into the blob store in 1 MiB pieces and hashed on the way,
so memory does not grow with the layer.  Sessions are the same uploads the ECR
API makes: they survive a restart and can continue on another replica.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

from aiohttp import web

from layerport.errors import EcrError, InvalidLayerPartException, UploadNotFoundException
from layerport.faces.registry.blobs import parse_digest
from layerport.faces.registry.context import Call
from layerport.faces.registry.oci import API_VERSION, from_ecr, oci_error
from layerport.store.metadata import Repository

CHUNK = 1 << 20
_CONTENT_RANGE = re.compile(r"(?:bytes[ =])?(\d+)-(\d+)(?:/(?:\d+|\*))?")


def _range(size: int) -> str:
    """The spec's upload progress header value: inclusive offsets received so far."""
    return f"0-{max(size - 1, 0)}"


def _session_headers(call: Call, upload_id: str, size: int) -> dict[str, str]:
    return {
        **API_VERSION,
        "Location": call.location("blobs", "uploads", upload_id),
        "Range": _range(size),
        "Docker-Upload-UUID": upload_id,
        "Blob-Upload-Session-ID": upload_id,
        "Content-Length": "0",
    }


async def _body(request: web.Request) -> AsyncIterator[bytes]:
    async for chunk in request.content.iter_chunked(CHUNK):
        yield chunk


def _known_id(ref: str) -> str | None:
    try:
        return str(uuid.UUID(ref))
    except ValueError:
        return None


def _created(call: Call, digest: str) -> web.Response:
    return web.Response(
        status=201,
        headers={
            **API_VERSION,
            "Location": call.location("blobs", digest),
            "Docker-Content-Digest": digest,
            "Content-Length": "0",
        },
    )


async def start_upload(call: Call) -> web.StreamResponse:
    """Open a session; or mount from another repository; or take the blob in one POST."""
    query = call.request.query
    registry = call.registry
    uploads = call.service.uploads
    if "mount" in query:
        digest = parse_digest(query["mount"])
        if not isinstance(digest, web.Response) and await registry.mount(
            call.caller, call.name, digest, query.get("from", "")
        ):
            return _created(call, str(digest))
    repository = await registry.repository_for_push(call.caller, call.name, "InitiateLayerUpload")
    if "digest" in query:  # a monolithic upload is also a part and a completion
        for action in ("UploadLayerPart", "CompleteLayerUpload"):
            await registry.allow(call.caller, repository, action)
    upload_id = await uploads.begin(repository)
    if "digest" in query:
        return await _finish(call, repository, upload_id, query["digest"], offset=0)
    return web.Response(status=202, headers=_session_headers(call, upload_id, 0))


async def _session(call: Call, action: str = "UploadLayerPart") -> tuple[Repository, str, int]:
    """The repository (once ``action`` is allowed), the upload id and its size."""
    repository = await call.registry.repository(call.caller, call.name, action)
    upload_id = _known_id(call.ref)
    if upload_id is None:
        raise UploadNotFoundException(f"The upload with id '{call.ref}' does not exist")
    upload = await call.service.uploads.find(repository, upload_id)
    return repository, upload_id, upload.size


def _out_of_order(call: Call, upload_id: str, size: int, why: str) -> web.Response:
    response = oci_error(416, "BLOB_UPLOAD_INVALID", why)
    response.headers.update(_session_headers(call, upload_id, size))
    response.headers.pop("Content-Length", None)
    return response


async def _append(
    call: Call, repository: Repository, upload_id: str, size: int
) -> int | web.Response:
    """Stream the request body onto the upload after checking ``Content-Range``."""
    content_range = call.request.headers.get("Content-Range")
    if content_range is not None:
        match = _CONTENT_RANGE.fullmatch(content_range.strip())
        if match is None:
            return _out_of_order(call, upload_id, size, f"bad Content-Range {content_range!r}")
        start, end = int(match[1]), int(match[2])
        length = call.request.content_length
        if start != size or end < start or (length is not None and end - start + 1 != length):
            return _out_of_order(call, upload_id, size, f"the next chunk must start at byte {size}")
    try:
        return await call.service.uploads.append(repository, upload_id, size, _body(call.request))
    except InvalidLayerPartException as error:
        return _out_of_order(
            call, upload_id, error.fields["lastValidByteReceived"] + 1, error.message
        )


async def patch_upload(call: Call) -> web.StreamResponse:
    """Append a chunk; 202 with the new progress, or 416 when out of order."""
    repository, upload_id, size = await _session(call)
    result = await _append(call, repository, upload_id, size)
    if isinstance(result, web.Response):
        return result
    return web.Response(status=202, headers=_session_headers(call, upload_id, result))


async def put_upload(call: Call) -> web.StreamResponse:
    """Append the final chunk, if any, then verify the digest and commit; 201."""
    repository, upload_id, size = await _session(call, "CompleteLayerUpload")
    if call.request.body_exists:  # the final chunk is an UploadLayerPart too
        await call.registry.allow(call.caller, repository, "UploadLayerPart")
    if "digest" not in call.request.query:
        return oci_error(400, "DIGEST_INVALID", "the digest query parameter is required")
    return await _finish(call, repository, upload_id, call.request.query["digest"], size)


async def _finish(
    call: Call, repository: Repository, upload_id: str, digest_text: str, offset: int
) -> web.StreamResponse:
    digest = parse_digest(digest_text)
    if isinstance(digest, web.Response):
        return digest
    if call.request.body_exists:
        result = await _append(call, repository, upload_id, offset)
        if isinstance(result, web.Response):
            return result
    try:
        committed = await call.service.uploads.complete(
            repository, upload_id, digest, registry=True
        )
    except EcrError as error:
        return from_ecr(error)
    return _created(call, str(committed))


async def upload_status(call: Call) -> web.StreamResponse:
    """204 with the bytes received so far."""
    _, upload_id, size = await _session(call)
    headers = _session_headers(call, upload_id, size)
    del headers["Content-Length"]  # a 204 has no body to measure
    return web.Response(status=204, headers=headers)


async def cancel_upload(call: Call) -> web.StreamResponse:
    """Abandon the session and its bytes; 204."""
    repository, upload_id, _ = await _session(call)
    await call.service.uploads.cancel(repository, upload_id)
    return web.Response(status=204, headers=API_VERSION)
