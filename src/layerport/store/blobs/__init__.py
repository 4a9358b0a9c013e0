"""The blob store: immutable bytes by digest, and the uploads that become them.

The store holds only bytes.  Which repository may see a blob, and which uploads
exist, is metadata and lives in the metadata store.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from layerport.auth.presign import PresignKey
from layerport.digest import Digest


class UploadOffsetError(Exception):
    """An append names an offset past the bytes actually stored (lost in a crash)."""

    def __init__(self, stored: int) -> None:
        super().__init__(f"upload holds {stored} bytes")
        self.stored = stored


class UploadSealed(UploadOffsetError):
    """The upload was sealed for completion and takes no more bytes."""


class BlobStore(Protocol):
    """Contract every blob store keeps.

    - A committed blob never changes; committing a digest that exists is a no-op.
    - An upload is a byte sequence addressed by an upload id; ``append`` at an
      offset first drops anything past that offset, so a retried or interrupted
      write never leaves stray bytes (the caller records the committed size).
    - Nothing half-written is ever visible as a blob.
    - ``download_url`` is pure computation: no round trip to the store.
    """

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        """Write ``chunks`` at ``offset`` of the upload; return the upload's new size."""
        ...

    def read_upload(self, upload_id: str) -> AsyncIterator[bytes]:
        """Stream the bytes received so far (to re-hash after a restart)."""
        ...

    async def commit(self, upload_id: str, digest: Digest) -> None:
        """Make the upload's bytes the blob ``digest`` and forget the upload.

        FileNotFoundError when the upload has no stored bytes and the blob is not
        in the store (only the empty blob can be made from nothing).
        """
        ...

    async def discard(self, upload_id: str) -> None:
        """Forget an upload and its bytes (missing is fine)."""
        ...

    async def size(self, digest: Digest) -> int | None:
        """Size of a committed blob, or None when absent."""
        ...

    async def delete(self, digest: Digest) -> None:
        """Remove a committed blob (missing is fine)."""
        ...

    def download_url(self, digest: Digest, expires: int) -> str:
        """A pre-signed GET URL for the blob, valid for ``expires`` seconds."""
        ...


@contextlib.asynccontextmanager
async def open_blob_store(
    url: str, *, public_url: str, region: str, key: PresignKey
) -> AsyncIterator[BlobStore]:
    """Open the store a ``--store`` URL names: ``file:///path`` or ``s3://bucket/prefix?…``."""
    from layerport.config import ConfigError
    from layerport.store.blobs.filesystem import FilesystemBlobStore
    from layerport.store.blobs.s3 import open_s3_store

    parts = urlsplit(url)
    if parts.scheme == "file":
        root = Path(unquote(parts.netloc + parts.path))
        yield FilesystemBlobStore(root, public_url=public_url, region=region, key=key)
    elif parts.scheme == "s3":
        async with open_s3_store(url, region) as store:
            yield store
    else:
        raise ConfigError(
            f"--store {url!r}: unsupported scheme {parts.scheme!r} (file:// or s3://)"
        )
