"""OCI distribution spec, Content Discovery category: tags list, referrers, catalog."""

from __future__ import annotations

import sqlite3
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.media_types import OCI_EMPTY, OCI_INDEX, OCI_MANIFEST
from tests.registry.http_support import (
    EMPTY_CONFIG,
    V2,
    Image,
    basic_credentials,
    descriptor,
    errors_of,
    image_manifest,
)
from tests.support import Server, registry_login, sha256

SIGNATURE = "application/vnd.example.signature.v1"
SBOM = "application/vnd.example.sbom.v1"


@pytest.fixture
def v2(server: Server, registry_auth: tuple[str, str]) -> V2:
    return V2(server, registry_auth)


def _next(response: Any) -> dict[str, list[str]] | None:
    """The query of the ``Link: <…>; rel="next"`` URL, or None without one."""
    link = response.headers.get("Link")
    if link is None:
        return None
    target, _, relation = link.partition(";")
    assert relation.strip() == 'rel="next"', link
    assert target.startswith("<") and target.endswith(">"), link
    return parse_qs(urlsplit(target[1:-1]).query)


def test_tags_list_is_lexical_and_complete(v2: V2, repository: str) -> None:
    # given one image under tags pushed out of order
    image = v2.push_image(repository, "v2", [b"tagged"])
    for tag in ("v10", "alpha", "V1", "v1"):
        assert v2.put_manifest(repository, tag, image.raw, OCI_MANIFEST).status_code == 201

    # when the tags are listed
    response = v2.get(f"/v2/{repository}/tags/list")

    # then all of them, in lexical (byte) order, with no next page
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"name": repository, "tags": ["V1", "alpha", "v1", "v10", "v2"]}
    assert "Link" not in response.headers


def test_tags_list_pages_with_n_last_and_link(v2: V2, repository: str) -> None:
    # given five tags
    image = v2.push_image(repository, "t1", [b"paged"])
    for tag in ("t2", "t3", "t4", "t5"):
        v2.put_manifest(repository, tag, image.raw, OCI_MANIFEST)

    # when they are read two at a time, following the Link header
    pages = []
    query: dict[str, Any] = {"n": "2"}
    while True:
        response = v2.get(f"/v2/{repository}/tags/list", params=query)
        assert response.status_code == 200
        pages.append(response.json()["tags"])
        link = _next(response)
        if link is None:
            break
        # then each link asks for the same n after the page's last tag
        assert link == {"n": ["2"], "last": [pages[-1][-1]]}
        query = {key: values[0] for key, values in link.items()}

    assert pages == [["t1", "t2"], ["t3", "t4"], ["t5"]]


def test_tags_list_after_last_without_n(v2: V2, repository: str) -> None:
    # given three tags
    image = v2.push_image(repository, "a", [b"after"])
    for tag in ("b", "c"):
        v2.put_manifest(repository, tag, image.raw, OCI_MANIFEST)

    # when the list starts after "a", or has n=0
    after = v2.get(f"/v2/{repository}/tags/list", params={"last": "a"})
    exact = v2.get(f"/v2/{repository}/tags/list", params={"n": "3"})

    # then only what follows "a"; and a page that holds everything has no Link
    assert after.json()["tags"] == ["b", "c"]
    assert exact.json()["tags"] == ["a", "b", "c"]
    assert "Link" not in exact.headers


def test_tags_list_of_a_repository_without_tags(v2: V2, repository: str) -> None:
    # given a repository holding only an untagged image
    v2.push_image(repository, None, [b"untagged"])

    # when its tags are listed
    response = v2.get(f"/v2/{repository}/tags/list")

    # then 200 with an empty list
    assert response.status_code == 200
    assert response.json() == {"name": repository, "tags": []}


def test_tags_list_of_a_missing_repository(v2: V2) -> None:
    # when the tags of a repository that does not exist are listed
    response = v2.get("/v2/no-such-repository/tags/list")

    # then 404 NAME_UNKNOWN
    assert response.status_code == 404
    assert errors_of(response) == ["NAME_UNKNOWN"]


