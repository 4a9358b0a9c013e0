"""Limits that protect the server: request rate per key, open uploads, parts, sizes.

Each limit answers in its face's own terms: ThrottlingException and
LimitExceededException on the ECR face, 429 (with ``Retry-After`` for the
rate) and the spec's error JSON on ``/v2/``; oversized requests get a 4xx,
never a 5xx.
"""

from __future__ import annotations

import http.client
import json
import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.access.support import admin_in_process, code_of, new_key, unique
from tests.ecr.helpers import signed_post
from tests.media_types import DOCKER_MANIFEST
from tests.registry.http_support import SPEC_CODES, V2, errors_of
from tests.support import Server, image_config, image_manifest, registry_login, sha256, upload_blob

MAX_MANIFEST = 4 * 1024 * 1024
T = TypeVar("T")
MAX_BODY = 28 * 1024 * 1024


def assert_spec_error(response: requests.Response, status: int, code: str) -> None:
    """``status`` with the spec's ``{"errors": [...]}`` naming ``code``."""
    assert response.status_code == status, (response.status_code, response.text)
    codes = errors_of(response)
    assert codes == [code] and set(codes) <= SPEC_CODES


def failure(call: Any) -> ClientError | None:
    """The error of an ECR call, or None when it succeeds."""
    try:
        call()
    except ClientError as exc:
        return exc
    return None


# --- request rate per access key ----------------------------------------------------------------
BURST = 20


def at_once(calls: list[Callable[[], T]]) -> tuple[list[T], float]:
    """The results of ``calls`` made all at once from threads, and the seconds it took."""
    began = time.monotonic()
    with ThreadPoolExecutor(len(calls)) as pool:
        results = list(pool.map(lambda call: call(), calls))
    return results, time.monotonic() - began


def most_allowed(seconds: float) -> int:
    """What a 5-per-second bucket of 5 can let through in ``seconds``."""
    return 5 + math.ceil(5 * seconds) + 1


def test_a_burst_over_the_rate_is_throttled_on_the_ecr_face(fresh_server: Any) -> None:
    # given a server allowing 5 requests a second per key, and a second key
    server = fresh_server(LAYERPORT_RATE_LIMIT="5")
    admin_in_process(server, "create-account", "--account-id", "222222222222")
    other = new_key(server, "222222222222", run=admin_in_process)
    ecr = server.client(config=Config(retries={"max_attempts": 1}, max_pool_connections=BURST))

    # when one key sends 20 requests at once
    burst, seconds = at_once([lambda: failure(ecr.describe_repositories)] * BURST)

    # then about 5 pass and the rest are throttled, as AWS answers a throttled call
    passed = burst.count(None)
    assert 5 <= passed <= most_allowed(seconds), (burst, seconds)
    throttled = [error for error in burst if error is not None]
    assert throttled
    for error in throttled:
        assert error.response["Error"] == {
            "Code": "ThrottlingException",
            "Message": "Rate exceeded",
        }
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # and another key is not held back by it
    assert failure(other.ecr(server).describe_repositories) is None
    # and after a pause the key is served again
    time.sleep(1.2)
    assert failure(ecr.describe_repositories) is None


def test_a_burst_over_the_rate_gets_429_with_retry_after_on_the_registry_face(
    fresh_server: Any,
) -> None:
    # given a server allowing 5 requests a second per key, and a token of that key
    server = fresh_server(LAYERPORT_RATE_LIMIT="5")
    auth = registry_login(server)
    time.sleep(1.2)  # let the bucket refill after the GetAuthorizationToken call

    # when it sends 20 requests at once
    def get() -> requests.Response:
        return requests.get(f"{server.url}/v2/_catalog", auth=auth, timeout=30)

    burst, seconds = at_once([get] * BURST)

    # then about 5 pass, and the rest get 429 TOOMANYREQUESTS with a Retry-After
    statuses = [response.status_code for response in burst]
    assert set(statuses) == {200, 429}, statuses
    assert 5 <= statuses.count(200) <= most_allowed(seconds), (statuses, seconds)
    refused = next(response for response in burst if response.status_code == 429)
    assert_spec_error(refused, 429, "TOOMANYREQUESTS")
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 2
    # and after waiting as told, it is served again
    time.sleep(wait)
    assert get().status_code == 200


