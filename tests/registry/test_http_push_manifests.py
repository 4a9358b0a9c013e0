"""OCI distribution spec, Push category: manifest PUTs, and pushes to missing repositories."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from tests.media_types import OCI_EMPTY, OCI_INDEX, OCI_MANIFEST
from tests.registry.http_support import EMPTY_CONFIG, V2, descriptor, errors_of, image_manifest
from tests.support import Server, registry_login, sha256


@pytest.fixture
def v2(server: Server, registry_auth: tuple[str, str]) -> V2:
    return V2(server, registry_auth)


@pytest.mark.parametrize("by", ["tag", "digest"])
def test_manifest_put(v2: V2, repository: str, by: str) -> None:
    # given an image's blobs
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    for blob in (config, b"layer"):
        v2.push_blob(repository, blob)
    raw = image_manifest(OCI_MANIFEST, config, [b"layer"])
    reference = "v1" if by == "tag" else sha256(raw)

    # when the manifest is PUT
    response = v2.put_manifest(repository, reference, raw, OCI_MANIFEST)

    # then 201 with its digest and location, and it can be pulled by that reference
    assert response.status_code == 201
    assert response.headers["Docker-Content-Digest"] == sha256(raw)
    assert response.headers["Location"] == f"/v2/{repository}/manifests/{sha256(raw)}"
    assert v2.get(f"/v2/{repository}/manifests/{reference}").content == raw


def test_manifest_put_by_a_digest_that_does_not_match_the_bytes(v2: V2, repository: str) -> None:
    # given a manifest's bytes and someone else's digest
    image = v2.push_image(repository, None, [b"layer"])
    other = sha256(image.raw + b" ")

    # when it is PUT under that digest
    response = v2.put_manifest(repository, other, image.raw, OCI_MANIFEST)

    # then 400 DIGEST_INVALID
    assert response.status_code == 400
    assert errors_of(response) == ["DIGEST_INVALID"]
    assert v2.head(f"/v2/{repository}/manifests/{other}").status_code == 404


def test_a_manifest_referencing_a_missing_blob(v2: V2, repository: str) -> None:
    # given a manifest whose layer was never pushed
    config = b'{"os":"linux"}'
    v2.push_blob(repository, config)
    raw = image_manifest(OCI_MANIFEST, config, [b"never pushed"])

    # when it is PUT
    response = v2.put_manifest(repository, "broken", raw, OCI_MANIFEST)

    # then 400 MANIFEST_BLOB_UNKNOWN
    assert response.status_code == 400
    assert errors_of(response) == ["MANIFEST_BLOB_UNKNOWN"]


def test_an_index_referencing_a_missing_manifest(v2: V2, repository: str) -> None:
    # given an index over a manifest that was never pushed
    child = {**descriptor(OCI_MANIFEST, b"{}"), "platform": {"os": "linux", "architecture": "x"}}
    raw = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [child]}).encode()

    # when it is PUT
    response = v2.put_manifest(repository, "broken-index", raw, OCI_INDEX)

    # then 400 MANIFEST_BLOB_UNKNOWN
    assert response.status_code == 400
    assert errors_of(response) == ["MANIFEST_BLOB_UNKNOWN"]


INVALID_MANIFESTS: dict[str, tuple[Any, str]] = {
    "not-json": (b"not json", OCI_MANIFEST),
    "not-an-object": ([], OCI_MANIFEST),
    "schema-1": ({"schemaVersion": 1, "name": "x", "tag": "y", "fsLayers": []}, OCI_MANIFEST),
    "no-config": ({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []}, ""),
    "type-mismatch": ({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}, OCI_MANIFEST),
    "bad-digest": (
        {"schemaVersion": 2, "config": {"digest": "md5:0", "size": 1}, "layers": []},
        "",
    ),
    "unknown-type": ({"schemaVersion": 2, "mediaType": "text/plain", "layers": []}, "text/plain"),
}


@pytest.mark.parametrize(
    ("body", "content_type"), INVALID_MANIFESTS.values(), ids=INVALID_MANIFESTS
)
def test_an_invalid_manifest_is_400_manifest_invalid(
    v2: V2, repository: str, body: Any, content_type: str
) -> None:
    # when something that is not a valid manifest is PUT
    headers = {"Content-Type": content_type} if content_type else {}
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = v2.put(f"/v2/{repository}/manifests/bad", data=raw, headers=headers)

    # then 400 MANIFEST_INVALID
    assert response.status_code == 400
    assert errors_of(response) == ["MANIFEST_INVALID"]


def test_a_referrer_put_answers_oci_subject(v2: V2, repository: str) -> None:
    # given an image, and an artifact about it
    image = v2.push_image(repository, "v1", [b"subject layer"])
    v2.push_blob(repository, EMPTY_CONFIG)
    raw = image_manifest(
        OCI_MANIFEST,
        EMPTY_CONFIG,
        [],
        config_type=OCI_EMPTY,
        artifact_type="application/vnd.example.signature",
        subject=descriptor(OCI_MANIFEST, image.raw),
    )

    # when the artifact is PUT
    response = v2.put_manifest(repository, sha256(raw), raw, OCI_MANIFEST)

    # then the registry says it indexed the subject
    assert response.status_code == 201
    assert response.headers["OCI-Subject"] == image.digest


@pytest.mark.parametrize("by", ["tag", "digest"])
def test_pushing_the_same_manifest_twice_succeeds_both_times(
    v2: V2, repository: str, by: str
) -> None:
    # given a pushed image
    image = v2.push_image(repository, "same", [b"same layer"])
    reference = "same" if by == "tag" else image.digest

    # when the same bytes are pushed again
    again = v2.put_manifest(repository, reference, image.raw, OCI_MANIFEST)

    # then 201 again, with the same digest
    assert again.status_code == 201
    assert again.headers["Docker-Content-Digest"] == image.digest


def test_pushing_to_a_missing_repository_is_404_name_unknown(v2: V2) -> None:
    # when a client pushes to a repository that does not exist (create-on-push is off)
    upload = v2.post("/v2/never-created/blobs/uploads/")
    single = v2.post("/v2/never-created/blobs/uploads/", params={"digest": sha256(b"")}, data=b"")
    manifest = v2.put_manifest("never-created", "v1", b"{}", OCI_MANIFEST)

    # then 404 NAME_UNKNOWN every time
    for response in (upload, single, manifest):
        assert response.status_code == 404
        assert errors_of(response) == ["NAME_UNKNOWN"]


def test_create_on_push_creates_the_repository(fresh_server: Any) -> None:
    # given a server that creates repositories on push
    server = fresh_server(LAYERPORT_CREATE_ON_PUSH="true")
    v2 = V2(server, registry_login(server))

    # when an image is pushed to a name that does not exist yet
    image = v2.push_image("created/on-push", "v1", [b"first layer"])

    # then the repository exists, for both faces
    repositories = server.client().describe_repositories()["repositories"]
    assert [repo["repositoryName"] for repo in repositories] == ["created/on-push"]
    assert v2.get("/v2/created/on-push/manifests/v1").content == image.raw


def test_a_manifest_pushed_by_a_sha512_digest(v2: V2, repository: str) -> None:
    # given an image's manifest and its sha512 digest
    image = v2.push_image(repository, None, [b"sha512 manifest layer"])
    digest = "sha512:" + hashlib.sha512(image.raw).hexdigest()

    # when it is PUT under that digest
    response = v2.put_manifest(repository, digest, image.raw, OCI_MANIFEST)

    # then it is stored and served under that digest
    assert response.status_code == 201
    assert response.headers["Docker-Content-Digest"] == digest
    got = v2.get(f"/v2/{repository}/manifests/{digest}")
    assert (got.status_code, got.content) == (200, image.raw)


def test_a_descriptor_with_the_wrong_size_is_manifest_invalid(v2: V2, repository: str) -> None:
    # given a manifest that gives its layer one byte too many
    config = b'{"os":"linux"}'
    for blob in (config, b"sized layer"):
        v2.push_blob(repository, blob)
    doc = json.loads(image_manifest(OCI_MANIFEST, config, [b"sized layer"]))
    doc["layers"][0]["size"] += 1

    # when it is PUT
    response = v2.put_manifest(repository, "v1", json.dumps(doc).encode(), OCI_MANIFEST)

    # then 400 MANIFEST_INVALID
    assert response.status_code == 400
    assert errors_of(response) == ["MANIFEST_INVALID"]


def test_a_manifest_over_4_mib_is_413_size_invalid(v2: V2, repository: str) -> None:
    # given a manifest padded past ECR's 4 MiB limit
    config = b'{"os":"linux"}'
    v2.push_blob(repository, config)
    doc = json.loads(image_manifest(OCI_MANIFEST, config, []))
    doc["annotations"] = {"padding": "x" * (4 * 1024 * 1024)}

    # when it is PUT
    response = v2.put_manifest(repository, "big", json.dumps(doc).encode(), OCI_MANIFEST)

    # then 413 SIZE_INVALID
    assert response.status_code == 413
    assert errors_of(response) == ["SIZE_INVALID"]


def test_an_immutable_tag_is_not_moved(v2: V2, ecr: Any, repository: str) -> None:
    # given an immutable repository with a tagged image
    repository = f"{repository}-immutable"
    ecr.create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE")
    first = v2.push_image(repository, "v1", [b"first"])
    second = v2.push_image(repository, None, [b"second"])

    # when another manifest is pushed under the same tag
    response = v2.put_manifest(repository, "v1", second.raw, OCI_MANIFEST)

    # then ECR's refusal (docker prints "tag invalid: …") and the tag stays put
    assert response.status_code == 400
    assert errors_of(response) == ["TAG_INVALID"]
    assert "immutable" in response.json()["errors"][0]["message"]
    assert v2.get(f"/v2/{repository}/manifests/v1").content == first.raw