def _artifact(v2: V2, name: str, subject: Image, artifact_type: str, note: str) -> bytes:
    """Push an artifact manifest about ``subject``; return its bytes."""
    v2.push_blob(name, EMPTY_CONFIG)
    v2.push_blob(name, note.encode())
    raw = image_manifest(
        OCI_MANIFEST,
        EMPTY_CONFIG,
        [note.encode()],
        config_type=OCI_EMPTY,
        artifact_type=artifact_type,
        subject=descriptor(subject.media_type, subject.raw),
        annotations={"org.example.note": note},
    )
    assert v2.put_manifest(name, sha256(raw), raw, OCI_MANIFEST).status_code == 201
    return raw


def test_referrers_lists_every_manifest_about_a_subject(v2: V2, repository: str) -> None:
    # given an image with a signature and an SBOM attached
    image = v2.push_image(repository, "v1", [b"signed"])
    signature = _artifact(v2, repository, image, SIGNATURE, "signature")
    sbom = _artifact(v2, repository, image, SBOM, "sbom")

    # when its referrers are asked for
    response = v2.get(f"/v2/{repository}/referrers/{image.digest}")

    # then an OCI index lists both, with their artifact types and annotations
    assert response.status_code == 200
    assert response.headers["Content-Type"] == OCI_INDEX
    assert "OCI-Filters-Applied" not in response.headers
    body = response.json()
    assert (body["schemaVersion"], body["mediaType"]) == (2, OCI_INDEX)
    expected = [
        {
            **descriptor(OCI_MANIFEST, raw),
            "artifactType": artifact_type,
            "annotations": {"org.example.note": note},
        }
        for raw, artifact_type, note in ((signature, SIGNATURE, "signature"), (sbom, SBOM, "sbom"))
    ]
    assert sorted(body["manifests"], key=lambda d: d["digest"]) == sorted(
        expected, key=lambda d: d["digest"]
    )


def test_referrers_filtered_by_artifact_type(v2: V2, repository: str) -> None:
    # given an image with a signature and an SBOM attached
    image = v2.push_image(repository, "v1", [b"filtered"])
    _artifact(v2, repository, image, SIGNATURE, "signature")
    sbom = _artifact(v2, repository, image, SBOM, "sbom")

    # when only SBOMs are asked for
    response = v2.get(f"/v2/{repository}/referrers/{image.digest}", params={"artifactType": SBOM})

    # then only the SBOM comes back, and the registry says it filtered
    assert response.status_code == 200
    assert response.headers["OCI-Filters-Applied"] == "artifactType"
    assert [d["digest"] for d in response.json()["manifests"]] == [sha256(sbom)]


def test_a_referrer_without_artifact_type_is_typed_by_its_config(v2: V2, repository: str) -> None:
    # given an artifact that has no artifactType but a config of its own media type
    image = v2.push_image(repository, "v1", [b"typed by config"])
    config = b'{"signed": true}'
    v2.push_blob(repository, config)
    raw = image_manifest(
        OCI_MANIFEST,
        config,
        [],
        config_type="application/vnd.example.config.v1+json",
        subject=descriptor(OCI_MANIFEST, image.raw),
    )
    assert v2.put_manifest(repository, sha256(raw), raw, OCI_MANIFEST).status_code == 201

    # when the referrers are listed, and filtered by that type
    listed = v2.get(f"/v2/{repository}/referrers/{image.digest}")
    filtered = v2.get(
        f"/v2/{repository}/referrers/{image.digest}",
        params={"artifactType": "application/vnd.example.config.v1+json"},
    )

    # then its artifactType is the config's media type (the image spec's rule)
    assert listed.json()["manifests"] == [
        {**descriptor(OCI_MANIFEST, raw), "artifactType": "application/vnd.example.config.v1+json"}
    ]
    assert filtered.json()["manifests"] == listed.json()["manifests"]