# --- open uploads per account and parts per upload -----------------------------------------------
@pytest.fixture
def capped(fresh_server: Any) -> Iterator[Server]:
    """A server allowing 2 open uploads per account and 3 parts per upload."""
    server = fresh_server(LAYERPORT_MAX_UPLOADS="2", LAYERPORT_MAX_PARTS="3")
    server.client().create_repository(repositoryName="capped/app")
    yield server


def test_a_third_open_upload_is_over_the_limit(capped: Server) -> None:
    # given two open uploads in the account
    ecr = capped.client()
    first = ecr.initiate_layer_upload(repositoryName="capped/app")["uploadId"]
    ecr.initiate_layer_upload(repositoryName="capped/app")

    # when a third is started on each face
    with pytest.raises(ClientError) as excinfo:
        ecr.initiate_layer_upload(repositoryName="capped/app")
    response = V2(capped, registry_login(capped)).post("/v2/capped/app/blobs/uploads/")

    # then the ECR face says LimitExceededException, /v2/ a 429 in the spec's format
    assert code_of(excinfo) == "LimitExceededException"
    assert f"registry with id '{capped.account_id}'" in str(excinfo.value)
    assert_spec_error(response, 429, "TOOMANYREQUESTS")

    # and when one upload completes, a new one may start
    ecr.upload_layer_part(
        repositoryName="capped/app",
        uploadId=first,
        partFirstByte=0,
        partLastByte=3,
        layerPartBlob=b"done",
    )
    ecr.complete_layer_upload(
        repositoryName="capped/app", uploadId=first, layerDigests=[sha256(b"done")]
    )
    assert ecr.initiate_layer_upload(repositoryName="capped/app")["uploadId"]


def test_a_fourth_part_is_over_the_limit_on_both_faces(capped: Server) -> None:
    # given an ECR upload with three parts and a /v2/ upload with three chunks
    ecr = capped.client()
    upload_id = ecr.initiate_layer_upload(repositoryName="capped/app")["uploadId"]
    for index in range(3):
        ecr.upload_layer_part(
            repositoryName="capped/app",
            uploadId=upload_id,
            partFirstByte=index * 4,
            partLastByte=index * 4 + 3,
            layerPartBlob=b"part",
        )
    client = V2(capped, registry_login(capped))
    location = client.post("/v2/capped/app/blobs/uploads/").headers["Location"]
    octets = {"Content-Type": "application/octet-stream"}
    for _ in range(3):
        assert client.patch(location, data=b"chunk", headers=octets).status_code == 202

    # when a fourth part is sent on each face
    with pytest.raises(ClientError) as excinfo:
        ecr.upload_layer_part(
            repositoryName="capped/app",
            uploadId=upload_id,
            partFirstByte=12,
            partLastByte=15,
            layerPartBlob=b"part",
        )
    response = client.patch(location, data=b"chunk", headers=octets)

    # then it is refused, and the three parts still complete into a layer
    assert code_of(excinfo) == "LimitExceededException"
    assert upload_id in str(excinfo.value)
    assert_spec_error(response, 429, "TOOMANYREQUESTS")
    done = ecr.complete_layer_upload(
        repositoryName="capped/app", uploadId=upload_id, layerDigests=[sha256(b"part" * 3)]
    )
    assert done["layerDigest"] == sha256(b"part" * 3)
    finished = client.put(location, params={"digest": sha256(b"chunk" * 3)})
    assert finished.status_code == 201, finished.text


# --- sizes ---------------------------------------------------------------------------------------
def test_an_ecr_request_body_over_the_cap_is_an_invalid_parameter(server: Server) -> None:
    # given a signed UploadLayerPart whose body is larger than any request may be
    blob = b"A" * (MAX_BODY + 1024)
    body = (
        b'{"repositoryName":"limits/none","uploadId":"00000000-0000-0000-0000-000000000000",'
        b'"partFirstByte":0,"partLastByte":1,"layerPartBlob":"' + blob + b'"}'
    )

    # when it is sent
    try:
        response = signed_post(server, "UploadLayerPart", body)
    except requests.ConnectionError:
        pytest.fail("the server dropped the connection instead of answering")

    # then the AWS JSON error says why, and the server goes on serving
    assert response.status_code == 400
    assert response.json()["__type"] == "InvalidParameterException"
    assert str(MAX_BODY) in response.json()["message"]
    assert "x-amzn-RequestId" in response.headers
    assert server.client().describe_repositories()["repositories"] is not None


