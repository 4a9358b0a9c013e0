"""GetDownloadUrlForLayer (its whole rule order) and BatchCheckLayerAvailability."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.ecr.helpers import error_of, oci_manifest
from tests.media_types import OCI_EMPTY, OCI_LAYER
from tests.support import ACCOUNT_ID, Server, image_manifest, push_image, sha256, upload_blob

DIGEST_PATTERN = "[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+"
NAME_PATTERN = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*"
CONSTRAINT = "Invalid parameter at 'layerDigest' failed to satisfy constraint: "


def where(repository: str) -> str:
    """How ECR's messages name a repository in the test account's registry."""
    return f"the repository with name '{repository}' in the registry with id '{ACCOUNT_ID}'"


# --- 1. InvalidParameterException -----------------------------------------------------------
@pytest.mark.parametrize("digest", ["sha256", "sha256:xyz", "sha256:", ":abc", "sha 256:abc"])
def test_a_digest_outside_the_model_pattern_is_invalid(
    ecr: Any, repository: str, digest: str
) -> None:
    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)

    # then
    assert (
        error_of(excinfo)[1] == f"{CONSTRAINT}'must satisfy regular expression '{DIGEST_PATTERN}''"
    )


@pytest.mark.parametrize(
    "digest", ["md5:" + "a" * 32, "sha256:" + "a" * 63, "sha256:" + "A" * 64, "sha512:abcd"]
)
def test_an_unknown_algorithm_or_wrong_length_is_invalid(
    ecr: Any, repository: str, digest: str
) -> None:
    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)

    # then
    message = error_of(excinfo)[1]
    assert message.startswith(CONSTRAINT)
    assert digest in message


def test_a_bad_repository_name_is_invalid(ecr: Any) -> None:
    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.get_download_url_for_layer(repositoryName="Bad_Name", layerDigest=sha256(b"x"))

    # then
    assert error_of(excinfo)[1] == (
        f"Invalid parameter at 'repositoryName' failed to satisfy constraint: "
        f"'must satisfy regular expression '{NAME_PATTERN}''"
    )


def test_an_invalid_digest_is_reported_before_a_missing_repository(ecr: Any) -> None:
    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.get_download_url_for_layer(repositoryName="layers/absent", layerDigest="md5:abcd")

    # then
    assert error_of(excinfo)[1].startswith(CONSTRAINT)


# --- 2. RepositoryNotFoundException ---------------------------------------------------------
def test_a_missing_repository_is_named(ecr: Any) -> None:
    # when
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException) as excinfo:
        ecr.get_download_url_for_layer(repositoryName="layers/absent", layerDigest=sha256(b"x"))

    # then
    assert error_of(excinfo)[1] == (
        f"The repository with name 'layers/absent' does not exist in the registry with id "
        f"'{ACCOUNT_ID}'"
    )


# --- 3. LayersNotFoundException -------------------------------------------------------------
def test_a_digest_never_uploaded_is_not_found(ecr: Any, repository: str) -> None:
    # given
    digest = sha256(b"never uploaded anywhere")

    # when
    with pytest.raises(ecr.exceptions.LayersNotFoundException) as excinfo:
        ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)

    # then
    assert error_of(excinfo)[1] == (
        f"The layer with digest '{digest}' does not exist within {where(repository)}"
    )


def test_a_layer_of_another_repository_only_is_not_found(ecr: Any, repository: str) -> None:
    # given the layer is referenced by an image, but in a different repository
    other = f"{repository}-other"
    ecr.create_repository(repositoryName=other)
    image = push_image(ecr, other, [b"layer of the other repository"])

    # when
    with pytest.raises(ecr.exceptions.LayersNotFoundException) as excinfo:
        ecr.get_download_url_for_layer(
            repositoryName=repository, layerDigest=image.layer_digests[0]
        )

    # then
    assert repository in error_of(excinfo)[1]
    assert ecr.get_download_url_for_layer(repositoryName=other, layerDigest=image.layer_digests[0])


# --- 4. LayerInaccessibleException ----------------------------------------------------------
def test_an_uploaded_layer_no_image_refers_to_is_inaccessible(ecr: Any, repository: str) -> None:
    # given
    digest = upload_blob(ecr, repository, b"uploaded but never used")

    # when
    with pytest.raises(ecr.exceptions.LayerInaccessibleException) as excinfo:
        ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)

    # then
    message = error_of(excinfo)[1]
    assert digest in message
    assert where(repository) in message


def test_a_layer_becomes_inaccessible_when_its_only_image_is_deleted(
    ecr: Any, repository: str
) -> None:
    # given
    image = push_image(ecr, repository, [b"orphaned by delete"], tag="only")
    ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=image.layer_digests[0])
    ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageTag": "only"}])

    # when
    with pytest.raises(ecr.exceptions.LayerInaccessibleException) as excinfo:
        ecr.get_download_url_for_layer(
            repositoryName=repository, layerDigest=image.layer_digests[0]
        )

    # then
    assert image.layer_digests[0] in error_of(excinfo)[1]


def test_a_layer_stays_accessible_while_another_image_uses_it(ecr: Any, repository: str) -> None:
    # given two images sharing a layer; one is deleted
    shared = b"shared between two images"
    first = push_image(ecr, repository, [shared], tag="first")
    second_config = b'{"architecture":"arm64","os":"linux","rootfs":{"type":"layers"}}'
    upload_blob(ecr, repository, second_config)
    ecr.put_image(
        repositoryName=repository,
        imageManifest=image_manifest(second_config, [shared]),
        imageTag="second",
    )
    ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageTag": "first"}])

    # when
    answer = ecr.get_download_url_for_layer(
        repositoryName=repository, layerDigest=first.layer_digests[0]
    )

    # then
    assert answer["layerDigest"] == first.layer_digests[0]


# --- 6. success -----------------------------------------------------------------------------
def test_the_url_downloads_the_layer_bytes(ecr: Any, repository: str) -> None:
    # given
    data = bytes(range(256)) * 40
    image = push_image(ecr, repository, [data])

    # when
    answer = ecr.get_download_url_for_layer(
        repositoryName=repository, layerDigest=image.layer_digests[0]
    )

    # then
    assert answer["layerDigest"] == image.layer_digests[0]
    response = requests.get(answer["downloadUrl"], timeout=30)
    assert response.status_code == 200
    assert "sha256:" + hashlib.sha256(response.content).hexdigest() == image.layer_digests[0]
    query = parse_qs(urlsplit(answer["downloadUrl"]).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-SignedHeaders"] == ["host"]
    assert 0 < int(query["X-Amz-Expires"][0]) <= 3600


def test_a_config_blob_counts_as_referenced(ecr: Any, repository: str) -> None:
    # given
    image = push_image(ecr, repository, [b"layer beside a config"])

    # when
    answer = ecr.get_download_url_for_layer(
        repositoryName=repository, layerDigest=image.config_digest
    )

    # then
    body = requests.get(answer["downloadUrl"], timeout=30).content
    assert sha256(body) == image.config_digest


def test_an_artifact_empty_config_is_downloadable(ecr: Any, repository: str) -> None:
    # given an OCI artifact whose config is the empty descriptor
    upload_blob(ecr, repository, b"{}")
    upload_blob(ecr, repository, b"artifact payload")
    manifest = oci_manifest(
        b"{}", [b"artifact payload"], config_media_type=OCI_EMPTY, artifact_type="text/plain"
    )
    ecr.put_image(repositoryName=repository, imageManifest=manifest)

    # when
    answer = ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=sha256(b"{}"))

    # then
    assert requests.get(answer["downloadUrl"], timeout=30).content == b"{}"


def test_an_explicit_own_registry_id_is_the_default_registry(
    ecr: Any, repository: str, server: Server
) -> None:
    # given
    image = push_image(ecr, repository, [b"own registry"])

    # when
    answer = ecr.get_download_url_for_layer(
        registryId=server.account_id, repositoryName=repository, layerDigest=image.layer_digests[0]
    )

    # then
    assert answer["layerDigest"] == image.layer_digests[0]


# --- BatchCheckLayerAvailability ------------------------------------------------------------
def test_batch_check_reports_sizes_and_failures(ecr: Any, repository: str) -> None:
    # given
    present = upload_blob(ecr, repository, b"p" * 321)
    absent = sha256(b"absent layer")

    # when
    answer = ecr.batch_check_layer_availability(
        repositoryName=repository, layerDigests=[present, absent, "sha256:zz", ""]
    )

    # then
    assert answer["layers"] == [
        {"layerDigest": present, "layerAvailability": "AVAILABLE", "layerSize": 321},
        {"layerDigest": absent, "layerAvailability": "UNAVAILABLE"},
    ]
    assert [(f["layerDigest"], f["failureCode"]) for f in answer["failures"]] == [
        ("sha256:zz", "InvalidLayerDigest"),
        ("", "MissingLayerDigest"),
    ]


def test_batch_check_in_a_missing_repository_is_refused(ecr: Any) -> None:
    # when
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException) as excinfo:
        ecr.batch_check_layer_availability(
            repositoryName="layers/nowhere", layerDigests=[sha256(b"x")]
        )

    # then
    assert "'layers/nowhere'" in error_of(excinfo)[1]


def test_a_sha512_layer_is_served_through_an_image(ecr: Any, repository: str) -> None:
    # given an OCI image whose layer is addressed by sha512
    layer = b"a layer addressed by sha512" * 10
    digest = "sha512:" + hashlib.sha512(layer).hexdigest()
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    ecr.upload_layer_part(
        repositoryName=repository,
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=len(layer) - 1,
        layerPartBlob=layer,
    )
    ecr.complete_layer_upload(repositoryName=repository, uploadId=upload_id, layerDigests=[digest])
    upload_blob(ecr, repository, b"{}")
    manifest = json.loads(oci_manifest(b"{}", [], config_media_type=OCI_EMPTY))
    manifest["layers"] = [{"mediaType": OCI_LAYER, "digest": digest, "size": len(layer)}]
    ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest))

    # when
    answer = ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)

    # then
    body = requests.get(answer["downloadUrl"], timeout=30).content
    assert "sha512:" + hashlib.sha512(body).hexdigest() == digest


def test_the_url_lives_as_long_as_configured(fresh_server: Any) -> None:
    # given a server whose download URLs live one minute
    ecr = fresh_server(LAYERPORT_PRESIGN_EXPIRES="60").client()
    ecr.create_repository(repositoryName="layers/short")
    image = push_image(ecr, "layers/short", [b"short-lived url"])

    # when
    answer = ecr.get_download_url_for_layer(
        repositoryName="layers/short", layerDigest=image.layer_digests[0]
    )

    # then
    assert parse_qs(urlsplit(answer["downloadUrl"]).query)["X-Amz-Expires"] == ["60"]
