"""Blob store on any S3-compatible object store (AWS S3, MinIO, Ceph RGW, moto), via aiobotocore.

Layout under ``s3://bucket/prefix/`` follows :mod:`layerport.store.blobs.layout`;
an upload in progress is, under ``uploads/<id>/``:

    data                 a multipart upload, then (once sealed) the whole upload
    tail-<offset>        bytes after the last full part (S3 parts are ≥ 5 MiB)

All of an upload's state lives in the bucket, so a push started on one replica
continues on another.  The current size is the sum of the parts plus the tail
whose offset equals that sum; a tail with any other offset is stale (a crash
between writing a part and writing the new tail) and is ignored.  Bytes are
never rewritten: an append at the wrong offset raises UploadOffsetError with
the stored size, and the service resumes from there.

Commit seals the upload (completes the multipart upload), copies it to the
blob's key inside the store (no bytes pass through layerport) and deletes the
upload.  Download URLs are botocore pre-signed GETs: computed locally, pointed
at the public endpoint when one is configured.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import botocore.session
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from layerport.auth.presign import PresignKey, presign_get
from layerport.config import ConfigError
from layerport.digest import Digest
from layerport.store.blobs import UploadOffsetError, UploadSealed, layout

#: Size of each multipart part layerport writes (S3's minimum is 5 MiB, maximum 5 GiB).
PART_SIZE = 8 * 1024 * 1024
#: Largest object a single CopyObject may copy; bigger blobs are copied part by part.
MAX_COPY = 5 * 1024**3
COPY_PART = 1024**3
READ_CHUNK = 1 << 20


@dataclass
class S3Location:
    """What an ``s3://`` store URL says."""

    bucket: str
    prefix: str
    endpoint_url: str | None = None
    public_endpoint_url: str | None = None
    region: str | None = None
    path_style: bool = False

    @classmethod
    def parse(cls, url: str) -> S3Location:
        """Parse ``s3://bucket/prefix?endpoint_url=…&region=…&public_endpoint_url=…``."""
        parts = urlsplit(url)
        if not parts.netloc:
            raise ConfigError(f"--store {url!r}: name a bucket, as in s3://bucket/prefix")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        known = {"endpoint_url", "public_endpoint_url", "region", "path_style"}
        unknown = set(query) - known
        if unknown:
            raise ConfigError(f"--store {url!r}: unknown option {sorted(unknown)[0]!r}")
        prefix = parts.path.strip("/")
        return cls(
            bucket=parts.netloc,
            prefix=f"{prefix}/" if prefix else "",
            endpoint_url=query.get("endpoint_url"),
            public_endpoint_url=query.get("public_endpoint_url"),
            region=query.get("region"),
            path_style=query.get("path_style", "").lower() in ("1", "true", "yes"),
        )


@dataclass
class _UploadState:
    multipart_id: str | None
    parts: list[dict[str, Any]] = field(default_factory=list)
    tail_key: str | None = None
    tail_size: int = 0
    stale: list[str] = field(default_factory=list)
    sealed: bool = False

    @property
    def parts_size(self) -> int:
        return sum(int(part["Size"]) for part in self.parts)

    @property
    def size(self) -> int:
        return self.parts_size + self.tail_size


