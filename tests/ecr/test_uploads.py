"""InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload through boto3."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from typing import Any

import pytest
from botocore.config import Config

from tests.ecr.helpers import MIB, error_of
from tests.support import ACCOUNT_ID, Server, sha256, upload_blob


def part(ecr: Any, repository: str, upload_id: str, first: int, data: bytes) -> dict[str, Any]:
    """UploadLayerPart of ``data`` at ``first`` with a consistent byte range."""
    return ecr.upload_layer_part(
        repositoryName=repository,
        uploadId=upload_id,
        partFirstByte=first,
        partLastByte=first + len(data) - 1,
        layerPartBlob=data,
    )


def test_initiate_layer_upload_returns_an_upload_id_and_part_size(
    ecr: Any, repository: str
) -> None:
    # when
    answer = ecr.initiate_layer_upload(repositoryName=repository)

    # then
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", answer["uploadId"]
    )
    assert 5 * MIB <= answer["partSize"] <= 20 * MIB


def test_initiate_layer_upload_in_a_missing_repository_is_refused(ecr: Any) -> None:
    # when
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException) as excinfo:
        ecr.initiate_layer_upload(repositoryName="uploads/nowhere")

    # then
    assert error_of(excinfo)[1] == (
        f"The repository with name 'uploads/nowhere' does not exist in the registry with id "
        f"'{ACCOUNT_ID}'"
    )


def test_contiguous_parts_make_one_layer(ecr: Any, repository: str) -> None:
    # given
    data = os.urandom(3000)
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]

    # when
    answers = [part(ecr, repository, upload_id, i, data[i : i + 1000]) for i in (0, 1000, 2000)]
    done = ecr.complete_layer_upload(
        repositoryName=repository, uploadId=upload_id, layerDigests=[sha256(data)]
    )

    # then
    assert [a["lastByteReceived"] for a in answers] == [999, 1999, 2999]
    assert {(a["registryId"], a["repositoryName"], a["uploadId"]) for a in answers} == {
        (ACCOUNT_ID, repository, upload_id)
    }
    assert done["layerDigest"] == sha256(data)
    assert (done["registryId"], done["repositoryName"], done["uploadId"]) == (
        ACCOUNT_ID,
        repository,
        upload_id,
    )
    layers = ecr.batch_check_layer_availability(
        repositoryName=repository, layerDigests=[sha256(data)]
    )["layers"]
    assert layers == [
        {"layerDigest": sha256(data), "layerAvailability": "AVAILABLE", "layerSize": 3000}
    ]


@pytest.mark.parametrize(
    ("first", "last", "size", "why"),
    [
        (20, 29, 10, "gap"),
        (5, 14, 10, "overlap"),
        (10, 19, 9, "range longer than the bytes"),
        (10, 15, 10, "range shorter than the bytes"),
    ],
)
def test_a_part_that_does_not_continue_the_upload_is_refused(
    ecr: Any, repository: str, first: int, last: int, size: int, why: str
) -> None:
    # given ten bytes already received
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    part(ecr, repository, upload_id, 0, b"0123456789")

    # when
    with pytest.raises(ecr.exceptions.InvalidLayerPartException) as excinfo:
        ecr.upload_layer_part(
            repositoryName=repository,
            uploadId=upload_id,
            partFirstByte=first,
            partLastByte=last,
            layerPartBlob=b"x" * size,
        )

    # then the error says where to resume, and the upload is intact
    response = excinfo.value.response
    assert response["lastValidByteReceived"] == 9, why
    assert response["uploadId"] == upload_id
    assert response["repositoryName"] == repository
    assert response["registryId"] == ACCOUNT_ID
    part(ecr, repository, upload_id, 10, b"abc")
    done = ecr.complete_layer_upload(
        repositoryName=repository, uploadId=upload_id, layerDigests=[sha256(b"0123456789abc")]
    )
    assert done["layerDigest"] == sha256(b"0123456789abc")


def test_a_first_part_must_start_at_byte_zero(ecr: Any, repository: str) -> None:
    # given
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]

    # when
    with pytest.raises(ecr.exceptions.InvalidLayerPartException) as excinfo:
        part(ecr, repository, upload_id, 1, b"late start")

    # then
    assert excinfo.value.response["uploadId"] == upload_id
    with pytest.raises(ecr.exceptions.EmptyUploadException):
        ecr.complete_layer_upload(
            repositoryName=repository, uploadId=upload_id, layerDigests=[sha256(b"late start")]
        )


def test_a_part_of_20_mib_is_accepted(ecr: Any, repository: str) -> None:
    # given
    data = os.urandom(20 * MIB)
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]

    # when
    answer = part(ecr, repository, upload_id, 0, data)

    # then
    assert answer["lastByteReceived"] == 20 * MIB - 1
    done = ecr.complete_layer_upload(
        repositoryName=repository, uploadId=upload_id, layerDigests=[sha256(data)]
    )
    assert done["layerDigest"] == sha256(data)


def test_a_part_over_20_mib_is_refused_by_validation(server: Server, repository: str) -> None:
    # given a client that does not check lengths itself
    ecr = server.client(config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]

    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        part(ecr, repository, upload_id, 0, b"\0" * (20 * MIB + 1))

    # then
    assert error_of(excinfo)[1] == (
        "Invalid parameter at 'layerPartBlob' failed to satisfy constraint: "
        "'Member must have length less than or equal to 20971520'"
    )
    with pytest.raises(ecr.exceptions.EmptyUploadException):
        ecr.complete_layer_upload(
            repositoryName=repository, uploadId=upload_id, layerDigests=[sha256(b"")]
        )


def test_a_digest_that_does_not_match_the_bytes_is_refused(ecr: Any, repository: str) -> None:
    # given
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    part(ecr, repository, upload_id, 0, b"the real bytes")
    claimed = sha256(b"other bytes")

    # when
    with pytest.raises(ecr.exceptions.InvalidLayerException) as excinfo:
        ecr.complete_layer_upload(
            repositoryName=repository, uploadId=upload_id, layerDigests=[claimed]
        )

    # then
    message = error_of(excinfo)[1]
    assert claimed in message
    assert sha256(b"the real bytes") in message
    layers = ecr.batch_check_layer_availability(
        repositoryName=repository, layerDigests=[claimed, sha256(b"the real bytes")]
    )["layers"]
    assert {layer["layerAvailability"] for layer in layers} == {"UNAVAILABLE"}


def test_uploading_a_layer_the_repository_has_is_refused(ecr: Any, repository: str) -> None:
    # given
    digest = upload_blob(ecr, repository, b"uploaded once")
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    part(ecr, repository, upload_id, 0, b"uploaded once")

    # when
    with pytest.raises(ecr.exceptions.LayerAlreadyExistsException) as excinfo:
        ecr.complete_layer_upload(
            repositoryName=repository, uploadId=upload_id, layerDigests=[digest]
        )

    # then
    message = error_of(excinfo)[1]
    assert digest in message
    assert repository in message


def test_the_same_layer_may_be_uploaded_to_two_repositories(ecr: Any, repository: str) -> None:
    # given
    other = f"{repository}-twin"
    ecr.create_repository(repositoryName=other)
    upload_blob(ecr, repository, b"shared bytes")

    # when
    digest = upload_blob(ecr, other, b"shared bytes")

    # then
    layers = ecr.batch_check_layer_availability(repositoryName=other, layerDigests=[digest])
    assert layers["layers"][0]["layerAvailability"] == "AVAILABLE"


def test_completing_an_upload_without_parts_is_refused(ecr: Any, repository: str) -> None:
    # given
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]

    # when
    with pytest.raises(ecr.exceptions.EmptyUploadException) as excinfo:
        ecr.complete_layer_upload(
            repositoryName=repository, uploadId=upload_id, layerDigests=[sha256(b"")]
        )

    # then
    assert upload_id in error_of(excinfo)[1]


def test_an_unknown_upload_id_is_refused_with_its_repository(ecr: Any, repository: str) -> None:
    # given
    upload_id = str(uuid.uuid4())

    # when
    with pytest.raises(ecr.exceptions.UploadNotFoundException) as excinfo:
        part(ecr, repository, upload_id, 0, b"data")

    # then
    assert error_of(excinfo)[1] == (
        f"The upload with id '{upload_id}' does not exist in the repository with name "
        f"'{repository}' in the registry with id '{ACCOUNT_ID}'"
    )


def test_an_upload_of_another_repository_is_not_found(ecr: Any, repository: str) -> None:
    # given
    other = f"{repository}-other"
    ecr.create_repository(repositoryName=other)
    upload_id = ecr.initiate_layer_upload(repositoryName=other)["uploadId"]
    part(ecr, other, upload_id, 0, b"data")

    # when
    with pytest.raises(ecr.exceptions.UploadNotFoundException):
        ecr.complete_layer_upload(
            repositoryName=repository, uploadId=upload_id, layerDigests=[sha256(b"data")]
        )

    # then the upload still belongs to, and completes in, its own repository
    done = ecr.complete_layer_upload(
        repositoryName=other, uploadId=upload_id, layerDigests=[sha256(b"data")]
    )
    assert done["layerDigest"] == sha256(b"data")


def test_a_completed_upload_is_gone(ecr: Any, repository: str) -> None:
    # given
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    part(ecr, repository, upload_id, 0, b"finished")
    ecr.complete_layer_upload(
        repositoryName=repository, uploadId=upload_id, layerDigests=[sha256(b"finished")]
    )

    # when
    with pytest.raises(ecr.exceptions.UploadNotFoundException):
        part(ecr, repository, upload_id, 8, b"more")

    # then
    with pytest.raises(ecr.exceptions.UploadNotFoundException):
        ecr.complete_layer_upload(
            repositoryName=repository, uploadId=upload_id, layerDigests=[sha256(b"finished")]
        )


def test_a_malformed_upload_id_is_refused_in_ecr_words(ecr: Any, repository: str) -> None:
    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        part(ecr, repository, "not-an-upload", 0, b"data")

    # then
    assert error_of(excinfo)[1].startswith(
        "Invalid parameter at 'uploadId' failed to satisfy constraint: "
    )


def test_a_sha512_layer_digest_is_verified_and_kept(ecr: Any, repository: str) -> None:
    # given
    data = os.urandom(4096)
    digest = "sha512:" + hashlib.sha512(data).hexdigest()
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    part(ecr, repository, upload_id, 0, data)

    # when
    done = ecr.complete_layer_upload(
        repositoryName=repository, uploadId=upload_id, layerDigests=[digest]
    )

    # then
    assert done["layerDigest"] == digest
    layers = ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=[digest])
    assert layers["layers"] == [
        {"layerDigest": digest, "layerAvailability": "AVAILABLE", "layerSize": 4096}
    ]


def test_a_wrong_sha512_digest_is_refused(ecr: Any, repository: str) -> None:
    # given
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    part(ecr, repository, upload_id, 0, b"bytes")
    wrong = "sha512:" + hashlib.sha512(b"other").hexdigest()

    # when
    with pytest.raises(ecr.exceptions.InvalidLayerException) as excinfo:
        ecr.complete_layer_upload(
            repositoryName=repository, uploadId=upload_id, layerDigests=[wrong]
        )

    # then
    assert wrong in error_of(excinfo)[1]


def test_an_upload_resumes_after_a_server_restart(fresh_server: Any) -> None:
    # given half a layer uploaded before the server stops
    server = fresh_server()
    ecr = server.client()
    ecr.create_repository(repositoryName="resume/me")
    data = os.urandom(64 * 1024)
    upload_id = ecr.initiate_layer_upload(repositoryName="resume/me")["uploadId"]
    part(ecr, "resume/me", upload_id, 0, data[:40000])
    server.stop()
    server.start()

    # when
    part(ecr, "resume/me", upload_id, 40000, data[40000:])
    done = ecr.complete_layer_upload(
        repositoryName="resume/me", uploadId=upload_id, layerDigests=[sha256(data)]
    )

    # then
    assert done["layerDigest"] == sha256(data)
