"""Drive skopeo against a running server the way a user does, and read what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import BIN, Server, require_tool, sha256

#: Seconds any one skopeo or aws command may take before the test gives up.
TIMEOUT = 120


def login_password(server: Server) -> str:
    """``aws ecr get-login-password --endpoint-url <url>``, as a user types it."""
    done = subprocess.run(
        [str(BIN / "aws"), "ecr", "get-login-password", "--endpoint-url", server.url],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@dataclass
class Skopeo:
    """skopeo with its own auth file, talking plain HTTP to one server.

    server: the layerport process to talk to.
    workdir: holds the auth file (a new one holds no credentials).
    overrides: global options for every command, e.g. ``("--override-arch", "arm64")``.
    """

    server: Server
    workdir: Path
    overrides: tuple[str, ...] = ()
    binary: str = ""

    def __post_init__(self) -> None:
        self.binary = self.binary or require_tool("skopeo")
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.authfile.exists():
            self.authfile.write_text(json.dumps({"auths": {}}))

    @property
    def host(self) -> str:
        """The registry host as image references name it."""
        return f"127.0.0.1:{self.server.port}"

    @property
    def authfile(self) -> Path:
        """Where ``skopeo login`` keeps the credentials (never the user's own file)."""
        return self.workdir / "auth.json"

    def ref(self, name: str) -> str:
        """``docker://<host>/<name>`` for ``name`` = ``repo:tag`` or ``repo@digest``."""
        return f"docker://{self.host}/{name}"

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``skopeo --debug <args>`` and return what happened (no check)."""
        env = dict(os.environ)
        for name in ("REGISTRY_AUTH_FILE", "DOCKER_CONFIG"):
            env.pop(name, None)
        return subprocess.run(
            [self.binary, "--debug", *self.overrides, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=TIMEOUT,
            check=False,
        )

    def ok(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run and require success; the failure message carries skopeo's debug log."""
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, (
            f"skopeo {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-8000:]}"
        )
        return done

    def login(self) -> None:
        """``aws ecr get-login-password | skopeo login -u AWS --password-stdin``."""
        self.ok(
            "login",
            "--tls-verify=false",
            "-u",
            "AWS",
            "--password-stdin",
            "--authfile",
            str(self.authfile),
            self.host,
            stdin=login_password(self.server),
        )

    def push(self, layout: Path, tag: str, name: str, *options: str) -> None:
        """``skopeo copy oci:<layout>:<tag> docker://<host>/<name>``."""
        self.ok(
            "copy",
            "--authfile",
            str(self.authfile),
            "--dest-tls-verify=false",
            *options,
            f"oci:{layout}:{tag}",
            self.ref(name),
        )

    def pull(self, name: str, destination: str, *options: str) -> None:
        """``skopeo copy docker://<host>/<name> <destination>`` (``oci:DIR:TAG``, ``dir:DIR``)."""
        self.ok(
            "copy",
            "--authfile",
            str(self.authfile),
            "--src-tls-verify=false",
            *options,
            self.ref(name),
            destination,
        )

    def registry(self, command: str, name: str, *options: str) -> subprocess.CompletedProcess[str]:
        """``skopeo <command> --tls-verify=false docker://…`` (inspect, list-tags, delete)."""
        return self.run(
            command,
            "--authfile",
            str(self.authfile),
            "--tls-verify=false",
            *options,
            self.ref(name),
        )


class LayoutReader:
    """What an OCI image layout directory holds, for comparing a pull with the original."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.index: dict[str, Any] = json.loads((root / "index.json").read_text())

    def blob(self, digest: str) -> bytes:
        """The bytes stored under ``digest``, checked against it."""
        data = (self.root / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()
        assert sha256(data) == digest, f"{self.root} holds corrupt blob {digest}"
        return data

    def tagged(self, tag: str) -> dict[str, Any]:
        """The index.json descriptor named ``tag``."""
        for descriptor in self.index["manifests"]:
            if descriptor.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
                return dict(descriptor)
        raise AssertionError(f"{self.root} has no manifest tagged {tag!r}: {self.index}")

    def json(self, digest: str) -> dict[str, Any]:
        """A manifest, index or config blob, parsed."""
        return dict(json.loads(self.blob(digest)))

    def image_blobs(self, manifest_digest: str) -> dict[str, bytes]:
        """Config and layer blobs of an image manifest, by digest."""
        manifest = self.json(manifest_digest)
        digests = [manifest["config"]["digest"]] + [each["digest"] for each in manifest["layers"]]
        return {digest: self.blob(digest) for digest in digests}
