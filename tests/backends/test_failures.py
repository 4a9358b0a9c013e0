"""Failures: bad configuration at start, and the database or the object store going away.

Bad configuration must stop ``layerport serve`` at once with one clear line and
a non-zero exit, never a traceback.  An outage while serving must give a quick
5xx in the face's own error shape, and lose nothing already committed: a TCP
proxy between the server and PostgreSQL (and one between the server and the S3
server) is cut, or stalled, and restored around the requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from botocore.exceptions import ClientError

from tests.support import (
    BIN,
    POSTGRES_DSN,
    S3_CREDENTIALS,
    PushedImage,
    S3Server,
    Server,
    drop_postgres_database,
    free_port,
    postgres_database,
    push_image,
    registry_login,
    sha256,
)

#: How long a failing start or a request during an outage may take.
BOUND = 30
POSTGRES = urlsplit(POSTGRES_DSN)


class TcpProxy:
    """A TCP relay on 127.0.0.1 that can be cut and restored, run by an event loop in a thread.

    target_host, target_port: where it relays to.

    ``cut`` stops listening (new connections are refused) and aborts every relayed
    connection, as a crashed server looks to its clients; ``restore`` listens on
    the same port again.  ``stall`` keeps every connection open but carries no
    bytes, as a dead link or a hung failover looks; ``resume`` carries them again.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.Server | None = None
        self.flowing: asyncio.Event | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=BOUND)

    def start(self) -> TcpProxy:
        """Start the loop's thread and listen."""
        self.thread.start()
        self._call(self._listen())
        return self

    async def _listen(self) -> None:
        if self.flowing is None:
            self.flowing = asyncio.Event()
            self.flowing.set()
        self.server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        self.writers.add(writer)
        try:
            assert self.flowing is not None
            await self.flowing.wait()
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    self.target_host, self.target_port
                )
            except OSError:
                return
            self.writers.add(up_writer)
            try:
                await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
            finally:
                self.writers.discard(up_writer)
                up_writer.transport.abort()
        finally:
            self.writers.discard(writer)
            writer.transport.abort()
            self.tasks.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self.flowing is not None
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(1 << 16):
                await self.flowing.wait()  # stalled: the bytes go nowhere, as on a dead link
                writer.write(data)
                await writer.drain()
        # one side finished: end both, as the connection is over
        writer.transport.abort()

    async def _cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        await asyncio.sleep(0.05)

    def cut(self) -> None:
        """Refuse new connections and abort the open ones."""
        self._call(self._cut())

    async def _set_flowing(self, flowing: bool) -> None:
        assert self.flowing is not None
        if flowing:
            self.flowing.set()
        else:
            self.flowing.clear()

    def stall(self) -> None:
        """Keep every connection open but carry no bytes, and answer nothing new: a dead link."""
        self._call(self._set_flowing(False))

    def resume(self) -> None:
        """Carry bytes again after a stall."""
        self._call(self._set_flowing(True))

    def restore(self) -> None:
        """Listen again on the same port."""
        self._call(self._listen())

    async def _close(self) -> None:
        await self._set_flowing(True)
        await self._cut()
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=5)

    def stop(self) -> None:
        """Cut everything, stop the loop and its thread."""
        if self.thread.is_alive():
            self._call(self._close())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=BOUND)
        self.loop.close()


# --- bad configuration ----------------------------------------------------------------


def serve_once(tmp_path: Path, *args: str) -> tuple[int, str, float]:
    """Run ``layerport serve`` with ``args``; its exit code, stderr and run time."""
    env = {**os.environ, **S3_CREDENTIALS}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    started = time.monotonic()
    try:
        done = subprocess.run(
            [
                str(BIN / "layerport"),
                "serve",
                "--port",
                str(free_port()),
                "--data-dir",
                str(tmp_path / "data"),
                *args,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=BOUND * 2,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"layerport serve {' '.join(args)} did not stop: {expired.stderr!r}")
    return done.returncode, done.stderr, time.monotonic() - started


#: Informational log lines (migrations, credentials found) are not part of the error.
_INFO_LOG = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO) ")


BAD_CONFIGURATIONS = [
    (
        "unreachable database",
        ["--database", "postgresql://postgres@127.0.0.1:1/x"],
        ["database", "127.0.0.1:1"],
    ),
    (
        "missing database",
        ["--database", f"{POSTGRES_DSN}/lp_no_such_db"],
        ["database", "lp_no_such_db"],
    ),
    ("database URL of another kind", ["--database", "mysql://db/x"], ["--database"]),
    ("missing bucket", ["--store", "s3://lp-no-such-bucket/x?endpoint_url={s3}"], ["bucket"]),
    (
        "unreachable object store",
        ["--store", "s3://bucket/x?endpoint_url=http://127.0.0.1:1"],
        ["store", "127.0.0.1:1"],
    ),
    ("store URL without a bucket", ["--store", "s3:///prefix"], ["--store", "bucket"]),
    ("store URL with an unknown option", ["--store", "s3://b/p?colour=red"], ["colour"]),
    ("unknown store scheme", ["--store", "gs://bucket/prefix"], ["--store", "gs"]),
]


