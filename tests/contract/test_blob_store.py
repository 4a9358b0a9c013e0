"""The BlobStore contract, one suite run on every backend: filesystem and S3 (moto over HTTP).

Every test ends by looking behind the store's back: only the blobs it committed
remain, intact, with no upload files, no tails and no open multipart uploads.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import requests

from layerport.digest import Digest
from layerport.store.blobs import BlobStore, UploadOffsetError
from layerport.store.blobs.s3 import PART_SIZE, S3BlobStore
from tests.contract.blob_backends import StoreUnderTest, digest, pieces, split
from tests.support import S3_CREDENTIALS, S3Server

MIB = 1024 * 1024
_buckets = itertools.count()


def open_backend(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> StoreUnderTest:
    """A fresh, empty store of one kind: a temp directory, or a new bucket on moto."""
    if kind == "filesystem":
        root = tmp_path / "store"
        return StoreUnderTest("filesystem", root.as_uri(), root=root)
    s3_server: S3Server = request.getfixturevalue("s3_server")
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    bucket = f"contract-{os.getpid()}-{next(_buckets)}"
    url = s3_server.bucket(bucket)
    return StoreUnderTest("s3", url, s3=s3_server.client(), bucket=bucket, prefix="layerport/")


@pytest.fixture(params=["filesystem", "s3"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> StoreUnderTest:
    """Each backend in turn, fresh and empty."""
    return open_backend(request.param, request, tmp_path, monkeypatch)


@pytest.fixture
def s3_backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> StoreUnderTest:
    """The S3 backend only: for how S3 keeps an upload's state (parts, tails) in the bucket."""
    return open_backend("s3", request, tmp_path, monkeypatch)


def new_upload() -> str:
    return str(uuid.uuid4())


