"""Helpers shared by the ``layerport ecr`` tests: running a CLI, and a recording endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
AWS = BIN / "aws"
LAYERPORT = BIN / "layerport"


@dataclass(frozen=True)
class Run:
    """What one command printed and returned."""

    rc: int
    out: str
    err: str

    @property
    def last_err_line(self) -> str:
        lines = self.err.splitlines()
        return lines[-1] if lines else ""


Runner = Callable[..., Run]
Pair = Callable[..., tuple[Run, Run]]


def run_program(program: Path, args: tuple[str, ...], env: dict[str, str]) -> Run:
    """Run ``<program> ecr <args>`` and capture everything it says."""
    done = subprocess.run(
        [str(program), "ecr", *args], env=env, capture_output=True, text=True, timeout=120
    )
    return Run(done.returncode, done.stdout, done.stderr)


@dataclass
class Recorder:
    """A fake ECR endpoint that records each request body and answers from ``replies``."""

    url: str
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    replies: Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]] | None = None


def handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    """A request handler speaking just enough JSON 1.1 for botocore to parse the reply."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            operation = self.headers["X-Amz-Target"].rsplit(".", 1)[-1]
            recorder.requests.append((operation, body))
            status, reply = (recorder.replies or _no_reply)(operation, body)
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output clean."""

    return Handler


def _no_reply(operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, {}


def assert_same(ours: Run, theirs: Run) -> None:
    """Byte-identical stdout and stderr, and the same exit code."""
    assert (ours.rc, ours.out, ours.err) == (theirs.rc, theirs.out, theirs.err)


def assert_same_usage_error(ours: Run, theirs: Run, rc: int) -> None:
    """The same exit code and final error line; the usage text above it names each program."""
    assert (ours.rc, theirs.rc) == (rc, rc)
    assert (ours.out, theirs.out) == ("", "")
    expected = theirs.last_err_line.replace("aws: error:", "layerport: error:", 1)
    assert ours.last_err_line == expected
