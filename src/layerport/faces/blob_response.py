"""A file response for immutable, content-addressed blobs.

aiohttp's ``FileResponse`` sets ``ETag`` to ``mtime-size``, runs conditionals
against that, and looks for ``.gz``/``.br`` siblings; a blob's natural ETag is
its digest and it never has siblings.  This response sends exactly one file,
with ``Range`` (one range, as S3 serves), the digest as a strong ETag,
``If-None-Match``, and zero-copy ``sendfile``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import IO, Any

from aiohttp import hdrs, web
from aiohttp.abc import AbstractStreamWriter

CHUNK = 1 << 18


class BlobResponse(web.StreamResponse):
    """Serve ``path`` (a blob of ``digest``) with Range, ETag and sendfile.

    path: the blob's file (must exist).
    digest: ``algorithm:hex``, used as the strong ETag.
    """

    def __init__(self, path: Path, digest: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(headers=headers)
        self._path = path
        self._digest = digest

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        """Answer 200, 206, 304 or 416, then stream the bytes."""
        loop = asyncio.get_running_loop()
        handle: IO[bytes] = await loop.run_in_executor(None, self._path.open, "rb")
        try:
            return await self._send(request, handle)
        finally:
            await loop.run_in_executor(None, handle.close)

    async def _send(
        self, request: web.BaseRequest, handle: IO[bytes]
    ) -> AbstractStreamWriter | None:
        size = os.fstat(handle.fileno()).st_size
        etag = f'"{self._digest}"'
        self.headers[hdrs.ETAG] = etag
        self.headers[hdrs.ACCEPT_RANGES] = "bytes"
        self.headers.setdefault(hdrs.CONTENT_TYPE, "application/octet-stream")
        self.headers["Cache-Control"] = "max-age=31536000, immutable"
        if _matches(request.headers.get(hdrs.IF_NONE_MATCH), etag):
            self.set_status(304)
            return await super().prepare(request)
        start, count = 0, size
        if hdrs.RANGE in request.headers:
            try:
                window = _range(request, size)
            except ValueError:
                self.headers[hdrs.CONTENT_RANGE] = f"bytes */{size}"
                self.set_status(416)
                self.content_length = 0
                return await super().prepare(request)
            if window is not None:
                start, count = window
                self.set_status(206)
                self.headers[hdrs.CONTENT_RANGE] = f"bytes {start}-{start + count - 1}/{size}"
        self.content_length = count
        writer = await super().prepare(request)
        if request.method == hdrs.METH_HEAD or count == 0 or writer is None:
            return writer
        await _sendfile(request, writer, handle, start, count)
        await super().write_eof()
        return writer


def _matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    return any(tag.strip() in (etag, "*", f"W/{etag}") for tag in header.split(","))


def _range(request: web.BaseRequest, size: int) -> tuple[int, int] | None:
    """(start, count) of a satisfiable single range; None to send it all; ValueError for 416."""
    window = request.http_range  # raises ValueError on a malformed header
    start, stop = window.start, window.stop
    if start is None:
        return None
    if start < 0:  # suffix: the last -start bytes
        start = max(size + start, 0)
        stop = size
    stop = size if stop is None else min(stop, size)
    if start >= size or stop <= start:
        raise ValueError("range not satisfiable")
    return start, stop - start


async def _sendfile(
    request: web.BaseRequest,
    writer: AbstractStreamWriter,
    handle: IO[bytes],
    start: int,
    count: int,
) -> None:
    loop = asyncio.get_running_loop()
    transport: Any = request.transport
    if transport is None:
        raise ConnectionResetError("Connection lost")
    await writer.drain()
    try:
        await loop.sendfile(transport, handle, start, count)
    except NotImplementedError:  # e.g. TLS transports: copy through user space instead
        handle.seek(start)
        while count > 0:
            chunk = await loop.run_in_executor(None, handle.read, min(CHUNK, count))
            if not chunk:
                break
            await writer.write(chunk)
            count -= len(chunk)
