"""nginx as a round-robin load balancer on loopback, in front of layerport replicas.

The binary runs in the foreground with its own prefix directory and config; the
system's nginx service is never touched.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from tests.support import free_port, require_tool

CONFIG = """\
{user}worker_processes 1;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream layerport {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        # layers are any size, streamed straight through to a replica
        client_max_body_size 0;
        proxy_request_buffering off;
        proxy_buffering off;
        location / {{
            proxy_pass http://layerport;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # SigV4 signs the Host header the client used
            proxy_set_header Host $http_host;
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


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
        servers = "\n".join(f"        server 127.0.0.1:{port};" for port in self.upstreams)
        # A root master hands requests to workers running as "nobody", who could not
        # enter the test's private temp directory.
        user = "user root;\n" if os.geteuid() == 0 else ""
        config = self.workdir / "nginx.conf"
        config.write_text(
            CONFIG.format(user=user, prefix=self.workdir, servers=servers, port=self.port)
        )
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
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not start: {self.log_path.read_text()}")

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