async def collect(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


async def fetch(store: BlobStore, data_digest: str, **headers: str) -> requests.Response:
    """GET the blob's pre-signed URL with ``requests``, as a client does."""
    url = store.download_url(Digest.parse(data_digest), 300)
    return await asyncio.to_thread(requests.get, url, headers=headers, timeout=60)


def test_appends_in_odd_pieces_read_back_and_commit_exactly(backend: StoreUnderTest) -> None:
    # given bytes that fill more than two S3 parts, sent as appends of odd sizes,
    # each append itself arriving in odd-sized chunks
    data = os.urandom(2 * PART_SIZE + 3 * MIB + 12_345)
    appends = split(data, [1, 4095, 3 * MIB + 7, PART_SIZE + 13, 333, PART_SIZE - 1])
    blob = digest(data)

    async def body(store: BlobStore) -> tuple[list[int], bytes, int | None, bytes]:
        upload, offset, sizes = new_upload(), 0, []
        for part in appends:
            chunks = split(part, [1, 65_537, 1_000_003])
            offset = await store.append(upload, offset, pieces(*chunks))
            sizes.append(offset)
        # when the upload is read back, then committed
        read = await collect(store.read_upload(upload))
        await store.commit(upload, blob)
        size = await store.size(blob)
        downloaded = await fetch(store, str(blob))
        return sizes, read, size, downloaded.content

    sizes, read, size, downloaded = backend.run(body)

    # then each append reports the running size, and every byte comes back in order
    assert sizes == list(itertools.accumulate(len(part) for part in appends))
    assert read == data
    assert size == len(data)
    assert downloaded == data
    assert backend.leftovers({str(blob)}) == []


def test_a_commit_without_reading_back_keeps_parts_and_tail_in_order(
    backend: StoreUnderTest,
) -> None:
    # given an upload of one full S3 part plus a tail, never read back
    data = os.urandom(PART_SIZE + 5 * MIB + 3)
    blob = digest(data)

    async def body(store: BlobStore) -> tuple[int | None, bytes]:
        upload = new_upload()
        offset = await store.append(upload, 0, pieces(data[: 5 * MIB + 1]))
        await store.append(upload, offset, pieces(data[5 * MIB + 1 :]))
        # when it is committed straight away (the hasher was at hand)
        await store.commit(upload, blob)
        return await store.size(blob), (await fetch(store, str(blob))).content

    size, downloaded = backend.run(body)

    # then the blob holds every byte in order
    assert size == len(data)
    assert downloaded == data
    assert backend.leftovers({str(blob)}) == []


def test_an_append_past_the_stored_bytes_raises_with_the_stored_size(
    backend: StoreUnderTest,
) -> None:
    # given an upload holding 100 bytes
    data = os.urandom(100)

    async def body(store: BlobStore) -> tuple[int, bytes]:
        upload = new_upload()
        await store.append(upload, 0, pieces(data))
        # when a caller appends at an offset beyond them (bytes it counted were lost)
        with pytest.raises(UploadOffsetError) as raised:
            await store.append(upload, 150, pieces(b"x" * 10))
        read = await collect(store.read_upload(upload))
        await store.discard(upload)
        return raised.value.stored, read

    stored, read = backend.run(body)

    # then the error names the stored size, and the stored bytes are untouched
    assert stored == 100
    assert read == data
    assert backend.leftovers(set()) == []


def test_an_append_behind_the_stored_bytes_never_leaves_stray_bytes(
    backend: StoreUnderTest,
) -> None:
    # given an upload holding 100 bytes
    data = os.urandom(100)

    async def body(store: BlobStore) -> tuple[int | None, int | None, bytes]:
        upload = new_upload()
        await store.append(upload, 0, pieces(data))
        # when a retried write appends at offset 60 (the caller recorded only 60 bytes)
        try:
            size = await store.append(upload, 60, pieces(b"y" * 10))
            refused = None
        except UploadOffsetError as error:
            size, refused = None, error.stored
        read = await collect(store.read_upload(upload))
        await store.discard(upload)
        return size, refused, read

    size, refused, read = backend.run(body)

    # then the store either drops what was past 60 and writes there (filesystem), or
    # refuses and names the stored size (S3 never rewrites bytes): no stray bytes either way
    if backend.kind == "s3":
        assert (size, refused, read) == (None, 100, data)
    else:
        assert (size, refused, read) == (70, None, data[:60] + b"y" * 10)
    assert backend.leftovers(set()) == []


def test_an_interrupted_append_leaves_a_prefix_and_the_upload_continues(
    backend: StoreUnderTest,
) -> None:
    # given an upload of one part plus a tail, and a next append whose body fails
    # after more than a part's worth of bytes (the client went away)
    data = os.urandom(3 * PART_SIZE)
    first = PART_SIZE + 1000

    async def broken() -> AsyncIterator[bytes]:
        yield data[first : first + PART_SIZE + 5]
        raise ConnectionResetError("client went away")

    async def body(store: BlobStore) -> tuple[int, bytes, bytes]:
        upload = new_upload()
        await store.append(upload, 0, pieces(data[:first]))
        with pytest.raises(ConnectionResetError):
            await store.append(upload, first, broken())
        # when the caller resumes from the size it recorded (the store corrects it if needed)
        try:
            resumed = await store.append(upload, first, pieces(data[first:]))
            stored = first
        except UploadOffsetError as error:
            stored = error.stored
            resumed = await store.append(upload, stored, pieces(data[stored:]))
        assert resumed == len(data)
        read = await collect(store.read_upload(upload))
        await store.commit(upload, digest(data))
        return stored, read, (await fetch(store, str(digest(data)))).content

    stored, read, downloaded = backend.run(body)

    # then the stored size was a prefix of what was sent, and the blob is exactly the data
    assert first <= stored <= first + PART_SIZE + 5
    assert read == data
    assert downloaded == data
    assert backend.leftovers({str(digest(data))}) == []


def test_committing_a_digest_twice_is_a_no_op(backend: StoreUnderTest) -> None:
    # given a committed blob and a second upload of the same bytes
    data = os.urandom(PART_SIZE + 77)
    blob = digest(data)

    async def body(store: BlobStore) -> tuple[int | None, bytes]:
        first, second = new_upload(), new_upload()
        await store.append(first, 0, pieces(data))
        await store.commit(first, blob)
        await store.append(second, 0, pieces(data))
        # when the second upload commits to the same digest, and the first commit is retried
        await store.commit(second, blob)
        await store.commit(first, blob)
        return await store.size(blob), (await fetch(store, str(blob))).content

    size, downloaded = backend.run(body)

    # then one intact blob remains and neither upload leaves anything behind
    assert size == len(data)
    assert downloaded == data
    assert backend.leftovers({str(blob)}) == []


def test_download_url_honours_range(backend: StoreUnderTest) -> None:
    # given a committed blob
    data = os.urandom(300_000)
    blob = digest(data)

    async def body(store: BlobStore) -> list[requests.Response]:
        upload = new_upload()
        await store.append(upload, 0, pieces(data))
        await store.commit(upload, blob)
        # when its URL is fetched whole, in a middle range, and from an offset to the end
        return [
            await fetch(store, str(blob)),
            await fetch(store, str(blob), Range="bytes=1000-1999"),
            await fetch(store, str(blob), Range="bytes=299990-"),
        ]

    whole, middle, end = backend.run(body)

    # then each answer carries exactly the bytes asked for
    assert (whole.status_code, whole.content) == (200, data)
    assert (middle.status_code, middle.content) == (206, data[1000:2000])
    assert (end.status_code, end.content) == (206, data[299_990:])
    assert backend.leftovers({str(blob)}) == []


def test_discard_removes_everything(backend: StoreUnderTest) -> None:
    # given an upload with full parts and a tail, and one that was read back (sealed on S3)
    data = os.urandom(PART_SIZE + 3 * MIB)

    async def body(store: BlobStore) -> tuple[int | None, bytes]:
        open_upload, sealed = new_upload(), new_upload()
        await store.append(open_upload, 0, pieces(data))
        await store.append(sealed, 0, pieces(data[:1000]))
        await collect(store.read_upload(sealed))
        # when both are discarded, twice, along with an upload that never existed
        for upload in (open_upload, sealed, open_upload, sealed, new_upload()):
            await store.discard(upload)
        return await store.size(digest(data)), await collect(store.read_upload(open_upload))

    size, read = backend.run(body)

    # then nothing of them remains, and none became a blob
    assert size is None
    assert read == b""
    assert backend.leftovers(set()) == []


@pytest.mark.parametrize("appended", [False, True], ids=["never-appended", "appended-nothing"])
def test_an_empty_upload_commits_to_the_empty_blob(backend: StoreUnderTest, appended: bool) -> None:
    # given an upload with no bytes (never appended to, or an append of an empty body)
    empty = digest(b"")

    async def body(store: BlobStore) -> tuple[int | None, requests.Response]:
        upload = new_upload()
        if appended:
            assert await store.append(upload, 0, pieces()) == 0
        # when it is committed as the empty blob
        await store.commit(upload, empty)
        return await store.size(empty), await fetch(store, str(empty))

    size, downloaded = backend.run(body)

    # then the empty blob exists and downloads as zero bytes
    assert size == 0
    assert (downloaded.status_code, downloaded.content) == (200, b"")
    assert backend.leftovers({str(empty)}) == []


def test_a_commit_with_no_bytes_never_makes_a_non_empty_digest_visible(
    backend: StoreUnderTest,
) -> None:
    # given a digest of some bytes, and an upload id that holds none
    blob = digest(b"not uploaded")

    async def body(store: BlobStore) -> int | None:
        # when that upload is committed under the digest
        with pytest.raises(FileNotFoundError):
            await store.commit(new_upload(), blob)
        return await store.size(blob)

    # then the commit fails and no blob appears under the digest
    assert backend.run(body) is None
    assert backend.leftovers(set()) == []


def test_delete_removes_a_blob(backend: StoreUnderTest) -> None:
    # given two committed blobs
    kept_data, gone_data = os.urandom(1000), os.urandom(2000)
    kept, gone = digest(kept_data), digest(gone_data)

    async def body(store: BlobStore) -> tuple[int | None, int | None, int]:
        for data, blob in ((kept_data, kept), (gone_data, gone)):
            upload = new_upload()
            await store.append(upload, 0, pieces(data))
            await store.commit(upload, blob)
        # when one is deleted, twice
        await store.delete(gone)
        await store.delete(gone)
        return (
            await store.size(kept),
            await store.size(gone),
            (await fetch(store, str(gone))).status_code,
        )

    kept_size, gone_size, status = backend.run(body)

    # then only the other remains, and the deleted one's URL finds nothing
    assert (kept_size, gone_size, status) == (1000, None, 404)
    assert backend.leftovers({str(kept)}) == []


def test_a_stale_tail_left_by_a_crash_is_not_counted(s3_backend: StoreUnderTest) -> None:
    # given an upload of one part plus a tail, then a crash after the next append wrote
    # its part (old tail + new bytes) but before it wrote the new tail: the old tail stays
    data = os.urandom(3 * PART_SIZE)
    first = PART_SIZE + 1000

    async def body(store: BlobStore) -> tuple[int, int, bytes]:
        assert isinstance(store, S3BlobStore)
        upload = new_upload()
        await store.append(upload, 0, pieces(data[:first]))
        state = await store._state(upload)
        assert (len(state.parts), state.tail_size) == (1, first - PART_SIZE)
        await store._upload_part(upload, state, data[PART_SIZE : 2 * PART_SIZE])
        # and an unrelated stale tail at an offset no part ends at
        await store.client.put_object(
            Bucket=store.bucket, Key=f"{store._tail_prefix(upload)}{12345:020d}", Body=b"junk"
        )
        # when the caller appends at the size it recorded before the crash
        with pytest.raises(UploadOffsetError) as raised:
            await store.append(upload, first, pieces(data[first:]))
        stored = raised.value.stored
        size_then = await store.upload_size(upload)
        # and resumes where the store says the bytes end
        await store.append(upload, stored, pieces(data[stored:]))
        await store.commit(upload, digest(data))
        return stored, size_then, (await fetch(store, str(digest(data)))).content

    stored, size_then, downloaded = s3_backend.run(body)

    # then the stored size counts the part once and neither tail, and the blob is exact
    assert stored == size_then == 2 * PART_SIZE
    assert downloaded == data
    assert s3_backend.leftovers({str(digest(data))}) == []


def test_an_upload_written_by_one_store_continues_on_another(s3_backend: StoreUnderTest) -> None:
    # given an upload with a part and a tail written through one opened store (replica A)
    data = os.urandom(2 * PART_SIZE + 99)
    upload = new_upload()

    async def on_a(store: BlobStore) -> int:
        return await store.append(upload, 0, pieces(data[: PART_SIZE + 50]))

    offset = s3_backend.run(on_a)

    # when another opened store (replica B) continues and commits it
    async def on_b(store: BlobStore) -> bytes:
        await store.append(upload, offset, pieces(data[offset:]))
        await store.commit(upload, digest(data))
        return (await fetch(store, str(digest(data)))).content

    # then the blob holds the bytes from both
    assert s3_backend.run(on_b) == data
    assert s3_backend.leftovers({str(digest(data))}) == []