@pytest.mark.parametrize(
    ("case", "args", "names"), [pytest.param(*case, id=case[0]) for case in BAD_CONFIGURATIONS]
)
def test_bad_configuration_fails_at_start_with_one_clear_line(
    case: str, args: list[str], names: list[str], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # given a setting that cannot work
    if any("{s3}" in arg for arg in args):
        s3_server: S3Server = request.getfixturevalue("s3_server")
        args = [arg.replace("{s3}", s3_server.url) for arg in args]

    # when the server is started with it
    code, stderr, took = serve_once(tmp_path, *args)

    # then it exits non-zero, soon, with one line that names the problem, and no traceback
    error_lines = [line for line in stderr.splitlines() if line and not _INFO_LOG.match(line)]
    assert code != 0, f"{case}: exit code 0"
    assert "Traceback" not in stderr, stderr
    assert len(error_lines) == 1, f"{case}: {stderr}"
    assert error_lines[0].startswith("layerport: "), error_lines
    for name in names:
        assert name in error_lines[0], f"{case}: {error_lines[0]!r} does not name {name!r}"
    assert took < BOUND


# --- outages while serving ----------------------------------------------------------


@dataclass
class Outage:
    """A server whose database and object store are both reached through cuttable proxies."""

    server: Server
    database: TcpProxy
    store: TcpProxy
    repository: str
    image: PushedImage
    layers: dict[str, bytes]


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Iterator[Outage]:
    """A PostgreSQL + S3 server behind proxies, holding one image pushed beforehand."""
    name = f"lp_failures_{os.getpid()}"
    postgres_database(name)
    bucket = name.replace("_", "-")
    s3_server.bucket(bucket)
    database = TcpProxy(POSTGRES.hostname or "127.0.0.1", POSTGRES.port or 5432)
    store = TcpProxy("127.0.0.1", s3_server.port)
    server = Server(
        tmp_path_factory.mktemp("outage") / "data",
        database=f"postgresql://postgres@127.0.0.1:{database.port}/{name}",
        store=f"s3://{bucket}/layerport?endpoint_url=http://127.0.0.1:{store.port}",
    )
    try:
        database.start()
        store.start()
        server.start()
        ecr = server.client()
        ecr.create_repository(repositoryName="outage/app")
        layers = [os.urandom(9 * 1024 * 1024 + 1), os.urandom(1000)]
        image = push_image(ecr, "outage/app", layers, tag="before")
        yield Outage(
            server, database, store, "outage/app", image, {sha256(data): data for data in layers}
        )
    finally:
        server.stop()
        database.stop()
        store.stop()
        drop_postgres_database(name)


def ecr_failure(call: Any) -> tuple[ClientError, float]:
    """Make an ECR call that must fail; the error and how long it took."""
    started = time.monotonic()
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value, time.monotonic() - started


def timed(method: str, url: str, **kwargs: Any) -> tuple[requests.Response, float]:
    """A ``requests`` call and how long it took."""
    started = time.monotonic()
    response = requests.request(method, url, timeout=BOUND * 2, **kwargs)
    return response, time.monotonic() - started


def assert_server_exception(error: ClientError, took: float) -> None:
    """The ECR face's fault: ServerException with a 5xx, in bounded time."""
    assert error.response["Error"]["Code"] == "ServerException", error.response
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] >= 500
    assert took < BOUND


def assert_oci_5xx(response: requests.Response, took: float) -> None:
    """The registry face's fault: a 5xx with an OCI error body, in bounded time."""
    assert response.status_code >= 500, (response.status_code, response.text)
    errors = json.loads(response.content)["errors"]
    assert errors and errors[0]["code"] and errors[0]["message"]
    assert took < BOUND


def assert_intact(outage: Outage) -> None:
    """The image pushed before the outage reads back whole through both faces."""
    ecr = outage.server.client()
    described = ecr.describe_images(
        repositoryName=outage.repository, imageIds=[{"imageTag": "before"}]
    )["imageDetails"]
    assert described[0]["imageDigest"] == outage.image.manifest_digest
    for digest, data in outage.layers.items():
        url = ecr.get_download_url_for_layer(repositoryName=outage.repository, layerDigest=digest)
        assert requests.get(url["downloadUrl"], timeout=60).content == data
    manifest = requests.get(
        f"{outage.server.url}/v2/{outage.repository}/manifests/before",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        auth=registry_login(outage.server),
        timeout=30,
    )
    assert manifest.status_code == 200
    assert sha256(manifest.content) == outage.image.manifest_digest


