"""Generated ECR requests, from the model's own input shapes, against a real server.

For every operation layerport serves, hypothesis builds requests that satisfy
the botocore model and requests with one defect (a wrong JSON type, a missing
required member, a broken length, range, pattern or enum), plus bodies that
are not JSON at all and signatures that are subtly wrong.  Whatever arrives:
no 5xx, every error is ``{"__type", "message"}`` in JSON 1.1 with a request id,
and every ``__type`` is one the operation's model lists or one every AWS JSON
service may answer.  A defect the model forbids must be refused.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from layerport import ecr_model
from layerport.service import Service
from tests.fuzz import documents
from tests.fuzz.shapes import ShapeStrategies
from tests.fuzz.support import (
    SIGNATURE_ERRORS,
    TARGET,
    SignedClient,
    check_ecr_response,
    fuzz_settings,
)
from tests.support import Server, image_config, image_manifest, upload_blob

OPERATIONS = sorted(Service(cast(Any, None)).operations)
FULL, EMPTY, OTHER = "fuzz/full", "fuzz/empty", "fuzz/other"
#: Operations after whose success the seeded repositories are put back.
DESTRUCTIVE = frozenset({"DeleteRepository", "BatchDeleteImage"})
#: What a request the model forbids may be told.
REFUSALS = frozenset({"SerializationException", "InvalidParameterException"})


class World:
    """What the seeded repositories hold, and how to put it back after a destructive call."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.client = SignedClient(server)
        self.layers: list[bytes] = []
        self.config = b""
        self.manifest = ""
        self.manifest_digest = ""
        self.config_digest = ""
        self.layer_digests: list[str] = []
        self.upload_id = ""

    def __repr__(self) -> str:  # short, for hypothesis' falsifying examples
        return f"World({self.server.url})"

    def restore(self) -> None:
        """Recreate the repositories, re-upload unlinked layers, re-put the image."""
        ecr = self.server.client()
        for name in (FULL, EMPTY, OTHER):
            try:
                ecr.create_repository(repositoryName=name)
            except ClientError as error:
                assert error.response["Error"]["Code"] == "RepositoryAlreadyExistsException"
        blobs = dict(zip(self.layer_digests, self.layers, strict=True))
        blobs[self.config_digest] = self.config
        found = ecr.batch_check_layer_availability(repositoryName=FULL, layerDigests=list(blobs))
        for layer in found["layers"]:
            if layer["layerAvailability"] != "AVAILABLE":
                upload_blob(ecr, FULL, blobs[layer["layerDigest"]])
        try:
            ecr.put_image(repositoryName=FULL, imageManifest=self.manifest, imageTag="latest")
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ImageAlreadyExistsException"


@pytest.fixture(scope="module")
def world(fuzz_server: Server) -> World:
    """Three repositories, one image with two layers, and an open upload."""
    ecr = fuzz_server.client()
    for name in (FULL, EMPTY, OTHER):
        ecr.create_repository(repositoryName=name)
    world = World(fuzz_server)
    world.layers = [b"layer one" * 100, b"layer two" * 50]
    world.config = image_config(world.layers, variant="fuzz")
    world.layer_digests = [upload_blob(ecr, FULL, layer) for layer in world.layers]
    world.config_digest = upload_blob(ecr, FULL, world.config)
    world.manifest = image_manifest(world.config, world.layers)
    image = ecr.put_image(repositoryName=FULL, imageManifest=world.manifest, imageTag="latest")
    world.manifest_digest = image["image"]["imageId"]["imageDigest"]
    world.upload_id = ecr.initiate_layer_upload(repositoryName=FULL)["uploadId"]
    return world


