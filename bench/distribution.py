"""CNCF Distribution (Debian's ``docker-registry``) as a throw-away peer for benchmarks.

The binary is run directly, never through its systemd unit, with a config
generated into a temp dir: filesystem storage under that dir, ``127.0.0.1``
on a free port, no auth, deletes enabled, redirects off (the filesystem
driver cannot redirect), and the in-memory blob-descriptor cache the Debian
package's own config turns on.  With ``quiet`` (the default) it writes no line
per request, as ``layerport serve`` writes none by default, so neither server
pays for an access log the other does not keep.
"""

from __future__ import annotations

import ctypes
import json
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _common import free_port

BINARY = "/usr/bin/docker-registry"
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Distribution:
    """A running ``docker-registry serve`` child."""

    url: str
    pid: int
    root: Path
    log_path: Path


def version() -> str:
    """What ``docker-registry --version`` prints, e.g. ``... distribution 2.8.2+ds1``."""
    out = subprocess.run(
        [BINARY, "--version"], capture_output=True, text=True, check=True, timeout=10
    )
    return out.stdout.strip()


def config(root: Path, port: int, quiet: bool) -> dict[str, object]:
    """The registry's configuration (YAML is a superset of JSON, so it is written as JSON)."""
    log: dict[str, object] = {"level": "warn", "accesslog": {"disabled": True}} if quiet else {}
    return {
        "version": 0.1,
        "log": {"fields": {"service": "registry"}, **log},
        "storage": {
            "filesystem": {"rootdirectory": str(root / "storage")},
            "cache": {"blobdescriptor": "inmemory"},
            "delete": {"enabled": True},
            "redirect": {"disable": True},
        },
        "http": {"addr": f"127.0.0.1:{port}"},
    }


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the benchmark dies without cleaning up (Linux only)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@contextmanager
def running(quiet: bool = True, startup_timeout: float = 30.0) -> Iterator[Distribution]:
    """Start Distribution on 127.0.0.1 in a new temp dir; stop it and delete the dir at the end."""
    with tempfile.TemporaryDirectory(prefix="layerport-bench-distribution-") as tmp:
        root = Path(tmp)
        port = free_port()
        config_path = root / "config.yml"
        config_path.write_text(json.dumps(config(root, port, quiet), indent=2))
        log_path = root / "registry.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [BINARY, "serve", str(config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,  # only prctl, before any thread is started
            )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(process, url, log_path, startup_timeout)
            yield Distribution(url, process.pid, root, log_path)
        finally:
            _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float) -> None:
    """Wait until ``GET /v2/`` answers 200; raise with the log if the process dies or hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {log.read_text()}")
        try:
            # S310: the URL is our own http://127.0.0.1:<port>, never a file: or custom scheme.
            with urllib.request.urlopen(f"{url}/v2/", timeout=1) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:  # refused while starting, or a timeout (an OSError too)
            time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not start in {timeout:.0f} s: {log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 15 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
