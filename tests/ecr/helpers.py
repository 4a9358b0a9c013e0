"""Helpers shared by the ECR face tests: manifests of every kind, raw signed requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.media_types import (
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
)
from tests.support import Server, image_config, sha256, upload_blob

TARGET = "AmazonEC2ContainerRegistry_V20150921"
JSON_11 = "application/x-amz-json-1.1"


MIB = 1024 * 1024


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    """The (code, message) of a botocore ClientError."""
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    """A content descriptor for ``data``."""
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data)}


def manifest_descriptor(manifest: str, media_type: str, **extra: Any) -> dict[str, Any]:
    """A descriptor of a manifest, as an index lists it."""
    return {**descriptor(media_type, manifest.encode()), **extra}


def oci_manifest(
    config: bytes,
    layers: list[bytes],
    *,
    config_media_type: str = OCI_CONFIG,
    artifact_type: str | None = None,
    subject: dict[str, Any] | None = None,
) -> str:
    """An OCI image manifest (or artifact manifest, with ``artifact_type``)."""
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
    if artifact_type is not None:
        doc["artifactType"] = artifact_type
    doc["config"] = descriptor(config_media_type, config)
    doc["layers"] = [descriptor(OCI_LAYER, layer) for layer in layers]
    if subject is not None:
        doc["subject"] = subject
    return json.dumps(doc, indent=2)


def index_manifest(children: list[dict[str, Any]], media_type: str = OCI_INDEX) -> str:
    """A Docker manifest list or OCI index of ``children`` descriptors."""
    return json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": children})


def upload_image_blobs(
    ecr: Any, repository: str, layers: list[bytes], variant: str
) -> tuple[bytes, list[str]]:
    """Upload ``layers`` and a fresh config; return the config bytes and all digests."""
    config = image_config(layers, variant=variant)
    digests = [upload_blob(ecr, repository, layer) for layer in layers]
    digests.append(upload_blob(ecr, repository, config))
    return config, digests


def put_oci_image(ecr: Any, repository: str, layers: list[bytes], variant: str) -> str:
    """Upload blobs and PutImage an untagged OCI manifest; return the manifest text."""
    config, _ = upload_image_blobs(ecr, repository, layers, variant)
    manifest = oci_manifest(config, layers)
    ecr.put_image(repositoryName=repository, imageManifest=manifest)
    return manifest


def signed_post(
    server: Server,
    target: str,
    body: bytes,
    *,
    secret: str | None = None,
    region: str | None = None,
    when: datetime | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """POST ``body`` to the ECR face, SigV4-signed as botocore signs it (optionally skewed)."""
    request = AWSRequest(
        method="POST",
        url=f"{server.url}/",
        data=body,
        headers={
            "Content-Type": JSON_11,
            "X-Amz-Target": target if "." in target else f"{TARGET}.{target}",
            **(headers or {}),
        },
    )
    credentials = Credentials(server.access_key_id, secret or server.secret_access_key)
    signer = SigV4Auth(credentials, "ecr", region or server.region)
    if when is None:
        signer.add_auth(request)
    else:
        frozen = when.astimezone(UTC).replace(tzinfo=None)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("botocore.auth.get_current_datetime", lambda *_a, **_k: frozen)
            signer.add_auth(request)
    prepared = request.prepare()
    return requests.post(prepared.url, data=body, headers=dict(prepared.headers), timeout=30)


def call(server: Server, operation: str, params: dict[str, Any]) -> requests.Response:
    """A signed JSON 1.1 call of ``operation`` with ``params``."""
    return signed_post(server, operation, json.dumps(params).encode())
