"""SigV4 on every ECR request, cross-account refusal, and GetAuthorizationToken."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.ecr.helpers import JSON_11, TARGET, error_of, signed_post
from tests.support import ACCOUNT_ID, Server

OTHER_ACCOUNT = "123456789012"


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    """The error code botocore parsed."""
    return str(excinfo.value.response["Error"]["Code"])


# --- SigV4 ------------------------------------------------------------------------------
def test_a_wrong_secret_is_an_invalid_signature(server: Server) -> None:
    # given
    ecr = server.client(aws_secret_access_key="not-the-secret")

    # when
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_repositories()

    # then
    assert code_of(excinfo) == "InvalidSignatureException"
    assert error_of(excinfo)[1].startswith(
        "The request signature we calculated does not match the signature you provided."
    )


def test_an_unknown_access_key_is_an_unrecognized_client(server: Server) -> None:
    # given
    ecr = server.client(aws_access_key_id="AKIANOBODYHASTHISKEY")

    # when
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_repositories()

    # then
    assert code_of(excinfo) == "UnrecognizedClientException"
    assert error_of(excinfo)[1] == "The security token included in the request is invalid."


def test_an_unsigned_request_misses_its_authentication_token(server: Server) -> None:
    # given
    ecr = server.client(config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))

    # when
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_repositories()

    # then
    assert code_of(excinfo) == "MissingAuthenticationTokenException"
    assert error_of(excinfo)[1] == "Missing Authentication Token"


@pytest.mark.parametrize("minutes", [-16, -60, 16])
def test_a_clock_skew_over_15_minutes_is_refused(
    server: Server, minutes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a client whose clock is off by more than 15 minutes
    skewed = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=minutes)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda *_a, **_k: skewed)
    ecr = server.client()

    # when
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_repositories()

    # then
    assert code_of(excinfo) == "InvalidSignatureException"
    expected = "Signature expired: " if minutes < 0 else "Signature not yet current: "
    assert error_of(excinfo)[1].startswith(expected + skewed.strftime("%Y%m%dT%H%M%SZ"))


def test_a_clock_skew_within_15_minutes_is_accepted(server: Server) -> None:
    # when
    response = signed_post(
        server, "DescribeRepositories", b"{}", when=datetime.now(UTC) - timedelta(minutes=14)
    )

    # then
    assert response.status_code == 200, response.text
    assert "repositories" in response.json()


def test_a_request_signed_20_minutes_ago_says_signature_expired(server: Server) -> None:
    # when
    response = signed_post(
        server, "DescribeRepositories", b"{}", when=datetime.now(UTC) - timedelta(minutes=20)
    )

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["__type"] == "InvalidSignatureException"
    assert body["message"].startswith("Signature expired:")


def test_a_credential_scoped_to_another_region_is_refused(server: Server) -> None:
    # given
    ecr = server.client(region_name="eu-west-1")

    # when
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_repositories()

    # then
    assert code_of(excinfo) == "InvalidSignatureException"
    assert error_of(excinfo)[1] == (
        "Credential should be scoped to a valid region, not 'eu-west-1'."
    )


def test_a_tampered_body_breaks_the_signature(server: Server) -> None:
    # given a request signed for one body and sent with another
    request = AWSRequest(
        method="POST",
        url=f"{server.url}/",
        data=b'{"repositoryName": "auth/one"}',
        headers={"Content-Type": JSON_11, "X-Amz-Target": f"{TARGET}.CreateRepository"},
    )
    SigV4Auth(
        Credentials(server.access_key_id, server.secret_access_key), "ecr", server.region
    ).add_auth(request)
    prepared = request.prepare()

    # when
    response = requests.post(
        prepared.url,
        data=b'{"repositoryName": "auth/two"}',
        headers=dict(prepared.headers),
        timeout=30,
    )

    # then
    assert response.status_code == 400
    assert response.json()["__type"] == "InvalidSignatureException"


# --- registry ids -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("describe_repositories", {}),
        ("create_repository", {"repositoryName": "auth/theirs"}),
        (
            "get_download_url_for_layer",
            {"repositoryName": "auth/theirs", "layerDigest": "sha256:" + "a" * 64},
        ),
    ],
)
def test_another_accounts_registry_is_refused(
    ecr: Any, operation: str, params: dict[str, str]
) -> None:
    # when
    with pytest.raises(ClientError) as excinfo:
        getattr(ecr, operation)(registryId=OTHER_ACCOUNT, **params)

    # then
    assert code_of(excinfo) == "AccessDeniedException"
    message = error_of(excinfo)[1]
    assert f"arn:aws:ecr:us-east-1:{OTHER_ACCOUNT}:repository/" in message
    assert "is not authorized to perform: ecr:" in message


def test_a_malformed_registry_id_is_invalid(ecr: Any) -> None:
    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.describe_repositories(registryId="12345")

    # then
    assert error_of(excinfo)[1] == (
        "Invalid parameter at 'registryId' failed to satisfy constraint: "
        "'must satisfy regular expression '[0-9]{12}''"
    )


# --- operations -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    [f"{TARGET}.NoSuchOperation", "DynamoDB_20120810.ListTables", f"{TARGET}.", "nonsense"],
)
def test_an_unknown_target_is_an_unknown_operation(server: Server, target: str) -> None:
    # when
    response = signed_post(server, "ListImages", b"{}", headers={"X-Amz-Target": target})

    # then
    assert response.status_code == 400
    assert response.json()["__type"] == "UnknownOperationException"


def test_a_model_operation_layerport_does_not_serve_is_unknown(ecr: Any) -> None:
    # when
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_pull_through_cache_rules()

    # then
    assert code_of(excinfo) == "UnknownOperationException"
    assert "DescribePullThroughCacheRules" in error_of(excinfo)[1]


# --- GetAuthorizationToken --------------------------------------------------------------
def test_the_authorization_token_is_aws_and_one_password(ecr: Any, server: Server) -> None:
    # given
    before = datetime.now(UTC)

    # when
    data = ecr.get_authorization_token()["authorizationData"]

    # then
    assert len(data) == 1
    decoded = base64.b64decode(data[0]["authorizationToken"]).decode()
    assert decoded.count(":") == 1
    user, password = decoded.split(":")
    assert user == "AWS"
    assert password
    assert data[0]["proxyEndpoint"] == server.url
    lifetime = data[0]["expiresAt"] - before
    assert timedelta(hours=12) - timedelta(minutes=1) <= lifetime <= timedelta(hours=12, minutes=1)


def test_the_token_password_carries_its_expiration(ecr: Any) -> None:
    # when
    data = ecr.get_authorization_token()["authorizationData"][0]

    # then
    password = base64.b64decode(data["authorizationToken"]).decode().split(":")[1]
    claims = json.loads(base64.b64decode(password))
    assert claims["expiration"] == int(data["expiresAt"].timestamp())


def test_the_deprecated_registry_ids_get_one_entry_each(ecr: Any, server: Server) -> None:
    # when
    data = ecr.get_authorization_token(registryIds=[ACCOUNT_ID, ACCOUNT_ID])["authorizationData"]

    # then
    assert len(data) == 2
    assert {entry["proxyEndpoint"] for entry in data} == {server.url}


def test_get_authorization_token_needs_a_signature(server: Server) -> None:
    # given
    ecr = server.client(config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))

    # when
    with pytest.raises(ClientError) as excinfo:
        ecr.get_authorization_token()

    # then
    assert code_of(excinfo) == "MissingAuthenticationTokenException"


def test_the_proxy_endpoint_is_the_public_url(fresh_server: Any) -> None:
    # given a server published under another URL
    server = fresh_server(LAYERPORT_PUBLIC_URL="https://registry.example.test:8443")

    # when
    data = server.client().get_authorization_token()["authorizationData"]

    # then
    assert [entry["proxyEndpoint"] for entry in data] == ["https://registry.example.test:8443"]