@pytest.fixture(scope="module")
def strategies(world: World, fuzz_server: Server) -> ShapeStrategies:
    """Shape strategies whose pools name what the server really holds."""
    account = fuzz_server.account_id
    region = fuzz_server.region
    repos = [FULL, EMPTY, OTHER, "fuzz/missing"]
    known = [*world.layer_digests, world.config_digest, world.manifest_digest]
    blobs = [
        (world.layer_digests[0], len(world.layers[0])),
        (world.layer_digests[1], len(world.layers[1])),
    ]
    config = (world.config_digest, len(world.config))
    digests = st.one_of(st.sampled_from(known), documents.DIGESTS)
    media_types = st.sampled_from(documents.MEDIA_TYPES)
    return ShapeStrategies(
        {
            "RepositoryName": st.sampled_from(repos),
            "RegistryId": st.sampled_from([account, account, "123456789012"]),
            "LayerDigest": digests,
            "BatchedOperationLayerDigest": digests,
            "ImageDigest": digests,
            "ImageTag": st.sampled_from(["latest", "v1", "LATEST"]),
            "UploadId": st.one_of(st.just(world.upload_id), st.uuids().map(str)),
            "Arn": st.one_of(
                st.sampled_from(repos).map(
                    lambda n: f"arn:aws:ecr:{region}:{account}:repository/{n}"
                ),
                st.sampled_from(
                    [
                        f"arn:aws:ecr:eu-west-1:{account}:repository/{FULL}",
                        f"arn:aws:ecr:{region}:123456789012:repository/{FULL}",
                        "arn:aws:ecr:::repository/",
                        "arn:aws:s3:::bucket",
                    ]
                ),
            ),
            "NextToken": documents.NEXT_TOKENS,
            "RepositoryPolicyText": documents.POLICIES,
            "ImageManifest": documents.manifests(
                config, blobs, [(world.manifest_digest, len(world.manifest))]
            ),
            "MediaType": media_types,
            "PartSize": st.integers(0, 2000),
            "LayerPartBlob": st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
        }
    )


def _send(world: World, operation: str, body: bytes) -> str | None:
    response = world.client.call(operation, body)
    code = check_ecr_response(operation, response)
    if code is None and operation in DESTRUCTIVE:
        world.restore()
    return code


@pytest.mark.parametrize("operation", OPERATIONS)
@fuzz_settings(50)
@given(data=st.data())
def test_requests_the_model_allows(
    world: World, strategies: ShapeStrategies, operation: str, data: st.DataObject
) -> None:
    # given a request that satisfies the operation's input shape
    shape = ecr_model.operation_model(operation).input_shape  # type: ignore[union-attr]
    params = data.draw(strategies.valid(shape), label="params")

    # when it is sent, correctly signed / then the answer keeps the JSON 1.1 contract
    _send(world, operation, json.dumps(params).encode())


@pytest.mark.parametrize("operation", OPERATIONS)
@fuzz_settings(50)
@given(data=st.data())
def test_requests_with_one_defect(
    world: World, strategies: ShapeStrategies, operation: str, data: st.DataObject
) -> None:
    # given a request with one defect somewhere in it
    shape = ecr_model.operation_model(operation).input_shape  # type: ignore[union-attr]
    params, must_fail = data.draw(strategies.broken(shape), label="params")

    # when it is sent, correctly signed
    code = _send(world, operation, json.dumps(params).encode())

    # then a defect the model forbids is refused as such
    if must_fail:
        assert code in REFUSALS, (code, params)


# --- bodies that are not a request at all ---------------------------------------------------------
def _is_json_object(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body), dict)
    except (ValueError, RecursionError):
        return False


BODIES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=100).map(str.encode),
    documents.ANY_JSON.map(lambda v: json.dumps(v).encode()),
    documents.DEEP_JSON.map(str.encode),
    st.builds(
        lambda name, depth: (
            '{"repositoryName":"' + name + '","x":' + "[" * depth + "]" * depth + "}"
        ).encode(),
        st.sampled_from([FULL, "x"]),
        st.integers(900, 5000),
    ),
    st.sampled_from(
        [
            b'{"repositoryName": "\\ud800"}',
            b'{"repositoryName": "fuzz/full", "maxResults": NaN}',
            b'{"repositoryName": "fuzz/full", "maxResults": Infinity}',
            b'{"repositoryName": "fuzz/full", "maxResults": 1e400}',
            b'{"repositoryName": "fuzz/full", "maxResults": -0}',
            b'{"repositoryName": "\xff\xfe"}',
            b'\xef\xbb\xbf{"repositoryName": "fuzz/full"}',
            b'{"repositoryName": "a", "repositoryName": "fuzz/full"}',
            b"{}" + b" " * 1000,
            b"  \n\t ",
            b"",
            b"{}garbage",
            b'{"tags": [{"Key": "k", "Value": "v"}, {"Key": "k", "Value": "w"}], '
            b'"repositoryName": "fuzz/dup-tags"}',
            b'{"repositoryName": "fuzz/full", "layerDigests": ["sha256:' + b"0" * 64 + b'"], '
            b'"uploadId": "00000000-0000-0000-0000-000000000000"}',
        ]
    ),
    st.integers(1, 3_000_000).map(lambda n: b'{"repositoryName":"' + b"a" * n + b'"}'),
)


