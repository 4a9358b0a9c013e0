"""PutImage: every manifest kind, reference checks, digests and tag mutability."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.config import Config

from tests.ecr.helpers import (
    error_of,
    index_manifest,
    manifest_descriptor,
    oci_manifest,
    put_oci_image,
    upload_image_blobs,
)
from tests.media_types import (
    DOCKER_CONFIG,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_EMPTY,
    OCI_INDEX,
    OCI_MANIFEST,
)
from tests.support import (
    ACCOUNT_ID,
    Server,
    image_config,
    image_manifest,
    push_image,
    sha256,
    upload_blob,
)

PLATFORM = {"architecture": "amd64", "os": "linux"}


def test_put_image_stores_a_docker_v2_schema_2_manifest(ecr: Any, repository: str) -> None:
    # given
    layers = [b"docker layer one", b"docker layer two"]
    config, _ = upload_image_blobs(ecr, repository, layers, "docker")
    manifest = image_manifest(config, layers)

    # when
    image = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag="v1")["image"]

    # then
    assert image["registryId"] == ACCOUNT_ID
    assert image["repositoryName"] == repository
    assert image["imageId"] == {"imageDigest": sha256(manifest.encode()), "imageTag": "v1"}
    assert image["imageManifest"] == manifest
    assert image["imageManifestMediaType"] == DOCKER_MANIFEST


def test_put_image_stores_an_oci_manifest(ecr: Any, repository: str) -> None:
    # given
    layers = [b"oci layer"]
    config, _ = upload_image_blobs(ecr, repository, layers, "oci")
    manifest = oci_manifest(config, layers)

    # when
    image = ecr.put_image(
        repositoryName=repository, imageManifest=manifest, imageManifestMediaType=OCI_MANIFEST
    )["image"]

    # then
    assert image["imageId"] == {"imageDigest": sha256(manifest.encode())}
    assert image["imageManifestMediaType"] == OCI_MANIFEST


@pytest.mark.parametrize(
    ("index_type", "child_type"), [(DOCKER_LIST, DOCKER_MANIFEST), (OCI_INDEX, OCI_MANIFEST)]
)
def test_put_image_stores_an_index_of_images_in_the_repository(
    ecr: Any, repository: str, index_type: str, child_type: str
) -> None:
    # given two single-platform images already in the repository
    children = []
    for arch in ("amd64", "arm64"):
        layers = [f"{arch} layer".encode()]
        config, _ = upload_image_blobs(ecr, repository, layers, arch)
        manifest = (
            image_manifest(config, layers)
            if child_type == DOCKER_MANIFEST
            else oci_manifest(config, layers)
        )
        ecr.put_image(repositoryName=repository, imageManifest=manifest)
        platform = {"architecture": arch, "os": "linux"}
        children.append(manifest_descriptor(manifest, child_type, platform=platform))
    index = index_manifest(children, index_type)

    # when
    image = ecr.put_image(repositoryName=repository, imageManifest=index, imageTag="multi")["image"]

    # then
    assert image["imageManifestMediaType"] == index_type
    assert image["imageId"]["imageDigest"] == sha256(index.encode())


def test_put_image_stores_an_oci_artifact_with_a_subject(ecr: Any, repository: str) -> None:
    # given an image, and an artifact (empty config, one blob) that refers to it
    subject = push_image(ecr, repository, [b"the subject layer"], tag="app")
    upload_blob(ecr, repository, b"{}")
    upload_blob(ecr, repository, b'{"signature": "sig"}')
    artifact = oci_manifest(
        b"{}",
        [b'{"signature": "sig"}'],
        config_media_type=OCI_EMPTY,
        artifact_type="application/vnd.example.signature.v1+json",
        subject=manifest_descriptor(subject.manifest, DOCKER_MANIFEST),
    )

    # when
    image = ecr.put_image(repositoryName=repository, imageManifest=artifact)["image"]

    # then
    digest = image["imageId"]["imageDigest"]
    detail = ecr.describe_images(repositoryName=repository, imageIds=[{"imageDigest": digest}])[
        "imageDetails"
    ][0]
    assert detail["imageManifestMediaType"] == OCI_MANIFEST
    assert detail["artifactMediaType"] == "application/vnd.example.signature.v1+json"
    assert detail["subjectManifestDigest"] == subject.manifest_digest


def test_a_layer_missing_from_the_repository_is_named(ecr: Any, repository: str) -> None:
    # given a config in the repository but one of two layers never uploaded
    layers = [b"uploaded layer", b"never uploaded layer"]
    config = image_config(layers)
    upload_blob(ecr, repository, layers[0])
    upload_blob(ecr, repository, config)

    # when
    with pytest.raises(ecr.exceptions.LayersNotFoundException) as excinfo:
        ecr.put_image(repositoryName=repository, imageManifest=image_manifest(config, layers))

    # then
    message = error_of(excinfo)[1]
    assert sha256(layers[1]) in message
    assert sha256(layers[0]) not in message
    assert repository in message
    assert ecr.list_images(repositoryName=repository)["imageIds"] == []


def test_a_missing_config_is_a_missing_layer(ecr: Any, repository: str) -> None:
    # given
    layers = [b"layer with no config"]
    config = image_config(layers)
    upload_blob(ecr, repository, layers[0])

    # when
    with pytest.raises(ecr.exceptions.LayersNotFoundException) as excinfo:
        ecr.put_image(repositoryName=repository, imageManifest=image_manifest(config, layers))

    # then
    assert sha256(config) in error_of(excinfo)[1]


def test_a_layer_of_another_repository_does_not_count(ecr: Any, repository: str) -> None:
    # given all blobs uploaded, but to a different repository
    other = f"{repository}-elsewhere"
    ecr.create_repository(repositoryName=other)
    layers = [b"layer in the wrong repository"]
    config, _ = upload_image_blobs(ecr, other, layers, "elsewhere")

    # when
    with pytest.raises(ecr.exceptions.LayersNotFoundException):
        ecr.put_image(repositoryName=repository, imageManifest=image_manifest(config, layers))

    # then
    ecr.put_image(repositoryName=other, imageManifest=image_manifest(config, layers))


def test_an_index_with_a_missing_child_is_refused(ecr: Any, repository: str) -> None:
    # given one child in the repository, one not
    present = push_image(ecr, repository, [b"present child"], tag=None)
    absent = image_manifest(b"{}", [b"absent child"])
    index = index_manifest(
        [
            manifest_descriptor(present.manifest, DOCKER_MANIFEST, platform=PLATFORM),
            manifest_descriptor(absent, DOCKER_MANIFEST, platform=PLATFORM),
        ],
        DOCKER_LIST,
    )

    # when
    with pytest.raises(ecr.exceptions.ReferencedImagesNotFoundException) as excinfo:
        ecr.put_image(repositoryName=repository, imageManifest=index, imageTag="multi")

    # then
    message = error_of(excinfo)[1]
    assert sha256(absent.encode()) in message
    assert present.manifest_digest not in message


def test_an_image_digest_that_does_not_match_is_refused(ecr: Any, repository: str) -> None:
    # given
    layers = [b"digest check layer"]
    config, _ = upload_image_blobs(ecr, repository, layers, "digest")
    manifest = image_manifest(config, layers)
    wrong = sha256(b"something else")

    # when
    with pytest.raises(ecr.exceptions.ImageDigestDoesNotMatchException) as excinfo:
        ecr.put_image(repositoryName=repository, imageManifest=manifest, imageDigest=wrong)

    # then
    message = error_of(excinfo)[1]
    assert wrong in message
    assert sha256(manifest.encode()) in message


def test_a_matching_image_digest_is_accepted(ecr: Any, repository: str) -> None:
    # given
    layers = [b"matching digest layer"]
    config, _ = upload_image_blobs(ecr, repository, layers, "match")
    manifest = image_manifest(config, layers)

    # when
    image = ecr.put_image(
        repositoryName=repository, imageManifest=manifest, imageDigest=sha256(manifest.encode())
    )["image"]

    # then
    assert image["imageId"]["imageDigest"] == sha256(manifest.encode())


def test_a_manifest_over_4_mib_is_refused(server: Server, repository: str) -> None:
    # given a client that leaves the length check to the server
    ecr = server.client(config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    layers = [b"big manifest layer"]
    config, _ = upload_image_blobs(ecr, repository, layers, "big")
    manifest = image_manifest(config, layers)
    too_big = manifest + " " * (4 * 1024 * 1024 + 1 - len(manifest))

    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.put_image(repositoryName=repository, imageManifest=too_big)

    # then
    assert error_of(excinfo)[1] == (
        "Invalid parameter at 'imageManifest' failed to satisfy constraint: "
        "'Member must have length less than or equal to 4194304'"
    )


def test_a_manifest_of_exactly_4_mib_is_accepted(ecr: Any, repository: str) -> None:
    # given
    layers = [b"largest manifest layer"]
    config, _ = upload_image_blobs(ecr, repository, layers, "largest")
    manifest = image_manifest(config, layers)
    padded = manifest + " " * (4 * 1024 * 1024 - len(manifest))

    # when
    image = ecr.put_image(repositoryName=repository, imageManifest=padded)["image"]

    # then
    assert image["imageId"]["imageDigest"] == sha256(padded.encode())


def test_a_manifest_that_is_not_json_is_refused(ecr: Any, repository: str) -> None:
    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.put_image(repositoryName=repository, imageManifest="{not json")

    # then
    assert error_of(excinfo)[1].startswith(
        "Invalid parameter at 'imageManifest' failed to satisfy constraint: "
    )


def test_a_size_that_disagrees_with_the_layer_is_refused(ecr: Any, repository: str) -> None:
    # given
    layers = [b"sized layer"]
    config, _ = upload_image_blobs(ecr, repository, layers, "sized")
    doc = json.loads(image_manifest(config, layers))
    doc["layers"][0]["size"] += 1

    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.put_image(repositoryName=repository, imageManifest=json.dumps(doc))

    # then
    assert sha256(layers[0]) in error_of(excinfo)[1]


def test_put_image_in_a_missing_repository_is_refused(ecr: Any) -> None:
    # given
    manifest = oci_manifest(b"{}", [])

    # when
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException) as excinfo:
        ecr.put_image(repositoryName="images/nowhere", imageManifest=manifest)

    # then
    assert "'images/nowhere'" in error_of(excinfo)[1]


def test_an_image_reports_its_config_media_type_as_artifact_type(ecr: Any, repository: str) -> None:
    # given an OCI image and a Docker image, neither with an artifactType
    oci = put_oci_image(ecr, repository, [b"artifact type layer"], "artifact")
    docker = push_image(ecr, repository, [b"docker artifact layer"], tag=None)

    # when
    details = ecr.describe_images(
        repositoryName=repository,
        imageIds=[{"imageDigest": sha256(oci.encode())}, {"imageDigest": docker.manifest_digest}],
    )["imageDetails"]

    # then
    by_digest = {d["imageDigest"]: d["artifactMediaType"] for d in details}
    assert by_digest == {sha256(oci.encode()): OCI_CONFIG, docker.manifest_digest: DOCKER_CONFIG}
