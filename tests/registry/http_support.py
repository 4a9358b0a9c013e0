"""Raw-HTTP helpers for the OCI distribution tests: a ``/v2/`` client and manifest builders.

The tests speak to the server with ``requests`` only, so what they check is the
wire (status codes, headers, bodies), exactly as a registry client sees it.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from tests.media_types import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_LAYER,
    OCI_MANIFEST,
)
from tests.support import Server, sha256

EMPTY_CONFIG = b"{}"

API_VERSION = ("Docker-Distribution-API-Version", "registry/2.0")


#: The codes the distribution spec allows in an error body ("MUST be one of the following"),
#: plus TAG_INVALID, which ECR itself answers for an immutable tag (docker prints it).
SPEC_CODES = frozenset(
    {
        "BLOB_UNKNOWN",
        "BLOB_UPLOAD_INVALID",
        "BLOB_UPLOAD_UNKNOWN",
        "DIGEST_INVALID",
        "MANIFEST_BLOB_UNKNOWN",
        "MANIFEST_INVALID",
        "MANIFEST_UNKNOWN",
        "NAME_INVALID",
        "NAME_UNKNOWN",
        "SIZE_INVALID",
        "UNAUTHORIZED",
        "DENIED",
        "UNSUPPORTED",
        "TOOMANYREQUESTS",
        "TAG_INVALID",
    }
)


class V2:
    """A ``/v2/`` client: Basic auth on every request, never following redirects."""

    def __init__(self, server: Server, auth: tuple[str, str] | None) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.auth = auth

    def url(self, path: str) -> str:
        """Absolute URL of a ``/v2/...`` path (or of a path the server returned)."""
        return path if path.startswith("http") else f"{self.server.url}{path}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request; redirects are returned, not followed."""
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("HEAD", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def raw(
        self, method: str, path: str, headers: list[tuple[str, str]] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """Send ``path`` byte for byte (no dot-segment clean-up; repeated headers kept)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            prepared = requests.Request(method, self.server.url, auth=self.session.auth).prepare()
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in [*prepared.headers.items(), *(headers or [])]:
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    # --- pushes ---------------------------------------------------------------------------
    def push_blob(self, name: str, data: bytes, algorithm: str = "sha256") -> str:
        """Monolithic single-POST upload; returns the digest."""
        digest = f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
        response = self.post(
            f"/v2/{name}/blobs/uploads/",
            params={"digest": digest},
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 201, response.text
        return digest

    def put_manifest(
        self, name: str, reference: str, raw: bytes, media_type: str
    ) -> requests.Response:
        """PUT manifest bytes under a tag or a digest."""
        return self.put(
            f"/v2/{name}/manifests/{reference}", data=raw, headers={"Content-Type": media_type}
        )

    def push_image(
        self,
        name: str,
        reference: str | None,
        layers: list[bytes],
        *,
        docker: bool = False,
        variant: str = "",
        arch: str = "amd64",
    ) -> Image:
        """Push config, layers and an image manifest; returns what was pushed."""
        config = json.dumps(
            {"architecture": arch, "os": "linux", "variant-label": variant, "rootfs": {}}
        ).encode()
        for blob in (config, *layers):
            self.push_blob(name, blob)
        media_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
        raw = image_manifest(media_type, config, layers)
        digest = sha256(raw)
        response = self.put_manifest(name, reference or digest, raw, media_type)
        assert response.status_code == 201, response.text
        return Image(digest, media_type, raw, sha256(config), [sha256(layer) for layer in layers])


@dataclass(frozen=True)
class Image:
    """A manifest pushed through ``/v2/``."""

    digest: str
    media_type: str
    raw: bytes
    config_digest: str
    layer_digests: list[str]


def descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    """A content descriptor of ``data``."""
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data), **extra}


def image_manifest(
    media_type: str,
    config: bytes,
    layers: list[bytes],
    *,
    config_type: str | None = None,
    artifact_type: str | None = None,
    subject: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
) -> bytes:
    """Manifest bytes (Docker schema 2 or OCI) for ``config`` and ``layers``."""
    docker = media_type == DOCKER_MANIFEST
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type}
    if artifact_type:
        doc["artifactType"] = artifact_type
    doc["config"] = descriptor(config_type or (DOCKER_CONFIG if docker else OCI_CONFIG), config)
    doc["layers"] = [descriptor(DOCKER_LAYER if docker else OCI_LAYER, item) for item in layers]
    if subject:
        doc["subject"] = subject
    if annotations:
        doc["annotations"] = annotations
    return json.dumps(doc, indent=2).encode()


def index_manifest(media_type: str, children: list[tuple[Image, str]]) -> bytes:
    """An OCI index or Docker manifest list over ``(image, architecture)`` children."""
    manifests = [
        {
            "mediaType": image.media_type,
            "digest": image.digest,
            "size": len(image.raw),
            "platform": {"architecture": arch, "os": "linux"},
        }
        for image, arch in children
    ]
    return json.dumps(
        {"schemaVersion": 2, "mediaType": media_type, "manifests": manifests}
    ).encode()


def basic_credentials(token: str) -> tuple[str, str]:
    """(user, password) from a GetAuthorizationToken ``authorizationToken``."""
    user, _, password = base64.b64decode(token).decode().partition(":")
    return user, password


def errors_of(response: requests.Response) -> list[str]:
    """The spec error codes of a ``{"errors": [...]}`` body (checking its shape)."""
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"errors"}, body
    for error in body["errors"]:
        assert isinstance(error["code"], str), error
        assert isinstance(error["message"], str), error
    return [error["code"] for error in body["errors"]]


def comparable_url(url: str) -> tuple[str, str, dict[str, str]]:
    """A pre-signed URL without what depends on the signing moment (date, signature)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.pop("X-Amz-Date")
    query.pop("X-Amz-Signature")
    key_id, _date, *scope = query["X-Amz-Credential"].split("/")
    query["X-Amz-Credential"] = "/".join([key_id, *scope])
    return parts.netloc, parts.path, query
