"""Blob store on a local directory: temp-free appends, fsync, atomic rename.

Differences from the contract in :mod:`layerport.store.blobs`: ``commit`` is a
rename inside one filesystem, so it is atomic and instant whatever the size;
download URLs point at layerport's own ``/_blob`` path, signed with the
server's presign key, and :mod:`layerport.faces.blob_api` serves them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from layerport.auth.presign import PresignKey, presign_get
from layerport.digest import Digest
from layerport.store.blobs import UploadOffsetError, layout

#: Writes are gathered into buffers of this size before each trip to a worker thread.
WRITE_BUFFER = 1 << 20
READ_CHUNK = 1 << 20


def blob_url_path(digest: Digest) -> str:
    """The path of a blob on layerport's blob face."""
    return f"/_blob/{digest.algorithm}/{digest.hex}"


class FilesystemBlobStore:
    """Blobs as files under ``root``; see :mod:`layerport.store.blobs.layout`.

    root: the directory (created if missing).
    public_url: base of the download URLs (``http://host:port``).
    region: the region the presign scope names.
    key: the server's presign credential.
    """

    def __init__(self, root: Path, *, public_url: str, region: str, key: PresignKey) -> None:
        self.root = root.resolve()
        self.public_url = public_url
        self.region = region
        self.key = key
        for sub in ("blobs", "uploads"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The file for a layout key, confined to the root (a key never escapes it)."""
        path = (self.root / key).resolve()
        if os.path.commonpath([self.root, path]) != str(self.root):
            raise ValueError(f"key {key!r} escapes the blob store")
        return path

    def blob_path(self, digest: Digest) -> Path:
        """The file holding blob ``digest`` (it may not exist)."""
        return self.path(layout.blob_key(digest))

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        """Write at ``offset`` after dropping any bytes past it; fsync before returning."""
        path = self.path(layout.upload_key(upload_id))
        handle = await asyncio.to_thread(_open_at, path, offset)
        try:
            buffer = bytearray()
            async for chunk in chunks:
                if not buffer and len(chunk) >= WRITE_BUFFER:
                    await asyncio.to_thread(handle.write, chunk)  # big pieces: no copy
                    continue
                buffer += chunk
                if len(buffer) >= WRITE_BUFFER:
                    await asyncio.to_thread(handle.write, buffer)
                    buffer.clear()
            return await asyncio.to_thread(_finish, handle, buffer)
        finally:
            handle.close()

    async def read_upload(self, upload_id: str) -> AsyncIterator[bytes]:
        """Stream the upload's bytes in 1 MiB chunks."""
        path = self.path(layout.upload_key(upload_id))
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            return
        with handle:
            while chunk := await asyncio.to_thread(handle.read, READ_CHUNK):
                yield chunk

    async def upload_size(self, upload_id: str) -> int:
        """Bytes stored for the upload (0 when it has none)."""
        try:
            return self.path(layout.upload_key(upload_id)).stat().st_size
        except FileNotFoundError:
            return 0

    async def commit(self, upload_id: str, digest: Digest) -> None:
        """Rename the upload into place; if the blob already exists, drop the upload."""
        source = self.path(layout.upload_key(upload_id))
        target = self.blob_path(digest)
        if digest == Digest.of(b"", digest.algorithm) and not source.exists():
            source.touch()  # an upload that never received a byte has no file yet
        await asyncio.to_thread(_rename_into_place, source, target)

    async def discard(self, upload_id: str) -> None:
        """Delete the upload's bytes."""
        self.path(layout.upload_key(upload_id)).unlink(missing_ok=True)

    async def size(self, digest: Digest) -> int | None:
        """Size of the blob's file, or None."""
        try:
            return self.blob_path(digest).stat().st_size
        except FileNotFoundError:
            return None

    async def delete(self, digest: Digest) -> None:
        """Delete the blob's file."""
        self.blob_path(digest).unlink(missing_ok=True)

    def download_url(self, digest: Digest, expires: int) -> str:
        """A SigV4 pre-signed URL of the blob on this server's ``/_blob`` path."""
        return presign_get(
            base_url=self.public_url,
            path=blob_url_path(digest),
            key=self.key,
            region=self.region,
            expires=expires,
            now=datetime.now(UTC),
        )


def _open_at(path: Path, offset: int):  # type: ignore[no-untyped-def]  # a raw file object
    handle = open(path, "r+b") if path.exists() else open(path, "w+b")  # noqa: SIM115
    stored = handle.seek(0, os.SEEK_END)
    if stored < offset:
        handle.close()
        raise UploadOffsetError(stored)
    handle.truncate(offset)
    handle.seek(offset)
    return handle


def _finish(handle, tail: bytes | bytearray) -> int:  # type: ignore[no-untyped-def]
    if tail:
        handle.write(tail)
    handle.flush()
    os.fsync(handle.fileno())
    return int(handle.tell())


def _rename_into_place(source: Path, target: Path) -> None:
    if target.exists():
        source.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as handle:
        os.fsync(handle.fileno())
    source.replace(target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
