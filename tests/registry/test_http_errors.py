"""The spec's error contract on ``/v2/``: its JSON shape, its codes, and never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.media_types import OCI_MANIFEST
from tests.registry.http_support import SPEC_CODES, V2, errors_of
from tests.support import Server, sha256

BAD_DIGESTS = [
    "sha256:abc",
    "sha256:" + "A" * 64,
    "sha256:" + "g" * 64,
    "md5:" + "0" * 32,
    "sha512:" + "0" * 64,
    ":" + "0" * 64,
]


@pytest.fixture
def v2(server: Server, registry_auth: tuple[str, str]) -> V2:
    return V2(server, registry_auth)


@pytest.fixture(scope="module")
def repo(server: Server) -> str:
    """One repository for the whole sweep."""
    server.client().create_repository(repositoryName="sweep/errors")
    return "sweep/errors"


@pytest.mark.parametrize(
    "path",
    [
        "/v2/UPPER/manifests/x",
        "/v2/a/../b/manifests/x",
        "/v2/a/./b/manifests/x",
        "/v2/a/%2e%2e/b/manifests/x",
        "/v2/a//b/manifests/x",
        "/v2/-leading/manifests/x",
        "/v2/trailing-/tags/list",
        "/v2/x/blobs/" + sha256(b""),
        "/v2/" + "a" * 257 + "/tags/list",
        "/v2/sp%20ace/blobs/uploads/",
        "/v2/%ff/manifests/x",
    ],
)
def test_an_invalid_repository_name_is_400_name_invalid(v2: V2, path: str) -> None:
    # when a path names a repository that no repository name can be (sent byte for byte)
    status, headers, body = v2.raw("GET", path)

    # then 400 NAME_INVALID
    assert status == 400
    assert headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert [error["code"] for error in json.loads(body)["errors"]] == ["NAME_INVALID"]


@pytest.mark.parametrize("digest", BAD_DIGESTS)
@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("GET", "/v2/{repo}/blobs/{digest}"),
        ("DELETE", "/v2/{repo}/blobs/{digest}"),
        ("GET", "/v2/{repo}/manifests/{digest}"),
        ("DELETE", "/v2/{repo}/manifests/{digest}"),
        ("GET", "/v2/{repo}/referrers/{digest}"),
        ("POST", "/v2/{repo}/blobs/uploads/?digest={digest}"),
    ],
)
def test_an_invalid_digest_is_400_digest_invalid(
    v2: V2, repo: str, method: str, template: str, digest: str
) -> None:
    # when a digest that is not algorithm:hex of a known algorithm is used
    response = v2.request(method, template.format(repo=repo, digest=digest))

    # then 400 DIGEST_INVALID
    assert response.status_code == 400, response.text
    assert errors_of(response) == ["DIGEST_INVALID"]


@pytest.mark.parametrize("digest", BAD_DIGESTS)
def test_an_invalid_digest_in_head_or_put_is_400(v2: V2, repo: str, digest: str) -> None:
    # when a HEAD, a manifest PUT or an upload's closing PUT names an invalid digest
    blob = v2.head(f"/v2/{repo}/blobs/{digest}")
    manifest = v2.head(f"/v2/{repo}/manifests/{digest}")
    put = v2.put_manifest(repo, digest, b"{}", OCI_MANIFEST)
    location = v2.post(f"/v2/{repo}/blobs/uploads/").headers["Location"]
    close = v2.put(location, params={"digest": digest}, data=b"x")

    # then 400 each time (DIGEST_INVALID where there is a body)
    assert (blob.status_code, manifest.status_code) == (400, 400)
    assert (put.status_code, errors_of(put)) == (400, ["DIGEST_INVALID"])
    assert (close.status_code, errors_of(close)) == (400, ["DIGEST_INVALID"])


@pytest.mark.parametrize(
    "content_range", ["bytes=0-3", "garbage", "0-", "-3", "0-99", "3-0", "0-3/x", "1-4"]
)
def test_a_bad_content_range_is_416(v2: V2, repo: str, content_range: str) -> None:
    # given an upload session with nothing in it yet
    location = v2.post(f"/v2/{repo}/blobs/uploads/").headers["Location"]

    # when a 4-byte chunk comes with a range that is malformed or does not fit it
    response = v2.patch(location, data=b"abcd", headers={"Content-Range": content_range})

    # then 416 BLOB_UPLOAD_INVALID (or 202 for a prefix form the spec's clients send)
    if content_range == "bytes=0-3":
        assert response.status_code == 202
        return
    assert response.status_code == 416, response.text
    assert errors_of(response) == ["BLOB_UPLOAD_INVALID"]
    assert response.headers["Range"] == "0-0"


def _sweep() -> list[tuple[str, str, dict[str, Any]]]:
    """Malformed or unusual requests, each as (method, path, requests kwargs)."""
    huge = "9" * 40
    return [
        ("GET", "/v2/{repo}/manifests/", {}),
        ("GET", "/v2/{repo}/manifests/-bad-tag", {}),
        ("GET", "/v2/{repo}/manifests/" + "t" * 300, {}),
        ("GET", "/v2/{repo}/manifests/latest", {"headers": {"Accept": ";;,,q=x"}}),
        ("PUT", "/v2/{repo}/manifests/.bad", {"data": b"{}"}),
        ("PUT", "/v2/{repo}/manifests/v1", {"data": b"\xff\xfe"}),
        ("PUT", "/v2/{repo}/manifests/v1", {"data": b"{}", "headers": {"Content-Type": "a/b;;"}}),
        ("PUT", "/v2/{repo}/manifests/v1", {"data": b'{"schemaVersion": "2"}'}),
        ("PUT", "/v2/{repo}/manifests/v1", {"data": b'{"schemaVersion": 2, "layers": 5}'}),
        ("PUT", "/v2/{repo}/manifests/v1", {"data": b'{"schemaVersion":2,"manifests":[{}]}'}),
        ("PUT", "/v2/{repo}/manifests/v1", {"data": b'{"schemaVersion":2,"config":{"size":"1"}}'}),
        ("PUT", "/v2/{repo}/manifests/v1", {"data": b'{"schemaVersion":2,"subject":7}'}),
        ("POST", "/v2/{repo}/manifests/v1", {}),
        ("PATCH", "/v2/{repo}/manifests/v1", {}),
        ("POST", "/v2/{repo}/blobs/" + sha256(b""), {}),
        ("PUT", "/v2/{repo}/blobs/" + sha256(b""), {}),
        ("POST", "/v2/{repo}/blobs/uploads/?mount=nonsense&from=UPPER", {}),
        ("POST", "/v2/{repo}/blobs/uploads/?mount=" + sha256(b"") + "&from=../x", {}),
        ("POST", "/v2/{repo}/blobs/uploads/?digest=", {}),
        ("GET", "/v2/{repo}/blobs/uploads/", {}),
        ("PATCH", "/v2/{repo}/blobs/uploads/", {"data": b"x"}),
        ("PUT", "/v2/{repo}/blobs/uploads/not-a-session?digest=" + sha256(b""), {}),
        ("DELETE", "/v2/{repo}/blobs/uploads/%00", {}),
        ("GET", "/v2/{repo}/tags/list?n=" + huge, {}),
        ("GET", "/v2/{repo}/tags/list?n=abc", {}),
        ("GET", "/v2/{repo}/tags/list?last=" + "z" * 5000, {}),
        ("GET", "/v2/_catalog?n=-5", {}),
        ("GET", "/v2/_catalog?n=" + huge + "&last=%ff", {}),
        ("GET", "/v2/_catalog/extra", {}),
        ("GET", "/v2/{repo}/referrers/" + sha256(b"") + "?artifactType=", {}),
        ("GET", "/v2/{repo}/unknown/route", {}),
        ("PUT", "/v2/", {"data": b"x"}),
        ("DELETE", "/v2/", {}),
        ("OPTIONS", "/v2/{repo}/tags/list", {}),
    ]


@pytest.mark.parametrize(("method", "path", "kwargs"), _sweep())
def test_malformed_requests_never_get_a_5xx(
    v2: V2, repo: str, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    # when a malformed or unexpected request reaches /v2/
    response = v2.request(method, path.format(repo=repo), **kwargs)

    # then it is refused in the spec's terms: a 4xx, the API version header, a spec code
    assert response.status_code < 500, response.text
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    if response.status_code >= 400 and method != "HEAD":
        assert set(errors_of(response)) <= SPEC_CODES, response.text


def test_the_base_route_takes_only_get_and_head(v2: V2) -> None:
    # when the base route is written to
    response = v2.put("/v2/", data=b"x")

    # then 405 UNSUPPORTED
    assert response.status_code == 405
    assert errors_of(response) == ["UNSUPPORTED"]


def test_an_unknown_route_is_404_in_the_spec_shape(v2: V2, repo: str) -> None:
    # when a path matches no endpoint of the API
    response = v2.get(f"/v2/{repo}/unknown/route")

    # then 404, with a code the spec allows
    assert response.status_code == 404
    assert set(errors_of(response)) <= SPEC_CODES


@pytest.mark.parametrize("n", ["0", "1"])
def test_page_size_zero_is_an_empty_page_without_link(v2: V2, repo: str, n: str) -> None:
    # given a repository with two tags
    image = v2.push_image(repo, "zero-a", [b"zero"])
    v2.put_manifest(repo, "zero-b", image.raw, OCI_MANIFEST)

    # when n=0 (or n=1) tags are asked for
    response = v2.get(f"/v2/{repo}/tags/list", params={"n": n})

    # then n=0 gives an empty list and no Link (the spec's MUST); n=1 gives a Link
    assert response.status_code == 200
    assert len(response.json()["tags"]) == int(n)
    assert ("Link" in response.headers) == (n == "1")
