"""Fixtures: a real ``layerport serve`` process and boto3 clients that talk to it over HTTP."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    S3Server,
    Server,
    drop_postgres_database,
    postgres_database,
    registry_login,
)

_names = itertools.count()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the session (SQLite + filesystem store in a temp dir)."""
    instance = Server(tmp_path_factory.mktemp("server") / "data").start()
    yield instance
    instance.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Any]:
    """A factory for servers of a test's own (special settings, restarts)."""
    started: list[Server] = []

    def start(**env: str) -> Server:
        instance = Server(tmp_path / f"data{len(started)}", extra_env=dict(env)).start()
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()


@pytest.fixture
def ecr(server: Server) -> Any:
    """A boto3 ECR client for the session server."""
    return server.client()


@pytest.fixture
def repository(ecr: Any, request: pytest.FixtureRequest) -> str:
    """A fresh, empty repository with a unique name."""
    stem = request.node.name.lower().replace("_", "-").strip("-")[:40].strip("-.")
    name = f"t{next(_names)}/{stem}".rstrip("-.[]")
    name = "".join(ch if ch.isalnum() or ch in "/-" else "-" for ch in name).strip("-")
    while "--" in name:
        name = name.replace("--", "-")
    ecr.create_repository(repositoryName=name)
    return name


@pytest.fixture
def registry_auth(server: Server) -> tuple[str, str]:
    """Basic credentials for the session server's ``/v2/`` (user ``AWS``, a fresh token)."""
    return registry_login(server)


BACKENDS = ("sqlite-file", "sqlite-s3", "postgresql-file", "postgresql-s3")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One moto S3 server process for the session."""
    instance = S3Server(tmp_path_factory.mktemp("s3") / "moto.log").start()
    yield instance
    instance.stop()


@pytest.fixture
def backend_urls(request: pytest.FixtureRequest, s3_server: S3Server) -> Iterator[dict[str, str]]:
    """``database`` and ``store`` URLs for one backend pair (indirectly parametrized)."""
    database, store = str(request.param).split("-")
    tag = f"lp_{os.getpid()}_{next(_names)}"
    urls: dict[str, str] = {}
    if database == "postgresql":
        urls["database"] = postgres_database(tag)
    if store == "s3":
        urls["store"] = s3_server.bucket(tag.replace("_", "-"))
    yield urls
    if database == "postgresql":
        drop_postgres_database(tag)


@pytest.fixture
def backend_server(backend_urls: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    """A server on the backend pair of ``backend_urls``."""
    instance = Server(
        tmp_path / "data", database=backend_urls.get("database"), store=backend_urls.get("store")
    ).start()
    yield instance
    instance.stop()
