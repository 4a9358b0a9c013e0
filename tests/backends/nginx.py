"""nginx as a round-robin load balancer on loopback, in front of layerport replicas.

The binary runs in the foreground with its own prefix directory and config; the
system's nginx service is never touched.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support import free_port, require_tool, wait_until_listening

DEPLOY_CONFIG = Path(__file__).parents[2] / "deploy" / "nginx.conf"
TEMP_PATHS = "".join(
    f"    {kind}_temp_path {{prefix}}/{kind};\n"
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
)


def deploy_config(prefix: Path, upstreams: list[int], port: int, user: str) -> str:
    """The repository's deploy/nginx.conf, pointed at this test's ports and prefix.

    The documented example is what is tested: only its addresses change, and
    nginx's temp paths move into the test's own directory.
    """
    text = DEPLOY_CONFIG.read_text()
    examples = "        server 127.0.0.1:5001;\n        server 127.0.0.1:5002;\n"
    servers = "".join(f"        server 127.0.0.1:{upstream};\n" for upstream in upstreams)
    for old, new in (
        (examples, servers),
        ("listen 127.0.0.1:5000;", f"listen 127.0.0.1:{port};"),
        ("http {\n", "http {\n    access_log off;\n" + TEMP_PATHS.format(prefix=prefix)),
    ):
        if old not in text:
            raise AssertionError(f"deploy/nginx.conf no longer contains {old!r}")
        text = text.replace(old, new, 1)
    return user + text


class Nginx:
    """An nginx process balancing 127.0.0.1:``port`` over the ``upstreams`` ports.

    workdir: its prefix directory (config, temp files, pid file).
    upstreams: ports of the replicas, served round-robin.
    port: where it listens (a free port unless given).
    """

    def __init__(self, workdir: Path, upstreams: list[int], port: int | None = None) -> None:
        self.binary = require_tool("nginx")
        self.workdir = workdir
        self.upstreams = upstreams
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The balancer's base URL: the replicas' public URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where nginx's error log goes."""
        return self.workdir / "nginx.log"

    def start(self) -> Nginx:
        """Write the config, start nginx in the foreground and wait until it listens."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        # A root master hands requests to workers running as "nobody", who could not
        # enter the test's private temp directory.
        user = "user root;\n" if os.geteuid() == 0 else ""
        config = self.workdir / "nginx.conf"
        config.write_text(deploy_config(self.workdir, self.upstreams, self.port, user))
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "-p",
                    str(self.workdir),
                    "-c",
                    str(config),
                    "-e",
                    "stderr",
                    "-g",
                    f"daemon off; pid {self.workdir}/nginx.pid; error_log stderr;",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_listening(self.process, self.port, self.log_path, "nginx", timeout=15)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop nginx (SIGTERM: fast shutdown), killing it if it lingers."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
