"""Fixtures for comparing ``layerport ecr …`` with ``aws ecr …`` run as separate processes.

Both programs run as subprocesses with the same isolated environment (no
user AWS configuration, a throw-away data directory), so a difference in
stdout, stderr or exit code is a difference between the two programs.  awscli
is never imported in the test process: importing it re-points
``import botocore`` at its vendored copy for everything that follows.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cli.ecr_cli_support import (
    AWS,
    LAYERPORT,
    Pair,
    Recorder,
    Run,
    Runner,
    handler,
    run_program,
)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """An environment with fixed fake credentials and no user configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAYERPORT_"))}
    empty = tmp_path / "aws-config"
    empty.write_text("")
    env.update(
        AWS_ACCESS_KEY_ID="AKIDLAYERPORTCLITEST",
        AWS_SECRET_ACCESS_KEY="cli-test-secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        LAYERPORT_DATA_DIR=str(tmp_path / "data"),
    )
    return env


@pytest.fixture
def aws(cli_env: dict[str, str]) -> Runner:
    """Run ``aws ecr <args>``; skips when the aws CLI is missing, unless interop is required."""
    if not AWS.exists():
        if os.environ.get("LAYERPORT_REQUIRE_INTEROP") == "1":
            pytest.fail(f"the aws CLI is required but missing at {AWS}")
        pytest.skip(f"the aws CLI is not installed at {AWS}")

    def run(*args: str, env: dict[str, str] | None = None) -> Run:
        return run_program(AWS, args, env or cli_env)

    return run


@pytest.fixture
def layerport(cli_env: dict[str, str]) -> Runner:
    """Run ``layerport ecr <args>``."""

    def run(*args: str, env: dict[str, str] | None = None) -> Run:
        return run_program(LAYERPORT, args, env or cli_env)

    return run


@pytest.fixture
def pair(aws: Runner, layerport: Runner) -> Pair:
    """Run the same ``ecr`` command through aws and layerport at once: (theirs, ours)."""

    def run(*args: str, env: dict[str, str] | None = None) -> tuple[Run, Run]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            theirs = pool.submit(aws, *args, env=env)
            ours = pool.submit(layerport, *args, env=env)
            return theirs.result(), ours.result()

    return run


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """A local HTTP endpoint standing in for ECR, to compare what two clients send."""
    recorder = Recorder(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(recorder))
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
