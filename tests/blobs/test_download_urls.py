"""Pre-signed layer URLs from GetDownloadUrlForLayer, fetched over HTTP like a client would."""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from tests.support import Server, push_image, sha256

LAYER = os.urandom(300_000)
OTHER = os.urandom(1000)


@pytest.fixture(scope="module")
def pushed(server: Server) -> tuple[Any, str, Any]:
    ecr = server.client()
    ecr.create_repository(repositoryName="blobs/urls")
    image = push_image(ecr, "blobs/urls", [LAYER, OTHER])
    return ecr, "blobs/urls", image


def url_for(ecr: Any, repository: str, digest: str) -> str:
    return str(
        ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)["downloadUrl"]
    )


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_url_downloads_exactly_the_layer(pushed: tuple[Any, str, Any]) -> None:
    # given a pushed image
    ecr, repository, image = pushed
    # when its first layer's URL is fetched
    response = requests.get(url_for(ecr, repository, image.layer_digests[0]), timeout=10)
    # then the bytes hash to the digest and the digest is the ETag
    assert response.status_code == 200
    assert sha256(response.content) == image.layer_digests[0]
    assert response.headers["ETag"] == f'"{image.layer_digests[0]}"'
    assert response.headers["Content-Length"] == str(len(LAYER))
    assert "X-Amz-Signature=" in response.url and "X-Amz-Expires=3600" in response.url


def test_url_has_the_shape_of_an_s3_presigned_get(pushed: tuple[Any, str, Any]) -> None:
    ecr, repository, image = pushed
    query = dict(parse_qsl(urlsplit(url_for(ecr, repository, image.config_digest)).query))
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-SignedHeaders"] == "host"
    assert query["X-Amz-Credential"].endswith("/us-east-1/s3/aws4_request")
    assert len(query["X-Amz-Signature"]) == 64


@pytest.mark.parametrize(
    ("header", "status", "start", "end"),
    [
        ("bytes=0-99", 206, 0, 100),
        ("bytes=1000-", 206, 1000, len(LAYER)),
        ("bytes=-10", 206, len(LAYER) - 10, len(LAYER)),
        ("bytes=299990-999999", 206, 299_990, len(LAYER)),
    ],
)
def test_range(
    pushed: tuple[Any, str, Any], header: str, status: int, start: int, end: int
) -> None:
    ecr, repository, image = pushed
    response = requests.get(
        url_for(ecr, repository, image.layer_digests[0]), headers={"Range": header}, timeout=10
    )
    assert response.status_code == status
    assert response.content == LAYER[start:end]
    assert response.headers["Content-Range"] == f"bytes {start}-{end - 1}/{len(LAYER)}"


def test_unsatisfiable_range_is_416(pushed: tuple[Any, str, Any]) -> None:
    ecr, repository, image = pushed
    response = requests.get(
        url_for(ecr, repository, image.layer_digests[0]),
        headers={"Range": f"bytes={len(LAYER)}-"},
        timeout=10,
    )
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(LAYER)}"


def test_head_and_conditional_get(pushed: tuple[Any, str, Any]) -> None:
    ecr, repository, image = pushed
    url = url_for(ecr, repository, image.layer_digests[0])
    head = requests.head(url, timeout=10)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(LAYER)) and not head.content
    cached = requests.get(url, headers={"If-None-Match": head.headers["ETag"]}, timeout=10)
    assert cached.status_code == 304 and not cached.content


def test_a_forwarded_authorization_header_is_ignored(pushed: tuple[Any, str, Any]) -> None:
    # docker sends its registry credentials along on a redirect to the same host
    ecr, repository, image = pushed
    response = requests.get(
        url_for(ecr, repository, image.layer_digests[1]),
        headers={"Authorization": "Basic QVdTOnNvbWV0aGluZw=="},
        timeout=10,
    )
    assert response.status_code == 200 and response.content == OTHER


@pytest.mark.parametrize(
    "change",
    [
        {"X-Amz-Signature": "0" * 64},
        {"X-Amz-Expires": "3601"},
        {"X-Amz-Date": "20200101T000000Z"},
        {"X-Amz-Credential": "LPBLAAAAAAAAAAAAAAAA/20261204/us-east-1/s3/aws4_request"},
        {"X-Amz-SignedHeaders": "host;range"},
        {"X-Amz-Algorithm": "AWS4-HMAC-SHA1"},
        {"extra": "1"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_tampered_urls_are_refused(pushed: tuple[Any, str, Any], change: dict[str, str]) -> None:
    ecr, repository, image = pushed
    response = requests.get(
        with_query(url_for(ecr, repository, image.layer_digests[0]), **change), timeout=10
    )
    assert response.status_code in (400, 403)
    assert response.headers["Content-Type"].startswith("application/xml")
    assert b"<Error><Code>" in response.content
    assert LAYER[:100] not in response.content


def test_a_url_grants_only_its_own_blob(pushed: tuple[Any, str, Any]) -> None:
    # given the URL of one layer, re-pointed at the other layer's path
    ecr, repository, image = pushed
    url = url_for(ecr, repository, image.layer_digests[0])
    other_hex = image.layer_digests[1].split(":")[1]
    repointed = url.replace(image.layer_digests[0].split(":")[1], other_hex)
    # when it is fetched, then it is refused
    response = requests.get(repointed, timeout=10)
    assert response.status_code == 403
    assert b"SignatureDoesNotMatch" in response.content


def test_a_missing_signature_is_refused(pushed: tuple[Any, str, Any]) -> None:
    ecr, repository, image = pushed
    bare = url_for(ecr, repository, image.layer_digests[0]).split("?")[0]
    assert requests.get(bare, timeout=10).status_code == 403


def test_urls_expire(fresh_server: Any) -> None:
    # given a server whose URLs live two seconds
    server = fresh_server(LAYERPORT_PRESIGN_EXPIRES="2")
    ecr = server.client()
    ecr.create_repository(repositoryName="short/lived")
    image = push_image(ecr, "short/lived", [b"x" * 5000])
    url = url_for(ecr, "short/lived", image.layer_digests[0])
    assert "X-Amz-Expires=2" in url
    assert requests.get(url, timeout=10).status_code == 200
    # when the lifetime has passed
    time.sleep(3.1)
    response = requests.get(url, timeout=10)
    # then the URL is refused
    assert response.status_code == 403
    assert b"Request has expired" in response.content


def test_large_layer_streams_intact(pushed: tuple[Any, str, Any], server: Server) -> None:
    # a multi-part layer of 12 MiB, downloaded in a stream and hashed on the way
    ecr, repository, _ = pushed
    data = os.urandom(12 * 1024 * 1024)
    image = push_image(ecr, repository, [data], tag="large")
    hasher = hashlib.sha256()
    with requests.get(
        url_for(ecr, repository, image.layer_digests[0]), stream=True, timeout=30
    ) as response:
        for chunk in response.iter_content(1 << 20):
            hasher.update(chunk)
    assert "sha256:" + hasher.hexdigest() == image.layer_digests[0]