def _raw(server: Server, method: str, path: str, headers: dict[str, str]) -> int:
    """The status of a request sent with ``http.client`` (nothing cleaned up on the way)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body=b"{}" if method == "POST" else None, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/"), ("GET", "/v2/"), ("GET", "/v2/some/repo/manifests/latest")],
)
@pytest.mark.parametrize("where", ["header", "request-line", "many-headers"])
def test_oversized_headers_get_a_4xx_not_a_5xx(
    server: Server, method: str, path: str, where: str
) -> None:
    # given a request with a 20 KB header, a 20 KB request line, or 200 headers of 1 KB
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if where == "header":
        headers["X-Padding"] = "x" * 20_000
    elif where == "request-line":
        path += "?" + "q" * 20_000
    else:
        headers.update({f"X-Padding-{i}": "x" * 1000 for i in range(200)})

    # when it is sent
    status = _raw(server, method, path, headers)

    # then it is refused as the client's fault
    assert 400 <= status < 500, status
    assert requests.get(f"{server.url}/v2/", timeout=10).status_code == 401  # still serving


@pytest.fixture
def big_manifests(server: Server) -> tuple[str, bytes, bytes]:
    """A repository holding a layer and config, and manifests of 4 MiB and of 4 MiB + 1."""
    ecr = server.client()
    name = unique("limits/manifests-")
    ecr.create_repository(repositoryName=name)
    layer = b"limits layer"
    config = image_config([layer], variant=name)
    upload_blob(ecr, name, layer)
    upload_blob(ecr, name, config)
    doc = json.loads(image_manifest(config, [layer]))
    doc["annotations"] = {"padding": ""}
    short = MAX_MANIFEST - len(json.dumps(doc, separators=(",", ":")))
    doc["annotations"]["padding"] = "p" * short
    exact = json.dumps(doc, separators=(",", ":")).encode()
    doc["annotations"]["padding"] += "p"
    over = json.dumps(doc, separators=(",", ":")).encode()
    assert (len(exact), len(over)) == (MAX_MANIFEST, MAX_MANIFEST + 1)
    return name, exact, over


def test_a_manifest_over_4_mib_is_refused_on_the_ecr_face(
    server: Server, big_manifests: tuple[str, bytes, bytes]
) -> None:
    # given
    name, exact, over = big_manifests
    ecr = server.client()

    # when a manifest one byte over 4 MiB is put, and then one of exactly 4 MiB
    with pytest.raises(ClientError) as excinfo:
        ecr.put_image(repositoryName=name, imageManifest=over.decode(), imageTag="over")
    put = ecr.put_image(repositoryName=name, imageManifest=exact.decode(), imageTag="exact")

    # then the first is an invalid parameter naming the limit, the second is stored
    assert code_of(excinfo) == "InvalidParameterException"
    assert "imageManifest" in str(excinfo.value) and str(MAX_MANIFEST) in str(excinfo.value)
    assert put["image"]["imageId"]["imageDigest"] == sha256(exact)


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_manifest_over_4_mib_is_refused_on_the_registry_face(
    server: Server, big_manifests: tuple[str, bytes, bytes], framing: str
) -> None:
    # given
    name, exact, over = big_manifests
    client = V2(server, registry_login(server))
    headers = {"Content-Type": DOCKER_MANIFEST}

    def body(data: bytes) -> Any:
        if framing == "content-length":
            return data
        return (data[i : i + 65536] for i in range(0, len(data), 65536))

    # when a manifest one byte over 4 MiB is pushed, and then one of exactly 4 MiB
    refused = client.put(f"/v2/{name}/manifests/over-{framing}", data=body(over), headers=headers)
    stored = client.put(f"/v2/{name}/manifests/exact-{framing}", data=body(exact), headers=headers)

    # then the first gets 413 SIZE_INVALID, the second is stored
    assert_spec_error(refused, 413, "SIZE_INVALID")
    assert stored.status_code == 201, stored.text
    assert stored.headers["Docker-Content-Digest"] == sha256(exact)
    assert client.get(f"/v2/{name}/manifests/over-{framing}").status_code == 404