class S3BlobStore:
    """:class:`~layerport.store.blobs.BlobStore` on S3.

    client: an open aiobotocore S3 client.
    presigner: signs download URLs (no I/O).
    location: bucket, prefix and endpoints.
    """

    def __init__(self, client: Any, presigner: S3Presigner, location: S3Location) -> None:
        self.client = client
        self.presigner = presigner
        self.location = location
        self.bucket = location.bucket

    def key(self, relative: str) -> str:
        """The object key of a layout key."""
        return f"{self.location.prefix}{relative}"

    def _data(self, upload_id: str) -> str:
        return self.key(f"{layout.upload_key(upload_id)}/data")

    def _tail_prefix(self, upload_id: str) -> str:
        return self.key(f"{layout.upload_key(upload_id)}/tail-")

    async def _state(self, upload_id: str) -> _UploadState:
        data = self._data(upload_id)
        listed = await self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=data)
        ids = [u["UploadId"] for u in listed.get("Uploads", []) if u["Key"] == data]
        state = _UploadState(multipart_id=ids[0] if ids else None)
        if state.multipart_id is None and await self._exists(data):
            state.sealed = True
            return state
        if state.multipart_id is not None:
            marker = 0
            while True:
                page = await self.client.list_parts(
                    Bucket=self.bucket,
                    Key=data,
                    UploadId=state.multipart_id,
                    PartNumberMarker=marker,
                )
                state.parts.extend(page.get("Parts", []))
                if not page.get("IsTruncated"):
                    break
                marker = int(page["NextPartNumberMarker"])
        tails = await self.client.list_objects_v2(
            Bucket=self.bucket, Prefix=self._tail_prefix(upload_id)
        )
        for item in tails.get("Contents", []):
            start = int(item["Key"].rsplit("-", 1)[1])
            if start == state.parts_size and state.tail_key is None:
                state.tail_key, state.tail_size = item["Key"], int(item["Size"])
            else:
                state.stale.append(item["Key"])
        return state

    async def _exists(self, key: str) -> bool:
        return await self._head(key) is not None

    async def _head(self, key: str) -> int | None:
        try:
            head = await self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(head["ContentLength"])

    async def _get(self, key: str) -> bytes:
        response = await self.client.get_object(Bucket=self.bucket, Key=key)
        async with response["Body"] as body:
            return bytes(await body.read())

    async def _upload_part(self, upload_id: str, state: _UploadState, data: bytes) -> None:
        if state.multipart_id is None:
            created = await self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self._data(upload_id)
            )
            state.multipart_id = created["UploadId"]
        number = len(state.parts) + 1
        reply = await self.client.upload_part(
            Bucket=self.bucket,
            Key=self._data(upload_id),
            UploadId=state.multipart_id,
            PartNumber=number,
            Body=data,
        )
        state.parts.append({"PartNumber": number, "ETag": reply["ETag"], "Size": len(data)})

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        """Add bytes at ``offset``: whole parts as they fill, the rest as the new tail."""
        state = await self._state(upload_id)
        if state.sealed:
            raise UploadSealed(await self._head(self._data(upload_id)) or 0)
        if state.size != offset:
            raise UploadOffsetError(state.size)
        old_tail = state.tail_key
        buffer = bytearray(await self._get(old_tail)) if old_tail else bytearray()
        start = state.parts_size
        async for chunk in chunks:
            buffer += chunk
            while len(buffer) >= PART_SIZE:
                await self._upload_part(upload_id, state, bytes(buffer[:PART_SIZE]))
                del buffer[:PART_SIZE]
                start += PART_SIZE
        new_tail = f"{self._tail_prefix(upload_id)}{start:020d}"
        if buffer or new_tail == old_tail:
            await self.client.put_object(Bucket=self.bucket, Key=new_tail, Body=bytes(buffer))
        for stale in [*state.stale, *([old_tail] if old_tail and old_tail != new_tail else [])]:
            await self.client.delete_object(Bucket=self.bucket, Key=stale)
        return start + len(buffer)

    async def _seal(self, upload_id: str, *, empty: bool = False) -> bool:
        """Complete the multipart upload (tail as last part) so the bytes can be read.

        An upload with nothing stored is sealed, as an empty object, only when the
        caller wants the empty blob (``empty``); otherwise nothing is written and
        the answer is False, so neither a read nor a commit of a missing upload
        leaves an object behind or makes a non-empty digest empty.
        """
        state = await self._state(upload_id)
        if state.sealed:
            return True
        if state.multipart_id is None and state.tail_key is None and not empty:
            return False
        data = self._data(upload_id)
        tail = await self._get(state.tail_key) if state.tail_key else b""
        if state.multipart_id is None:
            await self.client.put_object(Bucket=self.bucket, Key=data, Body=tail)
        else:
            if tail:
                await self._upload_part(upload_id, state, tail)
            await self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=data,
                UploadId=state.multipart_id,
                MultipartUpload={
                    "Parts": [
                        {"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in state.parts
                    ]
                },
            )
        for key in [*state.stale, *([state.tail_key] if state.tail_key else [])]:
            await self.client.delete_object(Bucket=self.bucket, Key=key)
        return True

    async def read_upload(self, upload_id: str) -> AsyncIterator[bytes]:
        """Seal the upload and stream its bytes (nothing, for an upload with none)."""
        if not await self._seal(upload_id):
            return
        response = await self.client.get_object(Bucket=self.bucket, Key=self._data(upload_id))
        async with response["Body"] as body:
            while chunk := await body.read(READ_CHUNK):
                yield bytes(chunk)

    async def upload_size(self, upload_id: str) -> int:
        """Bytes stored for the upload."""
        state = await self._state(upload_id)
        if state.sealed:
            return await self._head(self._data(upload_id)) or 0
        return state.size

    async def commit(self, upload_id: str, digest: Digest) -> None:
        """Seal, copy inside the store to the blob's key (unless there already), drop the upload."""
        target = self.key(layout.blob_key(digest))
        data = self._data(upload_id)
        if await self._exists(target):
            await self.discard(upload_id)
            return
        await self._seal(upload_id, empty=digest == Digest.of(b"", digest.algorithm))
        size = await self._head(data)
        if size is None:
            raise FileNotFoundError(f"upload {upload_id} has no data to commit")
        await self._copy(data, target, size)
        await self.client.delete_object(Bucket=self.bucket, Key=data)

    async def _copy(self, source: str, target: str, size: int) -> None:
        origin = {"Bucket": self.bucket, "Key": source}
        if size <= MAX_COPY:
            await self.client.copy_object(Bucket=self.bucket, Key=target, CopySource=origin)
            return
        created = await self.client.create_multipart_upload(Bucket=self.bucket, Key=target)
        parts = []
        try:
            for number, start in enumerate(range(0, size, COPY_PART), start=1):
                end = min(start + COPY_PART, size) - 1
                reply = await self.client.upload_part_copy(
                    Bucket=self.bucket,
                    Key=target,
                    UploadId=created["UploadId"],
                    PartNumber=number,
                    CopySource=origin,
                    CopySourceRange=f"bytes={start}-{end}",
                )
                parts.append({"PartNumber": number, "ETag": reply["CopyPartResult"]["ETag"]})
            await self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=target,
                UploadId=created["UploadId"],
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            await self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=target, UploadId=created["UploadId"]
            )
            raise

    async def discard(self, upload_id: str) -> None:
        """Abort the multipart upload and delete tails and sealed data."""
        data = self._data(upload_id)
        listed = await self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=data)
        for upload in listed.get("Uploads", []):
            if upload["Key"] == data:
                await self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=data, UploadId=upload["UploadId"]
                )
        tails = await self.client.list_objects_v2(
            Bucket=self.bucket, Prefix=self._tail_prefix(upload_id)
        )
        for item in tails.get("Contents", []):
            await self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
        await self.client.delete_object(Bucket=self.bucket, Key=data)

    async def size(self, digest: Digest) -> int | None:
        """Size of the blob's object, or None."""
        return await self._head(self.key(layout.blob_key(digest)))

    async def delete(self, digest: Digest) -> None:
        """Delete the blob's object."""
        await self.client.delete_object(Bucket=self.bucket, Key=self.key(layout.blob_key(digest)))

    def download_url(self, digest: Digest, expires: int) -> str:
        """An S3 pre-signed GET of the blob: one HMAC with a cached signing key, no I/O.

        botocore's ``generate_presigned_url`` builds a request model per call
        (about 170 µs, a third of a replica's time under load); the signature is
        the same one, computed by :func:`layerport.auth.presign.presign_get`.
        """
        return presign_get(
            base_url=self.presigner.base_url,
            path=self.presigner.path(self.key(layout.blob_key(digest))),
            key=self.presigner.key(),
            region=self.presigner.region,
            expires=expires,
            now=datetime.now(UTC),
        )


