"""The blob stores under contract test: one opened store per test, and its leftovers.

Each backend is opened with :func:`layerport.store.blobs.open_blob_store` inside
the test's own event loop, exactly as the server opens it.  The filesystem
store's download URLs point at layerport's ``/_blob`` face, so for that backend
the face is served on a loopback port for the duration of the test.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from layerport.auth.presign import PresignKey
from layerport.digest import Digest
from layerport.faces.blob_api import BlobFace
from layerport.store.blobs import BlobStore, open_blob_store
from layerport.store.blobs.filesystem import FilesystemBlobStore
from tests.support import REGION, free_port

T = TypeVar("T")
KEY = PresignKey("LPCONTRACTPRESIGN001", "contract-presign-secret-0123456789")
#: Bound on any one store operation: a hang fails the test instead of stalling the run.
OPERATION_TIMEOUT = 120


@dataclass
class StoreUnderTest:
    """One backend's ``--store`` URL and how to look behind the store's back.

    kind: ``filesystem`` or ``s3``.
    url: the ``--store`` URL.
    root: the filesystem store's directory.
    s3: a boto3 S3 client (S3 only), to list what the bucket holds.
    bucket, prefix: where the S3 store keeps its objects.
    """

    kind: str
    url: str
    root: Path | None = None
    s3: Any = None
    bucket: str = ""
    prefix: str = ""

    def run(self, body: Callable[[BlobStore], Awaitable[T]]) -> T:
        """Open the store in a new event loop, run ``body`` on it, close it."""

        async def main() -> T:
            port = free_port()
            async with open_blob_store(
                self.url, public_url=f"http://127.0.0.1:{port}", region=REGION, key=KEY
            ) as store:
                if not isinstance(store, FilesystemBlobStore):
                    return await asyncio.wait_for(body(store), OPERATION_TIMEOUT)
                app = web.Application()
                BlobFace(store, KEY, REGION).add_routes(app)
                runner = web.AppRunner(app, access_log=None)
                await runner.setup()
                try:
                    await web.TCPSite(runner, "127.0.0.1", port).start()
                    return await asyncio.wait_for(body(store), OPERATION_TIMEOUT)
                finally:
                    await runner.cleanup()

        return asyncio.run(main())

    def leftovers(self, committed: set[str]) -> list[str]:
        """Everything the store holds besides the ``committed`` blobs, each intact.

        Filesystem: any file under ``uploads/``, any blob file not in ``committed``
        or whose bytes do not hash to its name.  S3: any object under the bucket
        that is not one of those blobs (tails, sealed upload data), and any
        multipart upload left open.
        """
        found: list[str] = []
        stored: dict[str, bytes] = {}
        if self.root is not None:
            found += [str(p) for p in (self.root / "uploads").rglob("*")]
            for path in (self.root / "blobs").rglob("*"):
                if path.is_file():
                    relative = path.relative_to(self.root / "blobs")
                    stored[f"{relative.parts[0]}:{path.name}"] = path.read_bytes()
        else:
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"]
                    parts = key.removeprefix(self.prefix).split("/")
                    if not key.startswith(self.prefix) or parts[0] != "blobs" or len(parts) != 4:
                        found.append(key)
                        continue
                    body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                    stored[f"{parts[1]}:{parts[3]}"] = body
            open_uploads = self.s3.list_multipart_uploads(Bucket=self.bucket)
            found += [f"multipart {u['Key']}" for u in open_uploads.get("Uploads", [])]
        for name, data in stored.items():
            algorithm, _, hexpart = name.partition(":")
            if name not in committed:
                found.append(f"blob {name} that was not committed")
            elif hashlib.new(algorithm, data).hexdigest() != hexpart:
                found.append(f"blob {name} whose bytes do not match it")
        found += [f"missing blob {name}" for name in committed - set(stored)]
        return found


async def pieces(*parts: bytes) -> AsyncIterator[bytes]:
    """An async stream of ``parts``, as a request body arrives."""
    for part in parts:
        await asyncio.sleep(0)
        yield part


def split(data: bytes, sizes: list[int]) -> list[bytes]:
    """``data`` cut into consecutive pieces of ``sizes`` (the last takes the rest)."""
    out, start = [], 0
    for size in sizes:
        out.append(data[start : start + size])
        start += size
    if start < len(data):
        out.append(data[start:])
    return out


def digest(data: bytes) -> Digest:
    """The sha256 digest of ``data``."""
    return Digest.of(data)
