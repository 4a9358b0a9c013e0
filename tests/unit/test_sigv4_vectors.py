"""SigV4 against known answers: AWS's published examples, reproduced by botocore and by layerport.

The answers are the ones AWS publishes (the IAM user guide's worked example,
the SigV4 test suite's request/signature pairs, the S3 guide's pre-signed URL
example); each is asserted only after botocore, signing at the same frozen
moment, gives the very same value.  Cases without a published answer (spaces,
``+`` and non-ASCII in query values, an ECR-style JSON POST) are signed by
botocore at a frozen time and must verify with layerport's
:func:`~layerport.auth.sigv4.check_signature`.  Every case is also checked
the other way: one byte changed anywhere that is signed is a mismatch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from multidict import CIMultiDict

from layerport.auth import sigv4
from layerport.auth.presign import PresignKey, presign_get

# The example credentials of AWS's documentation and test suite.
KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SUITE_TIME = datetime(2015, 8, 30, 12, 36, 0)  # 20150830T123600Z, as botocore's clock gives it
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def botocore_signed(
    method: str,
    url: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    *,
    service: str = "service",
    when: datetime = SUITE_TIME,
) -> AWSRequest:
    """A request signed by botocore's SigV4Auth with its clock frozen at ``when``."""
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers or []:
        request.headers[name] = value  # an HTTPMessage: a repeated name is kept, in order
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        SigV4Auth(Credentials(KEY, SECRET), service, "us-east-1").add_auth(request)
    return request


def signature_of(request: AWSRequest) -> str:
    return str(request.headers["Authorization"]).rsplit("Signature=", 1)[1]


@dataclass(frozen=True)
class Wire:
    """A signed request as a server receives it: what check_signature is given."""

    method: str
    path: str
    query: str
    headers: CIMultiDict[str]
    body: bytes

    @classmethod
    def of(cls, request: AWSRequest) -> Wire:
        parts = urlsplit(request.url)
        headers: CIMultiDict[str] = CIMultiDict()
        for name, value in request.headers.items():
            headers.add(name, value)
        headers.setdefault("Host", parts.netloc)
        body = request.body or b""
        return cls(request.method, parts.path or "/", parts.query, headers, bytes(body))

    def verify(self, secret: str = SECRET) -> None:
        """Raise SigV4Error unless layerport accepts the signature."""
        claim = sigv4.parse_authorization(
            self.headers.get("Authorization"), self.headers["X-Amz-Date"]
        )
        sigv4.check_signature(
            claim,
            secret,
            method=self.method,
            path=self.path,
            query=sigv4.query_pairs(self.query),
            headers=self.headers,
            payload_hash=hashlib.sha256(self.body).hexdigest(),
        )


def one_byte_changed(text: str) -> str:
    """``text`` with its last character replaced by another."""
    last = text[-1] if text else ""
    return text[:-1] + ("0" if last != "0" else "1")


@dataclass(frozen=True)
class Vector:
    """One request, and the signature AWS publishes for it (None: no published answer)."""

    name: str
    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    published: str | None = None
    service: str = "service"

    def signed(self) -> AWSRequest:
        return botocore_signed(self.method, self.url, self.headers, self.body, service=self.service)


