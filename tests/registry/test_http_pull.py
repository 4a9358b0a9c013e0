"""OCI distribution spec, Pull category, over raw HTTP: base, manifests, blobs, negotiation."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.media_types import DOCKER_LIST, DOCKER_MANIFEST, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST
from tests.registry.http_support import (
    EMPTY_CONFIG,
    V2,
    Image,
    comparable_url,
    errors_of,
    image_manifest,
    index_manifest,
)
from tests.support import Server, push_image, sha256


@pytest.fixture
def v2(server: Server, registry_auth: tuple[str, str]) -> V2:
    return V2(server, registry_auth)


def test_base_refuses_anonymous_callers_with_a_basic_challenge(server: Server) -> None:
    # given a client without credentials
    anonymous = V2(server, None)

    # when it probes the API
    response = anonymous.get("/v2/")

    # then it is challenged to use Basic auth, in the spec's error shape
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="')
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert errors_of(response) == ["UNAUTHORIZED"]


@pytest.mark.parametrize("path", ["/v2/", "/v2"])
def test_base_answers_200_to_an_authenticated_caller(v2: V2, path: str) -> None:
    # when an authenticated client probes the API
    response = v2.get(path)

    # then the registry says it speaks the distribution API
    assert response.status_code == 200
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"


@pytest.mark.parametrize("by", ["tag", "digest"])
def test_manifest_get_and_head_by_tag_or_digest(v2: V2, repository: str, by: str) -> None:
    # given an image pushed under a tag
    image = v2.push_image(repository, "v1", [b"layer-one", b"layer-two"])
    reference = "v1" if by == "tag" else image.digest
    path = f"/v2/{repository}/manifests/{reference}"

    # when the manifest is fetched and then checked with HEAD
    got = v2.get(path, headers={"Accept": OCI_MANIFEST})
    head = v2.head(path, headers={"Accept": OCI_MANIFEST})

    # then GET returns the exact bytes, HEAD the same headers without them
    assert got.status_code == 200
    assert got.content == image.raw
    assert got.headers["Content-Type"] == OCI_MANIFEST
    assert got.headers["Docker-Content-Digest"] == image.digest
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Type"] == OCI_MANIFEST
    assert head.headers["Docker-Content-Digest"] == image.digest
    assert head.headers["Content-Length"] == str(len(image.raw))


def _push_kind(v2: V2, repository: str, kind: str) -> tuple[bytes, str]:
    """Push one manifest of ``kind`` tagged ``kind``; return its bytes and media type."""
    if kind == "docker":
        return v2.push_image(repository, kind, [b"docker-layer"], docker=True).raw, DOCKER_MANIFEST
    if kind == "oci":
        return v2.push_image(repository, kind, [b"oci-layer"]).raw, OCI_MANIFEST
    if kind == "artifact":
        v2.push_blob(repository, EMPTY_CONFIG)
        v2.push_blob(repository, b"sbom contents")
        raw = image_manifest(
            OCI_MANIFEST,
            EMPTY_CONFIG,
            [b"sbom contents"],
            config_type=OCI_EMPTY,
            artifact_type="application/vnd.example.sbom.v1+json",
        )
        assert v2.put_manifest(repository, kind, raw, OCI_MANIFEST).status_code == 201
        return raw, OCI_MANIFEST
    docker = kind == "docker-list"
    media_type = DOCKER_LIST if docker else OCI_INDEX
    children = [
        (v2.push_image(repository, None, [f"{kind}-{arch}".encode()], docker=docker), arch)
        for arch in ("amd64", "arm64")
    ]
    raw = index_manifest(media_type, children)
    assert v2.put_manifest(repository, kind, raw, media_type).status_code == 201
    return raw, media_type


@pytest.mark.parametrize("kind", ["docker", "docker-list", "oci", "oci-index", "artifact"])
def test_every_manifest_kind_is_served_as_pushed(v2: V2, repository: str, kind: str) -> None:
    # given a manifest of each kind the spec and docker use
    raw, media_type = _push_kind(v2, repository, kind)

    # when a client that accepts that type pulls it by tag
    response = v2.get(f"/v2/{repository}/manifests/{kind}", headers={"Accept": media_type})

    # then it gets the exact bytes with the right type and digest
    assert response.status_code == 200
    assert response.content == raw
    assert response.headers["Content-Type"] == media_type
    assert response.headers["Docker-Content-Digest"] == sha256(raw)
    if kind == "artifact":
        assert response.json()["artifactType"] == "application/vnd.example.sbom.v1+json"


@pytest.fixture
def multi_arch(v2: V2, repository: str) -> tuple[dict[str, Image], bytes]:
    """An OCI index tagged ``multi`` over linux/arm64 and linux/amd64 images."""
    images = {arch: v2.push_image(repository, None, [arch.encode()]) for arch in ("arm64", "amd64")}
    raw = index_manifest(OCI_INDEX, [(image, arch) for arch, image in images.items()])
    assert v2.put_manifest(repository, "multi", raw, OCI_INDEX).status_code == 201
    return images, raw


@pytest.mark.parametrize(
    "accept",
    [
        f"{OCI_MANIFEST}, {OCI_INDEX}",
        f"{DOCKER_MANIFEST};q=0.9, {OCI_INDEX};q=0.5",
        "*/*",
        None,
    ],
)
def test_an_accepted_index_is_served_as_is(
    v2: V2, repository: str, multi_arch: tuple[dict[str, Image], bytes], accept: str | None
) -> None:
    # given an index, and a client whose Accept list includes it (or accepts anything)
    _, raw = multi_arch
    headers = {"Accept": accept} if accept is not None else {}

    # when the client pulls the tag
    response = v2.get(f"/v2/{repository}/manifests/multi", headers=headers)

    # then the index itself comes back
    assert response.status_code == 200
    assert response.content == raw
    assert response.headers["Content-Type"] == OCI_INDEX


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_index_the_client_does_not_accept_falls_back_to_linux_amd64(
    v2: V2, repository: str, multi_arch: tuple[dict[str, Image], bytes], method: str
) -> None:
    # given an index, and a client that only takes image manifests (Accept on two lines)
    images, _ = multi_arch
    accept = [("Accept", DOCKER_MANIFEST), ("Accept", OCI_MANIFEST)]

    # when it pulls the tag
    status, headers, body = v2.raw(method, f"/v2/{repository}/manifests/multi", accept)

    # then it gets the linux/amd64 child, not the arm64 one listed first
    assert status == 200
    assert headers["Docker-Content-Digest"] == images["amd64"].digest
    assert headers["Content-Type"] == OCI_MANIFEST
    if method == "GET":
        assert body == images["amd64"].raw


def test_a_manifest_type_the_client_does_not_accept_is_not_found(
    v2: V2, repository: str, multi_arch: tuple[dict[str, Image], bytes]
) -> None:
    # given an OCI index of OCI manifests, and a plain OCI image
    image = v2.push_image(repository, "plain", [b"plain layer"])

    # when a client that only accepts Docker schema 2 asks for either
    index = v2.get(f"/v2/{repository}/manifests/multi", headers={"Accept": DOCKER_MANIFEST})
    plain = v2.get(f"/v2/{repository}/manifests/{image.digest}", headers={"Accept": DOCKER_LIST})
    head = v2.head(f"/v2/{repository}/manifests/plain", headers={"Accept": DOCKER_MANIFEST})

    # then neither is served: 404 MANIFEST_UNKNOWN
    assert index.status_code == 404
    assert errors_of(index) == ["MANIFEST_UNKNOWN"]
    assert plain.status_code == 404
    assert errors_of(plain) == ["MANIFEST_UNKNOWN"]
    assert head.status_code == 404
    assert head.content == b""


@pytest.mark.parametrize("reference", ["nope", "sha256:" + "0" * 64])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_unknown_manifest_is_404_manifest_unknown(
    v2: V2, repository: str, reference: str, method: str
) -> None:
    # when a manifest that was never pushed is asked for
    response = v2.request(method, f"/v2/{repository}/manifests/{reference}")

    # then 404, with MANIFEST_UNKNOWN in the body of a GET
    assert response.status_code == 404
    if method == "GET":
        assert errors_of(response) == ["MANIFEST_UNKNOWN"]


def test_a_missing_repository_is_404_name_unknown(v2: V2) -> None:
    # when anything is asked of a repository that does not exist
    manifest = v2.get("/v2/no-such-repo/manifests/latest")
    blob = v2.get(f"/v2/no-such-repo/blobs/{sha256(b'x')}")

    # then 404 NAME_UNKNOWN
    assert (manifest.status_code, errors_of(manifest)) == (404, ["NAME_UNKNOWN"])
    assert (blob.status_code, errors_of(blob)) == (404, ["NAME_UNKNOWN"])


def test_blob_head_is_answered_directly(v2: V2, repository: str) -> None:
    # given an image with a layer
    image = v2.push_image(repository, "v1", [b"a layer of twenty-six bytes"[:26]])
    digest = image.layer_digests[0]

    # when the layer is checked with HEAD
    response = v2.head(f"/v2/{repository}/blobs/{digest}")

    # then the registry answers itself: 200, size and digest, no redirect
    assert response.status_code == 200
    assert response.headers["Content-Length"] == "26"
    assert response.headers["Docker-Content-Digest"] == digest
    assert "Location" not in response.headers


@pytest.mark.parametrize("which", ["layer", "config"])
def test_blob_get_redirects_to_the_get_download_url_for_layer_url(
    v2: V2, ecr: Any, repository: str, which: str
) -> None:
    # given an image whose layer and config are in the repository
    layer = b"layer bytes that are fetched through the redirect"
    image = v2.push_image(repository, "v1", [layer])
    digest = image.layer_digests[0] if which == "layer" else image.config_digest

    # when the blob is fetched, and the ECR API is asked for its URL
    response = v2.get(f"/v2/{repository}/blobs/{digest}")
    url = ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)

    # then the answer is 307 to that very URL (up to the signing moment), which serves the bytes
    assert response.status_code == 307
    location = response.headers["Location"]
    assert comparable_url(location) == comparable_url(url["downloadUrl"])
    assert response.headers["Docker-Content-Digest"] == digest
    fetched = requests.get(location, timeout=30)
    assert fetched.status_code == 200
    assert sha256(fetched.content) == digest
    if which == "layer":
        assert fetched.content == layer


def test_following_the_redirect_with_auth_forwarded_still_works(v2: V2, repository: str) -> None:
    # given an image (docker forwards Authorization on a same-host redirect)
    image = v2.push_image(repository, "v1", [b"redirected layer"])

    # when the client follows the redirect itself, credentials and all
    response = v2.get(f"/v2/{repository}/blobs/{image.layer_digests[0]}", allow_redirects=True)

    # then it gets the bytes
    assert response.status_code == 200
    assert response.content == b"redirected layer"


def test_a_pull_resumes_with_a_range_through_the_redirect(v2: V2, repository: str) -> None:
    # given an image, and a client that already has the first 10 bytes of its layer
    layer = bytes(range(100))
    image = v2.push_image(repository, "v1", [layer])
    location = v2.get(f"/v2/{repository}/blobs/{image.layer_digests[0]}").headers["Location"]

    # when it asks the redirect target for the rest
    response = requests.get(location, headers={"Range": "bytes=10-"}, timeout=30)

    # then it gets exactly the rest
    assert response.status_code == 206
    assert response.content == layer[10:]


def test_an_unreferenced_blob_can_be_checked_but_not_pulled(v2: V2, repository: str) -> None:
    # given a blob that was uploaded but that no image references
    digest = v2.push_blob(repository, b"orphan bytes")

    # when it is checked and fetched
    head = v2.head(f"/v2/{repository}/blobs/{digest}")
    get = v2.get(f"/v2/{repository}/blobs/{digest}")

    # then HEAD finds it, but GET is 404 BLOB_UNKNOWN, as in ECR
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(b"orphan bytes"))
    assert get.status_code == 404
    assert errors_of(get) == ["BLOB_UNKNOWN"]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_unknown_blob_is_404(v2: V2, repository: str, method: str) -> None:
    # when a blob the repository never had is asked for
    response = v2.request(method, f"/v2/{repository}/blobs/{sha256(b'never uploaded')}")

    # then 404 (BLOB_UNKNOWN in a GET body)
    assert response.status_code == 404
    if method == "GET":
        assert errors_of(response) == ["BLOB_UNKNOWN"]


def test_an_image_pushed_with_the_ecr_api_pulls_over_v2(v2: V2, ecr: Any, repository: str) -> None:
    # given an image pushed with InitiateLayerUpload … PutImage
    pushed = push_image(ecr, repository, [b"ecr layer one", b"ecr layer two"], tag="ecr")

    # when it is pulled through /v2/
    manifest = v2.get(f"/v2/{repository}/manifests/ecr", headers={"Accept": DOCKER_MANIFEST})
    blobs = [
        v2.get(f"/v2/{repository}/blobs/{digest}", allow_redirects=True)
        for digest in pushed.layer_digests
    ]

    # then the manifest and every layer come back intact
    assert manifest.status_code == 200
    assert manifest.content == pushed.manifest.encode()
    assert manifest.headers["Docker-Content-Digest"] == pushed.manifest_digest
    assert [blob.content for blob in blobs] == [b"ecr layer one", b"ecr layer two"]
    assert json.loads(manifest.content)["config"]["digest"] == pushed.config_digest
