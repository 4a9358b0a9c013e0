"""Manifest parsing: media types, references, and refusals."""

from __future__ import annotations

import json

import pytest

from layerport.service import manifests

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
CONFIG = "application/vnd.docker.container.image.v1+json"
LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def doc(**fields: object) -> bytes:
    return json.dumps({"schemaVersion": 2, **fields}).encode()


def test_docker_manifest_references_config_and_layers() -> None:
    raw = doc(
        mediaType=manifests.DOCKER_MANIFEST,
        config={
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 1,
            "digest": D1,
        },
        layers=[
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 2,
                "digest": D2,
            }
        ],
    )
    parsed = manifests.parse(raw, None)
    assert parsed.media_type == manifests.DOCKER_MANIFEST
    assert [d.digest for d in parsed.stored_blobs] == [D1, D2]
    assert not parsed.is_index


def test_oci_index_without_media_type_is_told_by_shape() -> None:
    parsed = manifests.parse(doc(manifests=[{"size": 3, "digest": D1}]), None)
    assert parsed.media_type == manifests.OCI_INDEX
    assert [c.digest for c in parsed.children] == [D1]


def test_artifact_type_and_subject() -> None:
    raw = doc(
        mediaType=manifests.OCI_MANIFEST,
        artifactType="application/vnd.example.sbom",
        config={"mediaType": "application/vnd.oci.empty.v1+json", "size": 2, "digest": D1},
        layers=[],
        subject={"mediaType": manifests.OCI_MANIFEST, "size": 9, "digest": D2},
    )
    parsed = manifests.parse(raw, manifests.OCI_MANIFEST)
    assert parsed.artifact_type == "application/vnd.example.sbom"
    assert parsed.subject is not None and parsed.subject.digest == D2


def test_foreign_layers_are_not_stored() -> None:
    raw = doc(
        mediaType=manifests.DOCKER_MANIFEST,
        config={"size": 1, "digest": D1},
        layers=[
            {
                "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                "size": 5,
                "digest": D2,
                "urls": ["https://example.invalid/layer"],
            }
        ],
    )
    assert [d.digest for d in manifests.parse(raw, None).stored_blobs] == [D1]


@pytest.mark.parametrize(
    ("raw", "declared", "message"),
    [
        (b"not json", None, "not valid JSON"),
        (b"[]", None, "JSON object"),
        (json.dumps({"schemaVersion": 1}).encode(), None, "schema 1"),
        (doc(mediaType=manifests.OCI_MANIFEST), manifests.DOCKER_MANIFEST, "does not match"),
        (doc(mediaType="text/plain"), None, "unsupported"),
        (doc(mediaType=manifests.OCI_MANIFEST), None, "needs a 'config'"),
        (doc(config={"size": 1, "digest": "md5:00"}), None, "unsupported digest"),
        (doc(config={"size": -1, "digest": D1}), None, "non-negative"),
        (doc(config={"size": 1, "digest": D1}, layers={}), None, "list of descriptors"),
    ],
)
def test_refusals(raw: bytes, declared: str | None, message: str) -> None:
    with pytest.raises(manifests.ManifestError, match=message):
        manifests.parse(raw, declared)
