"""InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload.

An upload is a row in the metadata store (its committed size) plus bytes in the
blob store, so it survives a restart and continues on any replica.  Bytes are
hashed as they arrive; when the running hash is not at hand (after a restart,
or on another replica) the stored bytes are hashed again at completion.  The
digest is checked before anything becomes visible, and recorded before the
bytes move, so a completion interrupted by a crash can be retried.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from layerport.auth.principals import Principal
from layerport.digest import Digest, Hasher
from layerport.errors import (
    EmptyUploadException,
    InvalidLayerException,
    InvalidLayerPartException,
    LayerAlreadyExistsException,
    LimitExceededException,
    UploadNotFoundException,
)
from layerport.service.context import ServiceContext, find_repository, parse_digest
from layerport.store.blobs import UploadOffsetError, UploadSealed
from layerport.store.metadata import Repository, Upload

#: The part size ECR asks clients to use (its quota allows 5 to 10 MiB parts).
PART_SIZE = 10 * 1024 * 1024


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


class Uploads:
    """Layer uploads through the ECR API (the registry face reuses ``append``/``complete``)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._hashers: dict[str, Hasher] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock(self, upload_id: str) -> asyncio.Lock:
        lock = self._locks.get(upload_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[upload_id] = lock
        return lock

    async def initiate_layer_upload(
        self, caller: Principal, *, repository_name: str, registry_id: str | None = None
    ) -> dict[str, Any]:
        """Open an upload session in the repository."""
        repository = await find_repository(
            self.ctx, caller, registry_id, repository_name, "InitiateLayerUpload"
        )
        upload_id = await self.begin(repository)
        return {"upload_id": upload_id, "part_size": PART_SIZE}

    async def begin(self, repository: Repository) -> str:
        """Create an upload session and return its id (within the account's quota)."""
        open_uploads = await self.ctx.metadata.count_uploads(repository.registry_id)
        if open_uploads >= self.ctx.max_uploads:
            raise LimitExceededException(
                f"The registry with id '{repository.registry_id}' already has {open_uploads} "
                f"uploads in progress, the most allowed; complete or cancel some first"
            )
        upload_id = str(uuid.uuid4())
        await self.ctx.metadata.create_upload(upload_id, repository.id)
        self._hashers[upload_id] = Hasher()
        return upload_id

    async def find(self, repository: Repository, upload_id: str) -> Upload:
        """The upload, or UploadNotFoundException in ECR's words."""
        upload = await self.ctx.metadata.get_upload(repository.id, upload_id)
        if upload is None:
            raise UploadNotFoundException(
                f"The upload with id '{upload_id}' does not exist in the repository with name "
                f"'{repository.name}' in the registry with id '{repository.registry_id}'"
            )
        return upload

    async def upload_layer_part(
        self,
        caller: Principal,
        *,
        repository_name: str,
        upload_id: str,
        part_first_byte: int,
        part_last_byte: int,
        layer_part_blob: bytes,
        registry_id: str | None = None,
    ) -> dict[str, Any]:
        """Append one part; parts must follow each other with no gap or overlap."""
        repository = await find_repository(
            self.ctx, caller, registry_id, repository_name, "UploadLayerPart"
        )
        upload = await self.find(repository, upload_id)
        if part_last_byte - part_first_byte + 1 != len(layer_part_blob) or not layer_part_blob:
            raise self._bad_part(
                repository,
                upload,
                f"The part's byte range {part_first_byte}-{part_last_byte} does not match the "
                f"{len(layer_part_blob)} bytes sent",
            )
        size = await self.append(repository, upload_id, part_first_byte, _once(layer_part_blob))
        return {
            "registry_id": repository.registry_id,
            "repository_name": repository.name,
            "upload_id": upload_id,
            "last_byte_received": size - 1,
        }

    def _bad_part(self, repository: Repository, upload: Upload, why: str) -> Exception:
        return InvalidLayerPartException(
            f"{why}; the last valid byte received is {upload.size - 1}",
            registryId=repository.registry_id,
            repositoryName=repository.name,
            uploadId=upload.id,
            lastValidByteReceived=upload.size - 1,
        )

    async def append(
        self, repository: Repository, upload_id: str, offset: int, chunks: AsyncIterable[bytes]
    ) -> int:
        """Write ``chunks`` at ``offset``, which must be the upload's current size."""
        async with self._lock(upload_id):
            upload = await self.find(repository, upload_id)
            if upload.digest is not None or offset != upload.size:
                raise self._bad_part(
                    repository,
                    upload,
                    f"The part must start at byte {upload.size}, not {offset}"
                    if upload.digest is None
                    else "The upload is already complete",
                )
            # Counted here, under the upload's lock, so /v2/ chunks count as parts too.
            if upload.parts >= self.ctx.max_parts:
                raise LimitExceededException(
                    f"The upload with id '{upload_id}' already has {upload.parts} parts, the "
                    f"most allowed"
                )
            hasher = self._hashers.get(upload_id)
            if hasher is not None and hasher.size != offset:
                hasher = None
            running = hasher.copy() if hasher else None

            async def hashed() -> AsyncIterator[bytes]:
                async for chunk in chunks:
                    if running is not None:
                        running.update(chunk)
                    yield chunk

            try:
                size = await self.ctx.blobs.append(upload_id, offset, hashed())
            except UploadSealed:
                raise self._bad_part(repository, upload, "The upload is being completed") from None
            except UploadOffsetError as lost:
                # Bytes the metadata counted were lost (a crash before fsync): rewind to
                # what is really stored, so the client can resume from there.
                await self.ctx.metadata.advance_upload(upload_id, upload.size, lost.stored)
                self._hashers.pop(upload_id, None)
                raise self._bad_part(
                    repository,
                    Upload(upload.id, upload.repository_id, lost.stored, None),
                    "The upload's stored bytes end elsewhere",
                ) from None
            if not await self.ctx.metadata.advance_upload(upload_id, offset, size):
                try:
                    await self.find(repository, upload_id)
                except UploadNotFoundException:
                    # The session ended while its bytes were written (its repository was
                    # deleted): nothing will ever read them, so they must not stay.
                    await self.ctx.blobs.discard(upload_id)
                    self._hashers.pop(upload_id, None)
                    raise
            if running is not None and running.size == size:
                self._hashers[upload_id] = running
            else:
                self._hashers.pop(upload_id, None)
            return size

    async def complete_layer_upload(
        self,
        caller: Principal,
        *,
        repository_name: str,
        upload_id: str,
        layer_digests: list[str],
        registry_id: str | None = None,
    ) -> dict[str, Any]:
        """Verify the bytes against the named digest, then commit and link the layer."""
        repository = await find_repository(
            self.ctx, caller, registry_id, repository_name, "CompleteLayerUpload"
        )
        expected = parse_digest(layer_digests[0], "layerDigests")
        digest = await self.complete(repository, upload_id, expected)
        return {
            "registry_id": repository.registry_id,
            "repository_name": repository.name,
            "upload_id": upload_id,
            "layer_digest": str(digest),
        }

    async def complete(
        self, repository: Repository, upload_id: str, expected: Digest, *, registry: bool = False
    ) -> Digest:
        """Finish an upload whose bytes must hash to ``expected``.

        ``registry`` gives the OCI registry's rules instead of ECR's: an empty blob is
        a blob, and a blob the repository already has is a success (two clients
        pushing one layer at once both succeed; one copy is kept).
        """
        metadata = self.ctx.metadata
        async with self._lock(upload_id):
            upload = await self.find(repository, upload_id)
            if upload.digest is None:
                if upload.size == 0 and not registry:
                    raise EmptyUploadException(
                        f"The upload with id '{upload_id}' does not contain any layer parts"
                    )
                actual = await self._digest_of(upload, expected.algorithm)
                if actual != expected:
                    raise InvalidLayerException(
                        f"The layer digest calculated for the upload '{upload_id}' ('{actual}') "
                        f"does not match the digest specified ('{expected}')"
                    )
                linked = await metadata.linked_blob_sizes(repository.id, [str(actual)])
                if linked:
                    await self._drop(upload_id)
                    if registry:
                        return actual
                    raise self._exists(repository, actual)
                await metadata.mark_upload_verified(upload_id, str(actual))
            else:
                actual = Digest.parse(upload.digest)
            try:
                await self.ctx.blobs.commit(upload_id, actual)
            except FileNotFoundError:
                # The upload's bytes are gone and the blob is not in the store either:
                # nothing can be committed.  Forget the session so the client starts over
                # (a 404 on the upload tells registry clients exactly that).
                await self._drop(upload_id)
                raise UploadNotFoundException(
                    f"The data of the upload with id '{upload_id}' is no longer stored; "
                    f"start the upload again"
                ) from None
            self._hashers.pop(upload_id, None)
            linked_now = await metadata.finish_upload(
                upload_id, repository.id, str(actual), upload.size
            )
            if not linked_now and not registry:
                raise self._exists(repository, actual)
            return actual

    async def cancel(self, repository: Repository, upload_id: str) -> None:
        """Abandon an upload and delete its bytes."""
        async with self._lock(upload_id):
            await self.find(repository, upload_id)
            await self._drop(upload_id)

    async def _drop(self, upload_id: str) -> None:
        await self.ctx.metadata.delete_upload(upload_id)
        await self.ctx.blobs.discard(upload_id)
        self._hashers.pop(upload_id, None)

    @staticmethod
    def _exists(repository: Repository, digest: Digest) -> Exception:
        return LayerAlreadyExistsException(
            f"The layer with digest '{digest}' already exists in the repository with name "
            f"'{repository.name}' in the registry with id '{repository.registry_id}'"
        )

    async def _digest_of(self, upload: Upload, algorithm: str) -> Digest:
        hasher = self._hashers.get(upload.id)
        if hasher is not None and hasher.algorithm == algorithm and hasher.size == upload.size:
            return hasher.digest()
        hasher = Hasher(algorithm)
        remaining = upload.size
        async for chunk in self.ctx.blobs.read_upload(upload.id):
            piece = chunk[:remaining]
            hasher.update(piece)
            remaining -= len(piece)
            if remaining == 0:
                break
        return hasher.digest()