class S3Presigner:
    """Where and with which credentials download URLs are signed.

    A custom endpoint (MinIO, Ceph, moto, or ``public_endpoint_url``) is
    addressed path-style, ``<endpoint>/<bucket>/<key>``; AWS S3 itself
    virtual-host style, ``https://<bucket>.s3.<region>.amazonaws.com/<key>``.
    Credentials come from the standard AWS chain and are re-read on each
    signature, so refreshed temporary credentials are picked up.
    """

    def __init__(self, location: S3Location, region: str) -> None:
        self.region = region
        self.bucket = location.bucket
        endpoint = (location.public_endpoint_url or location.endpoint_url or "").rstrip("/")
        self.path_style = bool(endpoint) or location.path_style
        if endpoint:
            self.base_url = endpoint
        elif location.path_style:
            self.base_url = f"https://s3.{region}.amazonaws.com"
        else:
            self.base_url = f"https://{location.bucket}.s3.{region}.amazonaws.com"
        credentials = botocore.session.get_session().get_credentials()
        if credentials is None:
            raise ConfigError("--store: no AWS credentials found to sign download URLs with")
        self._credentials = credentials

    def path(self, key: str) -> str:
        """The URL path of an object key."""
        return f"/{self.bucket}/{key}" if self.path_style else f"/{key}"

    def key(self) -> PresignKey:
        """The current signing credential."""
        frozen = self._credentials.get_frozen_credentials()
        return PresignKey(frozen.access_key, frozen.secret_key, frozen.token)


def _config(location: S3Location) -> Config:
    # Timeouts and bounded retries: an outage gives an error, never a hang.
    return Config(
        signature_version="s3v4",
        connect_timeout=5,
        read_timeout=20,
        retries={"total_max_attempts": 2, "mode": "standard"},
        s3={"addressing_style": "path" if location.path_style else "auto"},
    )


@contextlib.asynccontextmanager
async def open_s3_store(url: str, region: str) -> AsyncIterator[S3BlobStore]:
    """Open the store, checking at once that the bucket exists and the credentials work."""
    location = S3Location.parse(url)
    region = location.region or region
    session = get_session()
    async with session.create_client(
        "s3", endpoint_url=location.endpoint_url, region_name=region, config=_config(location)
    ) as client:
        try:
            await client.head_bucket(Bucket=location.bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchBucket", "NotFound"):
                raise ConfigError(f"--store: bucket {location.bucket!r} does not exist") from None
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise ConfigError(
                    f"--store: access to bucket {location.bucket!r} denied ({code}): check the "
                    f"AWS credentials layerport runs with"
                ) from None
            raise ConfigError(f"--store: bucket {location.bucket!r}: {code}") from None
        except BotoCoreError as exc:
            raise ConfigError(f"--store: cannot reach the object store: {exc}") from None
        yield S3BlobStore(client, S3Presigner(location, region), location)