HOST = "https://example.amazonaws.com"
VECTORS = [
    # The SigV4 test suite (aws-sig-v4-test-suite), as AWS publishes its answers.
    Vector(
        "get-vanilla",
        "GET",
        f"{HOST}/",
        published="5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    ),
    Vector(
        "get-vanilla-query-order-key-case",
        "GET",
        f"{HOST}/?Param2=value2&Param1=value1",
        published="b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    ),
    Vector(
        "get-vanilla-query-order-key",  # a repeated key: sorted by value
        "GET",
        f"{HOST}/?Param1=value2&Param1=Value1",
        published="eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1",
    ),
    Vector(
        "get-vanilla-query-unreserved",
        "GET",
        f"{HOST}/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        "=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        published="9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
    ),
    Vector(
        "get-vanilla-utf8-query",
        "GET",
        f"{HOST}/?%E1%88%B4=bar",
        published="2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
    ),
    Vector(
        "get-header-key-duplicate",  # one header three times: values joined with commas
        "GET",
        f"{HOST}/",
        [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
        published="c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    ),
    Vector(
        "get-header-value-trim",  # leading spaces dropped, inner runs of spaces collapsed
        "GET",
        f"{HOST}/",
        [("My-Header1", " value1"), ("My-Header2", ' "a   b   c"')],
        published="acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    ),
    Vector(
        "post-vanilla",
        "POST",
        f"{HOST}/",
        published="5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    ),
    Vector(
        "post-x-www-form-urlencoded",  # a body: its hash is signed
        "POST",
        f"{HOST}/",
        [("Content-Type", "application/x-www-form-urlencoded")],
        b"Param1=value1",
        published="ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
    ),
    # No published answer: botocore signs, layerport must agree.
    Vector(
        "query-values-with-spaces-plus-and-unicode",
        "GET",
        f"{HOST}/path/to/it?a=value%20with%20spaces&b=caf%C3%A9&c=%2B1&d=&b=%E2%9C%93",
    ),
    Vector(
        "ecr-json-post",
        "POST",
        "http://127.0.0.1:5000/",
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.GetDownloadUrlForLayer"),
        ],
        b'{"repositoryName":"a/b","layerDigest":"sha256:' + b"0" * 64 + b'"}',
        service="ecr",
    ),
]
PUBLISHED = [v for v in VECTORS if v.published]


# --- the IAM user guide's worked example ----------------------------------------------------
IAM_URL = "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"
IAM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
IAM_HASHED_CANONICAL_REQUEST = "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
IAM_SIGNING_KEY = "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
IAM_SIGNATURE = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"


def test_the_iam_example_as_botocore_signs_it() -> None:
    # given the guide's ListUsers request, signed by botocore at 20150830T123600Z
    request = botocore_signed("GET", IAM_URL, [("Content-Type", IAM_CONTENT_TYPE)], service="iam")

    # then botocore gives the guide's signature over the guide's canonical request
    assert signature_of(request) == IAM_SIGNATURE
    unsigned = AWSRequest(method="GET", url=IAM_URL, headers={"Content-Type": IAM_CONTENT_TYPE})
    unsigned.headers["X-Amz-Date"] = "20150830T123600Z"
    unsigned.context["timestamp"] = "20150830T123600Z"
    signer = SigV4Auth(Credentials(KEY, SECRET), "iam", "us-east-1")
    canonical = signer.canonical_request(unsigned)
    assert hashlib.sha256(canonical.encode()).hexdigest() == IAM_HASHED_CANONICAL_REQUEST


def test_the_iam_example_as_layerport_computes_it() -> None:
    # when layerport derives the key and signs the same request
    key = sigv4.signing_key(SECRET, "20150830", "us-east-1", "iam")
    text = sigv4.string_to_sign(
        method="GET",
        path="/",
        query=sigv4.query_pairs("Action=ListUsers&Version=2010-05-08"),
        headers={
            "content-type": IAM_CONTENT_TYPE,
            "host": "iam.amazonaws.com",
            "x-amz-date": "20150830T123600Z",
        },
        signed_headers=("content-type", "host", "x-amz-date"),
        payload_hash=EMPTY_SHA256,
        amz_date="20150830T123600Z",
        scope="20150830/us-east-1/iam/aws4_request",
    )

    # then every intermediate value is the guide's
    assert key.hex() == IAM_SIGNING_KEY
    assert text == (
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
        + IAM_HASHED_CANONICAL_REQUEST
    )
    assert sigv4.sign(key, text) == IAM_SIGNATURE


def test_the_iam_example_verifies_and_a_changed_byte_does_not() -> None:
    wire = Wire.of(
        botocore_signed("GET", IAM_URL, [("Content-Type", IAM_CONTENT_TYPE)], service="iam")
    )
    wire.verify()
    changed = CIMultiDict(wire.headers)
    changed["Content-Type"] = one_byte_changed(IAM_CONTENT_TYPE)
    with pytest.raises(sigv4.SigV4Error) as caught:
        Wire(wire.method, wire.path, wire.query, changed, wire.body).verify()
    assert caught.value.kind == "mismatch"


# --- the test suite's requests --------------------------------------------------------------------
@pytest.mark.parametrize("vector", PUBLISHED, ids=lambda v: v.name)
def test_botocore_gives_the_published_signature(vector: Vector) -> None:
    # the vectors below are only as good as this: botocore agrees with AWS's answer
    assert signature_of(vector.signed()) == vector.published


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_layerport_verifies_what_botocore_signed(vector: Vector) -> None:
    # given a request botocore signed at the suite's moment
    wire = Wire.of(vector.signed())

    # when / then layerport accepts it with the secret, and refuses it with another
    wire.verify()
    with pytest.raises(sigv4.SigV4Error) as caught:
        wire.verify(secret=one_byte_changed(SECRET))
    assert caught.value.kind == "mismatch"


@pytest.mark.parametrize("vector", PUBLISHED, ids=lambda v: v.name)
def test_layerport_computes_the_published_signature(vector: Vector) -> None:
    # given the request as a server sees it
    wire = Wire.of(vector.signed())
    claim = sigv4.parse_authorization(wire.headers["Authorization"], wire.headers["X-Amz-Date"])

    # when layerport computes the signature itself
    text = sigv4.string_to_sign(
        method=wire.method,
        path=wire.path,
        query=sigv4.query_pairs(wire.query),
        headers=wire.headers,
        signed_headers=claim.signed_headers,
        payload_hash=hashlib.sha256(wire.body).hexdigest(),
        amz_date=claim.amz_date,
        scope=claim.scope,
    )
    key = sigv4.signing_key(SECRET, claim.date, claim.region, claim.service)

    # then it is AWS's answer
    assert sigv4.sign(key, text) == vector.published


def _changes(wire: Wire) -> list[tuple[str, Wire]]:
    """Every one-byte change to something the signature covers."""
    out = [
        (
            "path",
            Wire(wire.method, one_byte_changed(wire.path), wire.query, wire.headers, wire.body),
        )
    ]
    if wire.query:
        out.append(
            (
                "query",
                Wire(wire.method, wire.path, one_byte_changed(wire.query), wire.headers, wire.body),
            )
        )
    out.append(("body", Wire(wire.method, wire.path, wire.query, wire.headers, wire.body + b" ")))
    out.append(("method", Wire("PUT", wire.path, wire.query, wire.headers, wire.body)))
    claim = sigv4.parse_authorization(wire.headers["Authorization"], wire.headers["X-Amz-Date"])
    for name in claim.signed_headers:
        if name == "x-amz-date":
            continue  # part of the claim itself: a change there is a scope error, tested below
        headers = CIMultiDict(wire.headers)
        values = headers.getall(name)
        headers.popall(name)
        for value in [*values[:-1], one_byte_changed(values[-1])]:
            headers.add(name, value)
        out.append((f"header {name}", Wire(wire.method, wire.path, wire.query, headers, wire.body)))
    headers = CIMultiDict(wire.headers)
    headers["Authorization"] = one_byte_changed(headers["Authorization"])
    out.append(("signature", Wire(wire.method, wire.path, wire.query, headers, wire.body)))
    return out


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_one_byte_changed_is_a_mismatch(vector: Vector) -> None:
    wire = Wire.of(vector.signed())
    for what, changed in _changes(wire):
        with pytest.raises(sigv4.SigV4Error) as caught:
            changed.verify()
        assert caught.value.kind == "mismatch", what


def test_a_changed_date_is_refused_before_the_signature() -> None:
    wire = Wire.of(VECTORS[0].signed())
    with pytest.raises(sigv4.SigV4Error) as caught:
        sigv4.parse_authorization(wire.headers["Authorization"], "20150831T123600Z")
    assert caught.value.kind == "scope"


# --- the S3 guide's pre-signed URL ----------------------------------------------------------
S3_KEY = "AKIAIOSFODNN7EXAMPLE"
S3_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
S3_TIME = datetime(2013, 5, 24, 0, 0, 0)
S3_URL = (
    "https://examplebucket.s3.amazonaws.com/test.txt"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
)


def test_botocore_presigns_the_s3_example() -> None:
    request = AWSRequest(method="GET", url="https://examplebucket.s3.amazonaws.com/test.txt")
    with mock.patch("botocore.auth.get_current_datetime", return_value=S3_TIME):
        S3SigV4QueryAuth(Credentials(S3_KEY, S3_SECRET), "s3", "us-east-1", expires=86400).add_auth(
            request
        )
    assert request.url == S3_URL


def test_layerport_presigns_the_s3_example() -> None:
    url = presign_get(
        base_url="https://examplebucket.s3.amazonaws.com",
        path="/test.txt",
        key=PresignKey(S3_KEY, S3_SECRET),
        region="us-east-1",
        expires=86400,
        now=S3_TIME.replace(tzinfo=UTC),
    )
    assert url == S3_URL


def verify_presigned(url: str, method: str = "GET") -> None:
    """Raise SigV4Error unless layerport accepts the pre-signed URL (its expiry aside)."""
    parts = urlsplit(url)
    pairs = sigv4.query_pairs(parts.query)
    claim, _ = sigv4.parse_presigned_query(dict(pairs))
    sigv4.check_scope(claim, region="us-east-1", service="s3")
    sigv4.check_signature(
        claim,
        S3_SECRET,
        method=method,
        path=parts.path,
        query=sigv4.query_pairs(parts.query, drop_signature=True),
        headers={"host": parts.netloc},
        payload_hash=sigv4.UNSIGNED_PAYLOAD,
    )


def test_layerport_verifies_the_s3_example_and_nothing_near_it() -> None:
    verify_presigned(S3_URL)
    base, _, query = S3_URL.partition("?")
    pairs = [pair.split("=", 1) for pair in query.split("&")]
    changed = [
        ("path", f"{one_byte_changed(base)}?{query}"),
        ("host", S3_URL.replace("examplebucket", "examplebuckex")),
        ("extra parameter", f"{S3_URL}&x-id=GetObject"),
    ]
    for at, (name, value) in enumerate(pairs):
        copy = [list(pair) for pair in pairs]
        copy[at][1] = one_byte_changed(value)
        changed.append((name, f"{base}?" + "&".join("=".join(pair) for pair in copy)))
    for what, url in changed:
        try:
            verify_presigned(url)
        except sigv4.SigV4Error:
            continue
        pytest.fail(f"the URL verified with its {what} changed")
    with pytest.raises(sigv4.SigV4Error) as caught:
        verify_presigned(S3_URL, method="PUT")
    assert caught.value.kind == "mismatch"
