"""The AWS JSON 1.1 wire protocol, checked with raw HTTP (``requests``) and boto3."""

from __future__ import annotations

import json
import shutil
import uuid
from typing import Any

import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.ecr.helpers import JSON_11, TARGET, call, signed_post
from tests.support import Server


def assert_error(response: requests.Response, code: str, status: int = 400) -> str:
    """Check an AWS JSON error reply; return its message."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].split(";")[0] == JSON_11
    assert response.headers.get("x-amzn-RequestId")
    body = response.json()
    assert set(body) == {"__type", "message"}
    assert body["__type"] == code
    assert isinstance(body["message"], str)
    return str(body["message"])


# --- request ids --------------------------------------------------------------------------
def test_a_success_has_a_request_id_and_the_json_11_content_type(server: Server) -> None:
    # when
    response = call(server, "DescribeRepositories", {})

    # then
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == JSON_11
    assert uuid.UUID(response.headers["x-amzn-RequestId"])
    assert isinstance(response.json()["repositories"], list)


def test_every_request_gets_its_own_request_id(server: Server) -> None:
    # when
    ids = {call(server, "DescribeRepositories", {}).headers["x-amzn-RequestId"] for _ in range(3)}

    # then
    assert len(ids) == 3


def test_an_unauthenticated_error_has_a_request_id(server: Server) -> None:
    # when
    response = requests.post(
        f"{server.url}/",
        data=b"{}",
        headers={"Content-Type": JSON_11, "X-Amz-Target": f"{TARGET}.DescribeRepositories"},
        timeout=30,
    )

    # then
    assert_error(response, "MissingAuthenticationTokenException", status=403)


def test_boto3_sees_the_request_id(ecr: Any) -> None:
    # when
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_repositories(repositoryNames=["protocol/absent"])

    # then
    assert excinfo.value.response["ResponseMetadata"]["RequestId"]


# --- error shape --------------------------------------------------------------------------
def test_a_service_error_has_the_aws_json_error_shape(server: Server) -> None:
    # when
    response = call(server, "DeleteRepository", {"repositoryName": "protocol/absent"})

    # then
    message = assert_error(response, "RepositoryNotFoundException")
    assert "'protocol/absent'" in message


def test_timestamps_are_epoch_seconds(server: Server) -> None:
    # given
    name = f"protocol/stamp-{uuid.uuid4().hex[:8]}"

    # when
    response = call(server, "CreateRepository", {"repositoryName": name})

    # then
    assert isinstance(response.json()["repository"]["createdAt"], int | float)


# --- serialization ------------------------------------------------------------------------
@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b'{"repositoryName": "a"'])
def test_a_body_that_is_not_json_is_a_serialization_error(server: Server, body: bytes) -> None:
    # when
    response = signed_post(server, "DescribeRepositories", body)

    # then
    assert_error(response, "SerializationException")


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null"])
def test_a_body_that_is_not_an_object_is_a_serialization_error(server: Server, body: bytes) -> None:
    # when
    response = signed_post(server, "DescribeRepositories", body)

    # then
    assert_error(response, "SerializationException")


@pytest.mark.parametrize(
    ("operation", "params", "member"),
    [
        ("CreateRepository", {"repositoryName": 5}, "repositoryName"),
        ("DescribeRepositories", {"maxResults": "5"}, "maxResults"),
        ("DescribeRepositories", {"maxResults": True}, "maxResults"),
        ("DescribeRepositories", {"repositoryNames": "one"}, "repositoryNames"),
        ("DeleteRepository", {"repositoryName": "a-b", "force": "yes"}, "force"),
        ("BatchGetImage", {"repositoryName": "a-b", "imageIds": [{"imageTag": 1}]}, "imageTag"),
        ("CreateRepository", {"repositoryName": "a-b", "tags": {"Key": "k"}}, "tags"),
    ],
)
def test_a_member_of_the_wrong_json_type_is_a_serialization_error(
    server: Server, operation: str, params: dict[str, Any], member: str
) -> None:
    # when
    response = call(server, operation, params)

    # then
    assert member in assert_error(response, "SerializationException")


def test_a_blob_that_is_not_base64_is_a_serialization_error(server: Server) -> None:
    # when
    response = call(
        server,
        "UploadLayerPart",
        {
            "repositoryName": "a-b",
            "uploadId": str(uuid.uuid4()),
            "partFirstByte": 0,
            "partLastByte": 0,
            "layerPartBlob": "***",
        },
    )

    # then
    assert "layerPartBlob" in assert_error(response, "SerializationException")


def test_a_missing_required_member_is_an_invalid_parameter(server: Server) -> None:
    # when
    response = call(server, "GetDownloadUrlForLayer", {"repositoryName": "a-b"})

    # then
    assert assert_error(response, "InvalidParameterException") == (
        "Invalid parameter at 'layerDigest' failed to satisfy constraint: 'Member must not be null'"
    )


def test_unknown_members_are_ignored_and_an_empty_body_is_an_empty_object(
    server: Server,
) -> None:
    # when
    extra = call(server, "DescribeRepositories", {"someFutureMember": {"x": 1}})
    empty = signed_post(server, "DescribeRepositories", b"")

    # then
    assert extra.status_code == 200, extra.text
    assert empty.status_code == 200, empty.text


# --- faults -------------------------------------------------------------------------------
def test_a_fault_is_a_server_exception_with_status_500(fresh_server: Any) -> None:
    # given a server whose upload area has been replaced by a plain file
    server = fresh_server()
    ecr = server.client(config=Config(retries={"total_max_attempts": 1}))
    ecr.create_repository(repositoryName="protocol/faulty")
    uploads = server.data_dir / "blobs" / "uploads"
    shutil.rmtree(uploads)
    uploads.write_bytes(b"not a directory")
    upload_id = ecr.initiate_layer_upload(repositoryName="protocol/faulty")["uploadId"]
    params = {
        "repositoryName": "protocol/faulty",
        "uploadId": upload_id,
        "partFirstByte": 0,
        "partLastByte": 2,
        "layerPartBlob": "YWJj",
    }

    # when
    raw = call(server, "UploadLayerPart", params)
    with pytest.raises(ecr.exceptions.ServerException) as excinfo:
        ecr.upload_layer_part(**{**params, "layerPartBlob": b"abc"})

    # then
    message = assert_error(raw, "ServerException", status=500)
    assert "Traceback" not in message
    assert "not a directory" not in message.lower()
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_a_huge_body_is_refused_without_a_traceback(server: Server) -> None:
    # given a body beyond any legal request (a 20 MiB part is about 27 MiB in base64)
    body = json.dumps({"repositoryName": "a-b", "pad": "x" * (30 * 1024 * 1024)}).encode()

    # when
    response = signed_post(server, "DescribeRepositories", body)

    # then
    assert response.status_code in (400, 413)
    assert "Traceback" not in response.text
    assert response.headers.get("x-amzn-RequestId")
