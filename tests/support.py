"""Shared test helpers: a real ``layerport serve`` process, image pushes, tool lookup."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ACCESS_KEY_ID = "AKIALAYERPORTTEST001"
SECRET_ACCESS_KEY = "layerport-test-secret-0123456789abcdefgh"
REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
BIN = Path(sys.executable).parent
#: What the layerport server uses to reach the test S3 server (moto accepts any key).
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "s3test", "AWS_SECRET_ACCESS_KEY": "s3test-secret"}
POSTGRES_DSN = os.environ.get("LAYERPORT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def interop_missing(message: str) -> None:
    """Skip for a missing outside tool or service; fail instead when CI requires interop."""
    if os.environ.get("LAYERPORT_REQUIRE_INTEROP") == "1":
        pytest.fail(f"{message}, and LAYERPORT_REQUIRE_INTEROP=1")
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_tool(name: str) -> str:
    """The path of an outside tool; skip without it (fail when CI requires interop)."""
    path = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if path is None:
        interop_missing(f"{name} is not installed")
        raise AssertionError("unreachable")
    return path


def wait_until_listening(
    process: subprocess.Popen[bytes], port: int, log: Path, what: str, timeout: float = 30
) -> None:
    """Return once ``process`` accepts connections on 127.0.0.1:``port``; raise with its log
    if it exits or does not listen within ``timeout`` seconds (the caller stops it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start: {log.read_text()}")


@dataclass
class Server:
    """A ``layerport serve`` child process on a free loopback port."""

    data_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    region: str = REGION
    account_id: str = ACCOUNT_ID
    access_key_id: str = ACCESS_KEY_ID
    secret_access_key: str = SECRET_ACCESS_KEY
    database: str | None = None
    store: str | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where the server's output goes."""
        return self.data_dir.parent / f"{self.data_dir.name}-server.log"

    def env(self) -> dict[str, str]:
        """Environment for client subprocesses (aws CLI, layerport ecr)."""
        env = dict(os.environ)
        env.update(
            AWS_ACCESS_KEY_ID=self.access_key_id,
            AWS_SECRET_ACCESS_KEY=self.secret_access_key,
            AWS_DEFAULT_REGION=self.region,
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        )
        for name in (
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_ECR",
        ):
            env.pop(name, None)
        return env

    def start(self) -> Server:
        """Start the process and wait until it answers."""
        env = dict(os.environ)
        env.update(
            LAYERPORT_ADMIN_ACCESS_KEY_ID=self.access_key_id,
            LAYERPORT_ADMIN_SECRET_ACCESS_KEY=self.secret_access_key,
        )
        env.update(S3_CREDENTIALS)
        env.update(self.extra_env)
        command = [
            str(BIN / "layerport"),
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--region",
            self.region,
            "--account-id",
            self.account_id,
        ]
        if self.database:
            command += ["--database", self.database]
        if self.store:
            command += ["--store", self.store]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        try:
            wait_until_listening(self.process, self.port, self.log_path, "layerport")
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the process (SIGKILL to simulate a crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def client(self, **overrides: Any) -> Any:
        """A boto3 ECR client for this server."""
        import boto3
        from botocore.config import Config

        options: dict[str, Any] = {
            "endpoint_url": self.url,
            "region_name": self.region,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "config": Config(retries={"max_attempts": 1}),
        }
        options.update(overrides)
        return boto3.client("ecr", **options)


def registry_login(server: Server) -> tuple[str, str]:
    """(username, password) for ``/v2/``, from GetAuthorizationToken as ``docker login`` uses."""
    import base64

    token = server.client().get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    return user, password


@dataclass
class PushedImage:
    """What :func:`push_image` stored."""

    manifest_digest: str
    layer_digests: list[str]
    config_digest: str
    manifest: str


def sha256(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload_blob(ecr: Any, repository: str, data: bytes, part_size: int = 5 * 1024 * 1024) -> str:
    """Upload ``data`` as a layer through the ECR API, in parts; return its digest."""
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    for start in range(0, len(data), part_size):
        part = data[start : start + part_size]
        ecr.upload_layer_part(
            repositoryName=repository,
            uploadId=upload_id,
            partFirstByte=start,
            partLastByte=start + len(part) - 1,
            layerPartBlob=part,
        )
    digest = sha256(data)
    ecr.complete_layer_upload(repositoryName=repository, uploadId=upload_id, layerDigests=[digest])
    return digest


def image_manifest(config: bytes, layers: list[bytes]) -> str:
    """A Docker v2 schema 2 manifest for ``config`` and ``layers``."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": sha256(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": sha256(layer),
                }
                for layer in layers
            ],
        },
        indent=3,
    )


def image_config(layers: list[bytes], variant: str = "") -> bytes:
    """A minimal image config naming the layers (variant makes it unique)."""
    return json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": {"variant": variant}},
            "rootfs": {"type": "layers", "diff_ids": [sha256(layer) for layer in layers]},
        }
    ).encode()


def push_image(
    ecr: Any, repository: str, layers: list[bytes], tag: str | None = "latest"
) -> PushedImage:
    """Upload the layers and a config, then PutImage a schema-2 manifest."""
    config = image_config(layers, variant=f"{tag}-{time.time_ns()}")
    layer_digests = [upload_blob(ecr, repository, layer) for layer in layers]
    config_digest = upload_blob(ecr, repository, config)
    manifest = image_manifest(config, layers)
    kwargs: dict[str, Any] = {"repositoryName": repository, "imageManifest": manifest}
    if tag is not None:
        kwargs["imageTag"] = tag
    image = ecr.put_image(**kwargs)["image"]
    return PushedImage(image["imageId"]["imageDigest"], layer_digests, config_digest, manifest)


class S3Server:
    """A moto S3 server process on a free loopback port (a real S3 API over HTTP)."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> S3Server:
        """Start moto_server and wait until it answers."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_listening(self.process, self.port, self.log, "moto_server")
        except RuntimeError:
            self.stop()
            raise
        return self

    def client(self) -> Any:
        """A boto3 S3 client for this server."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def bucket(self, name: str) -> str:
        """Create a bucket; return a layerport ``--store`` URL for a prefix in it."""
        self.client().create_bucket(Bucket=name)
        return f"s3://{name}/layerport?endpoint_url={self.url}"

    def stop(self) -> None:
        """Stop the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None


def postgres_database(name: str) -> str:
    """Create an empty PostgreSQL database; return its URL (skip without PostgreSQL)."""
    import asyncio

    import asyncpg

    async def create() -> None:
        conn = await asyncpg.connect(f"{POSTGRES_DSN}/postgres", timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    try:
        asyncio.run(create())
    except (OSError, asyncpg.PostgresError) as exc:
        interop_missing(f"PostgreSQL at {POSTGRES_DSN} is not usable: {exc}")
    return f"{POSTGRES_DSN}/{name}"


def drop_postgres_database(name: str) -> None:
    """Drop a database made by :func:`postgres_database`."""
    import asyncio

    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(f"{POSTGRES_DSN}/postgres", timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())