@fuzz_settings(400)
@given(operation=st.sampled_from(OPERATIONS), body=BODIES, truncate=st.integers(0, 400))
def test_bodies_that_are_not_requests(
    world: World, operation: str, body: bytes, truncate: int
) -> None:
    # given a body that may be cut short anywhere
    if truncate and truncate < len(body):
        body = body[:truncate]

    # when it is sent, correctly signed
    code = _send(world, operation, body)

    # then anything that is not a JSON object is a SerializationException
    if body.strip() and not _is_json_object(body):
        assert code == "SerializationException", (code, body[:200])


@fuzz_settings(80)
@given(
    target=st.one_of(
        st.sampled_from(OPERATIONS).map(lambda op: f"{TARGET}.{op}x"),
        st.sampled_from(OPERATIONS).map(lambda op: f"{TARGET.lower()}.{op}"),
        st.sampled_from(OPERATIONS).map(lambda op: f"AmazonEC2ContainerRegistry_V20150922.{op}"),
        st.sampled_from(
            sorted(set(ecr_model.service_model().operation_names) - set(OPERATIONS))
        ).map(lambda op: f"{TARGET}.{op}"),
        st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=60).filter(
            lambda t: t == t.strip()  # what an HTTP client can send as a header value
        ),
        st.just(TARGET),
        st.just(f"{TARGET}."),
    )
)
def test_unknown_targets(world: World, target: str) -> None:
    # when X-Amz-Target names no operation layerport serves
    body = b"{}"
    response = world.client.send(body, world.client.sign(target, body))

    # then UnknownOperationException
    assert check_ecr_response(None, response) == "UnknownOperationException", target


def test_an_oversized_body_is_refused_in_the_json_error_shape(world: World) -> None:
    # when a body is larger than any request may be (28 MiB)
    body = b'{"repositoryName":"' + b"a" * (29 * 1024 * 1024) + b'"}'
    code = _send(world, "DescribeRepositories", body)

    # then it is refused, in the JSON 1.1 error shape
    assert code == "InvalidParameterException"


# --- signatures that are subtly wrong ----------------------------------------------------------
def _flip(text: str, at: int) -> str:
    at %= len(text)
    replacement = "0" if text[at] != "0" else "1"
    return text[:at] + replacement + text[at + 1 :]


def _auth_fields(header: str) -> tuple[str, dict[str, str]]:
    algorithm, _, rest = header.partition(" ")
    fields = dict(part.strip().split("=", 1) for part in rest.split(","))
    return algorithm, fields


def _auth_header(algorithm: str, fields: dict[str, str]) -> str:
    return algorithm + " " + ", ".join(f"{k}={v}" for k, v in fields.items())


@dataclass(frozen=True)
class Mutation:
    """One way to spoil a signed request."""

    kind: str
    at: int = 0
    text: str = ""


MUTATIONS = st.one_of(
    st.builds(
        Mutation,
        st.sampled_from(
            [
                "drop-authorization",
                "drop-date",
                "wrong-algorithm",
                "drop-credential",
                "drop-signed-headers",
                "drop-signature",
                "unknown-key",
                "wrong-secret",
                "wrong-region",
                "wrong-service",
                "wrong-terminator",
                "scope-date",
                "short-credential",
                "date-plus-one-second",
                "malformed-date",
                "unsigned-host",
                "content-sha256",
                "non-ascii-signature",
                "non-ascii-key",
                "non-ascii-target",
            ]
        ),
    ),
    st.builds(
        Mutation,
        st.sampled_from(["flip-signature", "change-body", "change-target"]),
        st.integers(0, 10_000),
    ),
    st.builds(
        Mutation, st.just("skewed"), st.one_of(st.integers(16, 10_000), st.integers(-10_000, -16))
    ),
    st.builds(
        Mutation,
        st.just("garbage-authorization"),
        text=st.text(
            st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=80
        ).filter(
            lambda t: t == t.strip()  # what an HTTP client can send as a header value
        ),
    ),
)