def test_a_database_outage_gives_a_quick_5xx_and_loses_nothing(outage: Outage) -> None:
    # given an image pushed earlier and a registry token in hand
    ecr = outage.server.client()
    auth = registry_login(outage.server)
    layer = next(iter(outage.layers))
    base = f"{outage.server.url}/v2/{outage.repository}"

    # when the database goes away (connections dropped, new ones refused)
    outage.database.cut()
    try:
        described, described_took = ecr_failure(
            lambda: ecr.describe_images(repositoryName=outage.repository)
        )
        url, url_took = ecr_failure(
            lambda: ecr.get_download_url_for_layer(
                repositoryName=outage.repository, layerDigest=layer
            )
        )
        manifest, manifest_took = timed("GET", f"{base}/manifests/before", auth=auth)
        blob, blob_took = timed("HEAD", f"{base}/blobs/{layer}", auth=auth)
    finally:
        outage.database.restore()

    # then each face answers with its own 5xx, quickly
    assert_server_exception(described, described_took)
    assert_server_exception(url, url_took)
    assert_oci_5xx(manifest, manifest_took)
    assert blob.status_code >= 500 and blob_took < BOUND
    # and once the database is back, nothing is lost and new pushes work
    assert_intact(outage)
    pushed = push_image(ecr, outage.repository, [os.urandom(2000)], tag="after-database")
    assert (
        ecr.batch_get_image(
            repositoryName=outage.repository, imageIds=[{"imageTag": "after-database"}]
        )["images"][0]["imageId"]["imageDigest"]
        == pushed.manifest_digest
    )


def test_an_object_store_outage_gives_a_quick_5xx_and_uploads_resume(outage: Outage) -> None:
    # given an upload with its first part received
    ecr = outage.server.client()
    auth = registry_login(outage.server)
    data = os.urandom(6 * 1024 * 1024 + 17)
    half = 3 * 1024 * 1024
    upload_id = ecr.initiate_layer_upload(repositoryName=outage.repository)["uploadId"]

    def part(start: int, end: int) -> Any:
        return ecr.upload_layer_part(
            repositoryName=outage.repository,
            uploadId=upload_id,
            partFirstByte=start,
            partLastByte=end - 1,
            layerPartBlob=data[start:end],
        )

    part(0, half)
    started = requests.post(
        f"{outage.server.url}/v2/{outage.repository}/blobs/uploads/", auth=auth, timeout=30
    )
    assert started.status_code == 202

    # when the object store goes away
    outage.store.cut()
    try:
        # (a download URL needs no trip to the store)
        url = ecr.get_download_url_for_layer(
            repositoryName=outage.repository, layerDigest=next(iter(outage.layers))
        )
        failed_part, part_took = ecr_failure(lambda: part(half, len(data)))
        chunk, chunk_took = timed(
            "PATCH",
            f"{outage.server.url}{started.headers['Location']}",
            data=b"x" * 1000,
            headers={"Content-Type": "application/octet-stream"},
            auth=auth,
        )
    finally:
        outage.store.restore()

    # then the store-bound requests answer a 5xx quickly, and the rest still works
    assert "X-Amz-Signature=" in url["downloadUrl"]
    assert_server_exception(failed_part, part_took)
    assert_oci_5xx(chunk, chunk_took)
    # and once it is back, the upload resumes where it was and completes exactly
    assert part(half, len(data))["lastByteReceived"] == len(data) - 1
    done = ecr.complete_layer_upload(
        repositoryName=outage.repository, uploadId=upload_id, layerDigests=[sha256(data)]
    )
    assert done["layerDigest"] == sha256(data)
    assert_intact(outage)


def test_a_database_that_stops_answering_gives_a_5xx_in_bounded_time(outage: Outage) -> None:
    # given a server that has been talking to its database
    ecr = outage.server.client()
    auth = registry_login(outage.server)
    ecr.describe_images(repositoryName=outage.repository)

    # when the link to the database goes dead: connections stay open, nothing answers
    outage.database.stall()
    try:
        described, described_took = ecr_failure(
            lambda: ecr.describe_images(repositoryName=outage.repository)
        )
        manifest, manifest_took = timed(
            "GET", f"{outage.server.url}/v2/{outage.repository}/manifests/before", auth=auth
        )
    finally:
        outage.database.resume()

    # then the requests fail with a 5xx instead of hanging, and all is well afterwards
    assert_server_exception(described, described_took)
    assert_oci_5xx(manifest, manifest_took)
    assert_intact(outage)