@pytest.mark.parametrize("subject", ["pushed-without-referrers", "never-pushed"])
def test_referrers_of_a_digest_without_any(v2: V2, repository: str, subject: str) -> None:
    # given a digest nothing refers to (an image, or a digest the registry never saw)
    if subject == "pushed-without-referrers":
        digest = v2.push_image(repository, "lonely", [b"lonely"]).digest
    else:
        digest = sha256(b"never pushed")

    # when its referrers are asked for
    response = v2.get(f"/v2/{repository}/referrers/{digest}")

    # then 200 with an empty index, never 404
    assert response.status_code == 200
    assert response.headers["Content-Type"] == OCI_INDEX
    assert response.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}


def test_a_referrer_may_be_pushed_before_its_subject(v2: V2, repository: str) -> None:
    # given an artifact about an image that is not in the registry yet
    absent = Image(sha256(b"later"), OCI_MANIFEST, b"later", "", [])
    raw = _artifact(v2, repository, absent, SIGNATURE, "early")

    # when the referrers of that digest are asked for
    response = v2.get(f"/v2/{repository}/referrers/{absent.digest}")

    # then the artifact is already listed
    assert [d["digest"] for d in response.json()["manifests"]] == [sha256(raw)]


def test_catalog_pages_through_the_callers_repositories(v2: V2, ecr: Any) -> None:
    # given three repositories under a fresh prefix
    prefix = f"catalog-{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}/{suffix}" for suffix in ("a", "b", "c")]
    for name in reversed(names):
        ecr.create_repository(repositoryName=name)

    # when the catalog is read two at a time from just before the prefix
    first = v2.get("/v2/_catalog", params={"n": "2", "last": prefix})
    link = _next(first)
    assert link is not None
    second = v2.get("/v2/_catalog", params={key: values[0] for key, values in link.items()})

    # then the names come in lexical order, split across the pages by Link
    assert first.status_code == 200
    assert first.json() == {"repositories": names[:2]}
    assert link == {"n": ["2"], "last": [names[1]]}
    assert second.json()["repositories"][:1] == names[2:]


def test_catalog_lists_only_the_callers_registry(fresh_server: Any) -> None:
    # given a server with a second account that owns a repository
    server = fresh_server()
    other_key = "AKIAOTHERACCOUNT0001"
    with sqlite3.connect(server.data_dir / "layerport.db") as db:
        now = int(time.time() * 1000)
        db.execute("INSERT INTO accounts VALUES (?, ?)", ("111111111111", now))
        db.execute(
            "INSERT INTO access_keys (access_key_id, account_id, secret_access_key, active, "
            "created_ms) VALUES (?, ?, ?, 1, ?)",
            (other_key, "111111111111", "other-secret-0123456789", now),
        )
    other = server.client(
        aws_access_key_id=other_key, aws_secret_access_key="other-secret-0123456789"
    )
    other.create_repository(repositoryName="theirs")
    server.client().create_repository(repositoryName="mine")

    # when each account reads the catalog
    mine = V2(server, registry_login(server)).get("/v2/_catalog")
    token = other.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    theirs = V2(server, basic_credentials(token)).get("/v2/_catalog")

    # then each sees only its own registry
    assert mine.json() == {"repositories": ["mine"]}
    assert theirs.json() == {"repositories": ["theirs"]}


@pytest.mark.parametrize("n", ["-1", "many"])
def test_a_bad_page_size_is_refused(v2: V2, repository: str, n: str) -> None:
    # when a page size that is not a number of entries is asked for
    tags = v2.get(f"/v2/{repository}/tags/list", params={"n": n})
    catalog = v2.get("/v2/_catalog", params={"n": n})

    # then 400, in the spec's error shape
    for response in (tags, catalog):
        assert response.status_code == 400
        assert len(errors_of(response)) == 1