def _spoil(world: World, operation: str, body: bytes, m: Mutation) -> tuple[bytes, dict[str, str]]:
    client = world.client
    target = f"{TARGET}.{operation}"
    now = datetime.now(UTC)
    if m.kind == "skewed":
        return body, client.sign(target, body, when=now + timedelta(minutes=m.at))
    if m.kind == "wrong-secret":
        return body, client.sign(target, body, secret="not-the-secret-at-all")
    if m.kind == "unknown-key":
        return body, client.sign(target, body, key_id="AKIAUNKNOWNKEY000000")
    if m.kind == "wrong-region":
        return body, client.sign(target, body, region="eu-west-1")
    if m.kind == "wrong-service":
        return body, client.sign(target, body, service="s3")
    headers = client.sign(target, body)
    algorithm, fields = _auth_fields(headers["Authorization"])
    credential = fields["Credential"].split("/")
    if m.kind == "drop-authorization":
        del headers["Authorization"]
    elif m.kind == "drop-date":
        del headers["X-Amz-Date"]
    elif m.kind == "wrong-algorithm":
        headers["Authorization"] = _auth_header("AWS4-HMAC-SHA1", fields)
    elif m.kind.startswith("drop-"):
        name = {"credential": "Credential", "signed-headers": "SignedHeaders"}.get(
            m.kind.removeprefix("drop-"), "Signature"
        )
        headers["Authorization"] = _auth_header(algorithm, _without(fields, name))
    elif m.kind == "wrong-terminator":
        fields["Credential"] = "/".join([*credential[:4], "aws4_requesT"])
        headers["Authorization"] = _auth_header(algorithm, fields)
    elif m.kind == "scope-date":
        day = datetime.strptime(credential[1], "%Y%m%d") - timedelta(days=1)
        fields["Credential"] = "/".join([credential[0], day.strftime("%Y%m%d"), *credential[2:]])
        headers["Authorization"] = _auth_header(algorithm, fields)
    elif m.kind == "short-credential":
        fields["Credential"] = "/".join(credential[:3])
        headers["Authorization"] = _auth_header(algorithm, fields)
    elif m.kind == "date-plus-one-second":
        stamp = datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        headers["X-Amz-Date"] = (stamp + timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")
    elif m.kind == "malformed-date":
        headers["X-Amz-Date"] = headers["X-Amz-Date"].replace("T", "")
    elif m.kind == "unsigned-host":
        fields["SignedHeaders"] = ";".join(
            h for h in fields["SignedHeaders"].split(";") if h != "host"
        )
        headers["Authorization"] = _auth_header(algorithm, fields)
    elif m.kind == "content-sha256":
        headers["X-Amz-Content-SHA256"] = "0" * 64
    elif m.kind == "flip-signature":
        fields["Signature"] = _flip(fields["Signature"], m.at)
        headers["Authorization"] = _auth_header(algorithm, fields)
    elif m.kind == "change-body":
        body = _flip(body.decode(), m.at).encode()
    elif m.kind == "change-target":
        headers["X-Amz-Target"] = (
            f"{TARGET}.DescribeImages" if operation != "DescribeImages" else f"{TARGET}.ListImages"
        )
    elif m.kind == "non-ascii-signature":
        fields["Signature"] = fields["Signature"][:-1] + "\u00e9"
        headers["Authorization"] = _auth_header(algorithm, fields)
    elif m.kind == "non-ascii-key":
        fields["Credential"] = "/".join(["AKIA\u00e9\u00ff", *credential[1:]])
        headers["Authorization"] = _auth_header(algorithm, fields)
    elif m.kind == "non-ascii-target":
        headers["X-Amz-Target"] = f"{TARGET}.Describe\u00e9"
    elif m.kind == "garbage-authorization":
        headers["Authorization"] = m.text
    return body, headers


def _without(fields: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in fields.items() if k != name}


@fuzz_settings(250)
@given(
    operation=st.sampled_from(
        ["DescribeRepositories", "GetAuthorizationToken", "DeleteRepository"]
    ),
    mutation=MUTATIONS,
)
def test_spoiled_signatures_are_refused(world: World, operation: str, mutation: Mutation) -> None:
    # given a request whose signing was spoiled in one way
    params = {"repositoryName": "fuzz/never-created"} if operation == "DeleteRepository" else {}
    body, headers = _spoil(world, operation, json.dumps(params).encode(), mutation)

    # when it is sent
    response = world.client.send(body, headers)

    # then it is refused with a signature error (never run: the repository is still absent)
    code = check_ecr_response(operation, response)
    assert code in SIGNATURE_ERRORS, (mutation, code, response.text)


def test_an_unspoiled_signature_is_accepted(world: World) -> None:
    # the control for the test above: the same request, left alone, succeeds
    body = b"{}"
    response = world.client.send(body, world.client.sign(f"{TARGET}.GetAuthorizationToken", body))
    assert check_ecr_response("GetAuthorizationToken", response) is None


def test_every_served_operation_is_in_the_model() -> None:
    assert OPERATIONS and all(ecr_model.operation_model(op) for op in OPERATIONS)
