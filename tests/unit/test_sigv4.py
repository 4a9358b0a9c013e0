"""SigV4 verification against botocore's own signer, and presigning round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore.auth import S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from multidict import CIMultiDict

from layerport.auth import sigv4
from layerport.auth.presign import PresignKey, presign_get

KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def botocore_signed(body: bytes = b'{"repositoryName":"a"}') -> AWSRequest:
    """A request signed by botocore exactly as boto3 signs ECR calls."""
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:5000/",
        data=body,
        headers={
            "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials(KEY, SECRET), "ecr", "us-east-1").add_auth(request)
    return request


def verify_header(request: AWSRequest, secret: str = SECRET, body: bytes | None = None) -> None:
    headers = CIMultiDict(request.headers.items())
    headers["Host"] = "127.0.0.1:5000"
    claim = sigv4.parse_authorization(headers.get("Authorization"), headers.get("X-Amz-Date"))
    sigv4.check_scope(claim, region="us-east-1", service="ecr")
    sigv4.check_clock(claim, datetime.now(UTC))
    payload = body if body is not None else request.body
    sigv4.check_signature(
        claim,
        secret,
        method="POST",
        path="/",
        query=[],
        headers=headers,
        payload_hash=__import__("hashlib").sha256(payload).hexdigest(),
    )


def test_accepts_a_request_botocore_signed() -> None:
    # given a request signed by botocore
    request = botocore_signed()
    # when / then it verifies with the same secret
    verify_header(request)


def test_refuses_the_wrong_secret() -> None:
    request = botocore_signed()
    with pytest.raises(sigv4.SigV4Error) as caught:
        verify_header(request, secret="not-the-secret")
    assert caught.value.kind == "mismatch"


def test_refuses_a_changed_body() -> None:
    request = botocore_signed()
    with pytest.raises(sigv4.SigV4Error) as caught:
        verify_header(request, body=b'{"repositoryName":"b"}')
    assert caught.value.kind == "mismatch"


def test_missing_header_is_missing_token() -> None:
    with pytest.raises(sigv4.SigV4Error) as caught:
        sigv4.parse_authorization(None, None)
    assert caught.value.kind == "missing"


@pytest.mark.parametrize(
    "header",
    [
        "AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/ecr/aws4_request",
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc",
        "AWS4-HMAC-SHA256 Credential=AKID/2026/us-east-1/ecr, SignedHeaders=host, Signature=a",
        "Basic QVdTOnBhc3M=",
    ],
)
def test_malformed_headers_are_incomplete(header: str) -> None:
    with pytest.raises(sigv4.SigV4Error) as caught:
        sigv4.parse_authorization(header, "20261204T000000Z")
    assert caught.value.kind == "incomplete"


def test_scope_must_name_region_and_service() -> None:
    claim = sigv4.parse_authorization(
        "AWS4-HMAC-SHA256 Credential=AKID/20261204/eu-west-1/ecr/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=ab",
        "20261204T000000Z",
    )
    with pytest.raises(sigv4.SigV4Error, match="valid region"):
        sigv4.check_scope(claim, region="us-east-1", service="ecr")
    with pytest.raises(sigv4.SigV4Error, match="correct service"):
        sigv4.check_scope(claim, region="eu-west-1", service="s3")


def test_clock_skew_over_fifteen_minutes_is_signature_expired() -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    old = (now - timedelta(minutes=16)).strftime(sigv4.AMZ_DATE_FORMAT)
    claim = sigv4.parse_authorization(
        f"AWS4-HMAC-SHA256 Credential=AKID/{old[:8]}/us-east-1/ecr/aws4_request, "
        "SignedHeaders=host, Signature=ab",
        old,
    )
    with pytest.raises(sigv4.SigV4Error, match=r"^Signature expired: 20261204T114400Z"):
        sigv4.check_clock(claim, now)
    sigv4.check_clock(claim, now - timedelta(minutes=2))  # within the window: fine


def test_presigned_url_round_trip_and_botocore_agreement() -> None:
    # given a URL minted by layerport and one minted by botocore for the same request
    now = datetime.now(UTC).replace(microsecond=0)
    key = PresignKey(KEY, SECRET)
    ours = presign_get(
        base_url="http://127.0.0.1:5000",
        path="/_blob/sha256/ab",
        key=key,
        region="us-east-1",
        expires=600,
        now=now,
    )
    request = AWSRequest(method="GET", url="http://127.0.0.1:5000/_blob/sha256/ab")
    request.context["timestamp"] = now.strftime(sigv4.AMZ_DATE_FORMAT)
    S3SigV4QueryAuth(Credentials(KEY, SECRET), "s3", "us-east-1", expires=600).add_auth(request)
    theirs = request.url
    # then both carry the same signature
    ours_q = dict(parse_qsl(urlsplit(ours).query))
    theirs_q = dict(parse_qsl(urlsplit(theirs).query))
    assert ours_q["X-Amz-Signature"] == theirs_q["X-Amz-Signature"]
    # and ours verifies
    claim, expires = sigv4.parse_presigned_query(ours_q)
    sigv4.check_clock(claim, now, expires=expires)
    sigv4.check_signature(
        claim,
        SECRET,
        method="GET",
        path="/_blob/sha256/ab",
        query=sigv4.query_pairs(urlsplit(ours).query, drop_signature=True),
        headers={"host": "127.0.0.1:5000"},
        payload_hash=sigv4.UNSIGNED_PAYLOAD,
    )
    # and it expires
    with pytest.raises(sigv4.SigV4Error, match="expired"):
        sigv4.check_clock(claim, now + timedelta(seconds=601), expires=expires)


def test_signing_keys_are_cached() -> None:
    sigv4.signing_key.cache_clear()
    sigv4.signing_key(SECRET, "20261204", "us-east-1", "ecr")
    sigv4.signing_key(SECRET, "20261204", "us-east-1", "ecr")
    assert sigv4.signing_key.cache_info().hits == 1
