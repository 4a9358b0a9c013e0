"""The two faces share one registry: what /v2/ pushes the ECR API sees, and the reverse."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.media_types import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from tests.registry.http_support import V2, comparable_url, index_manifest
from tests.support import Server, push_image, sha256


@pytest.fixture
def v2(server: Server, registry_auth: tuple[str, str]) -> V2:
    return V2(server, registry_auth)


def test_an_image_pushed_over_v2_is_an_ecr_image(v2: V2, ecr: Any, repository: str) -> None:
    # given an image pushed with raw /v2/ requests
    layers = [b"v2 layer one", b"v2 layer two, longer"]
    image = v2.push_image(repository, "raw", layers)

    # when the ECR API lists and describes the repository
    listed = ecr.list_images(repositoryName=repository)["imageIds"]
    described = ecr.describe_images(repositoryName=repository)["imageDetails"]

    # then it is there, with its tag, digest, media type and layer sizes
    assert listed == [{"imageDigest": image.digest, "imageTag": "raw"}]
    assert len(described) == 1
    assert described[0]["imageDigest"] == image.digest
    assert described[0]["imageTags"] == ["raw"]
    assert described[0]["imageManifestMediaType"] == OCI_MANIFEST
    assert described[0]["imageSizeInBytes"] == sum(len(layer) for layer in layers)


def test_get_download_url_for_layer_works_for_v2_pushed_layers(
    v2: V2, ecr: Any, repository: str
) -> None:
    # given an image pushed over /v2/
    layers = [b"first downloadable layer", b"second downloadable layer"]
    image = v2.push_image(repository, "raw", layers)

    # when the ECR API is asked for each layer's URL
    urls = [
        ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)
        for digest in image.layer_digests
    ]

    # then each URL serves that layer, and is the one /v2/ redirects to
    for layer, digest, url in zip(layers, image.layer_digests, urls, strict=True):
        assert url["layerDigest"] == digest
        assert requests.get(url["downloadUrl"], timeout=30).content == layer
        redirect = v2.get(f"/v2/{repository}/blobs/{digest}")
        assert comparable_url(redirect.headers["Location"]) == comparable_url(url["downloadUrl"])


def test_batch_get_image_returns_the_v2_bytes(v2: V2, ecr: Any, repository: str) -> None:
    # given a Docker schema 2 image pushed over /v2/
    image = v2.push_image(repository, "docker", [b"docker layer"], docker=True)

    # when BatchGetImage fetches it by tag
    got = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": "docker"}])

    # then the manifest is byte for byte what was PUT
    assert got["failures"] == []
    assert got["images"][0]["imageManifest"] == image.raw.decode()
    assert got["images"][0]["imageManifestMediaType"] == DOCKER_MANIFEST


def test_layers_uploaded_in_chunks_are_available_to_ecr(v2: V2, ecr: Any, repository: str) -> None:
    # given a blob uploaded over /v2/ in two chunks
    location = v2.post(f"/v2/{repository}/blobs/uploads/").headers["Location"]
    location = v2.patch(location, data=b"chunk-1/").headers["Location"]
    done = v2.put(location, params={"digest": sha256(b"chunk-1/chunk-2")}, data=b"chunk-2")
    assert done.status_code == 201

    # when BatchCheckLayerAvailability asks about it
    checked = ecr.batch_check_layer_availability(
        repositoryName=repository, layerDigests=[sha256(b"chunk-1/chunk-2")]
    )

    # then it is available with its full size
    assert checked["layers"] == [
        {
            "layerDigest": sha256(b"chunk-1/chunk-2"),
            "layerAvailability": "AVAILABLE",
            "layerSize": len(b"chunk-1/chunk-2"),
        }
    ]


def test_ecr_tags_and_deletes_show_on_v2(v2: V2, ecr: Any, repository: str) -> None:
    # given an image pushed with the ECR API, then tagged again by PutImage
    pushed = push_image(ecr, repository, [b"ecr layer"], tag="first")
    ecr.put_image(repositoryName=repository, imageManifest=pushed.manifest, imageTag="second")

    # when /v2/ lists the tags, then BatchDeleteImage removes one
    before = v2.get(f"/v2/{repository}/tags/list").json()["tags"]
    ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageTag": "first"}])
    after = v2.get(f"/v2/{repository}/tags/list").json()["tags"]

    # then /v2/ sees exactly what the ECR API did
    assert before == ["first", "second"]
    assert after == ["second"]
    assert v2.get(f"/v2/{repository}/manifests/first").status_code == 404


def test_v2_deletes_show_in_ecr(v2: V2, ecr: Any, repository: str) -> None:
    # given an image pushed over /v2/ under a tag
    image = v2.push_image(repository, "gone", [b"short-lived layer"])

    # when /v2/ deletes it by digest
    assert v2.delete(f"/v2/{repository}/manifests/{image.digest}").status_code == 202

    # then the ECR API no longer lists it, and its layers have no URL
    assert ecr.list_images(repositoryName=repository)["imageIds"] == []
    with pytest.raises(ecr.exceptions.LayerInaccessibleException):
        ecr.get_download_url_for_layer(
            repositoryName=repository, layerDigest=image.layer_digests[0]
        )


def test_an_index_pushed_over_v2_is_described_by_ecr(v2: V2, ecr: Any, repository: str) -> None:
    # given an OCI index over two images, all pushed over /v2/
    children = [(v2.push_image(repository, None, [arch.encode()]), arch) for arch in ("a1", "a2")]
    raw = index_manifest(OCI_INDEX, children)
    assert v2.put_manifest(repository, "multi", raw, OCI_INDEX).status_code == 201

    # when ECR describes the index
    described = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": "multi"}])

    # then it is an index with the right digest
    detail = described["imageDetails"][0]
    assert detail["imageDigest"] == sha256(raw)
    assert detail["imageManifestMediaType"] == OCI_INDEX
    manifest = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": "multi"}])
    assert json.loads(manifest["images"][0]["imageManifest"])["manifests"][0]["digest"] == (
        children[0][0].digest
    )
