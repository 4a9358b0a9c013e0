"""OCI distribution spec, Content Management category: deleting manifests, tags and blobs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.media_types import OCI_INDEX, OCI_MANIFEST
from tests.registry.http_support import V2, errors_of, index_manifest
from tests.support import Server, sha256


@pytest.fixture
def v2(server: Server, registry_auth: tuple[str, str]) -> V2:
    return V2(server, registry_auth)


def test_delete_a_manifest_by_digest(v2: V2, ecr: Any, repository: str) -> None:
    # given an image under a tag
    image = v2.push_image(repository, "doomed", [b"deleted layer"])

    # when it is deleted by digest
    response = v2.delete(f"/v2/{repository}/manifests/{image.digest}")

    # then 202, and neither the digest nor its tag can be pulled any more
    assert response.status_code == 202
    for reference in (image.digest, "doomed"):
        gone = v2.get(f"/v2/{repository}/manifests/{reference}")
        assert (gone.status_code, errors_of(gone)) == (404, ["MANIFEST_UNKNOWN"])
    assert ecr.list_images(repositoryName=repository)["imageIds"] == []
    again = v2.delete(f"/v2/{repository}/manifests/{image.digest}")
    assert (again.status_code, errors_of(again)) == (404, ["MANIFEST_UNKNOWN"])


def test_delete_by_tag_removes_only_the_tag(v2: V2, repository: str) -> None:
    # given one image under two tags
    image = v2.push_image(repository, "keep", [b"shared layer"])
    assert v2.put_manifest(repository, "drop", image.raw, OCI_MANIFEST).status_code == 201

    # when one tag is deleted
    response = v2.delete(f"/v2/{repository}/manifests/drop")

    # then 202; that tag is gone, the image and its other tag remain
    assert response.status_code == 202
    assert v2.get(f"/v2/{repository}/manifests/drop").status_code == 404
    assert v2.get(f"/v2/{repository}/manifests/keep").content == image.raw
    assert v2.get(f"/v2/{repository}/manifests/{image.digest}").status_code == 200
    assert v2.get(f"/v2/{repository}/tags/list").json()["tags"] == ["keep"]


def test_delete_several_tags(v2: V2, repository: str) -> None:
    # given one image under four tags
    image = v2.push_image(repository, "t1", [b"many tags"])
    for tag in ("t2", "t3", "t4"):
        v2.put_manifest(repository, tag, image.raw, OCI_MANIFEST)

    # when three of them are deleted
    statuses = [
        v2.delete(f"/v2/{repository}/manifests/{tag}").status_code for tag in ["t1", "t3", "t4"]
    ]

    # then each delete is 202 and one tag is left on the still pullable image
    assert statuses == [202, 202, 202]
    assert v2.get(f"/v2/{repository}/tags/list").json()["tags"] == ["t2"]
    assert v2.head(f"/v2/{repository}/manifests/{image.digest}").status_code == 200


@pytest.mark.parametrize("reference", ["never-tagged", "sha256:" + "1" * 64])
def test_delete_an_unknown_manifest(v2: V2, repository: str, reference: str) -> None:
    # when a tag or digest that was never pushed is deleted
    response = v2.delete(f"/v2/{repository}/manifests/{reference}")

    # then 404 MANIFEST_UNKNOWN
    assert response.status_code == 404
    assert errors_of(response) == ["MANIFEST_UNKNOWN"]


def test_delete_in_a_missing_repository(v2: V2) -> None:
    # when a manifest is deleted in a repository that does not exist
    response = v2.delete(f"/v2/no-such-repository/manifests/{sha256(b'x')}")

    # then 404 NAME_UNKNOWN
    assert response.status_code == 404
    assert errors_of(response) == ["NAME_UNKNOWN"]


def test_a_manifest_an_index_lists_cannot_be_deleted_first(v2: V2, repository: str) -> None:
    # given an index over one image
    image = v2.push_image(repository, None, [b"child"])
    raw = index_manifest(OCI_INDEX, [(image, "amd64")])
    v2.put_manifest(repository, "index", raw, OCI_INDEX)

    # when the child is deleted before the index, then after it
    refused = v2.delete(f"/v2/{repository}/manifests/{image.digest}")
    index_gone = v2.delete(f"/v2/{repository}/manifests/{sha256(raw)}")
    child_gone = v2.delete(f"/v2/{repository}/manifests/{image.digest}")

    # then the first is refused (the index would dangle), the others are 202
    assert refused.status_code == 403
    assert errors_of(refused) == ["DENIED"]
    assert (index_gone.status_code, child_gone.status_code) == (202, 202)


def test_delete_an_unreferenced_blob(v2: V2, repository: str) -> None:
    # given a blob no image uses
    digest = v2.push_blob(repository, b"unused blob")

    # when it is deleted
    response = v2.delete(f"/v2/{repository}/blobs/{digest}")

    # then 202, and it is gone
    assert response.status_code == 202
    assert v2.head(f"/v2/{repository}/blobs/{digest}").status_code == 404
    again = v2.delete(f"/v2/{repository}/blobs/{digest}")
    assert (again.status_code, errors_of(again)) == (404, ["BLOB_UNKNOWN"])


@pytest.mark.parametrize("which", ["layer", "config"])
def test_a_blob_an_image_uses_cannot_be_deleted(v2: V2, repository: str, which: str) -> None:
    # given an image
    image = v2.push_image(repository, "v1", [b"used layer"])
    digest = image.layer_digests[0] if which == "layer" else image.config_digest

    # when one of its blobs is deleted
    response = v2.delete(f"/v2/{repository}/blobs/{digest}")

    # then the delete is refused and the image still pulls whole
    assert response.status_code == 403
    assert errors_of(response) == ["DENIED"]
    assert v2.head(f"/v2/{repository}/blobs/{digest}").status_code == 200
    assert v2.get(f"/v2/{repository}/blobs/{digest}").status_code == 307


def test_a_blob_is_free_once_its_image_is_deleted(v2: V2, repository: str) -> None:
    # given an image that was deleted
    image = v2.push_image(repository, "v1", [b"freed layer"])
    assert v2.delete(f"/v2/{repository}/manifests/{image.digest}").status_code == 202

    # when its layer is deleted
    response = v2.delete(f"/v2/{repository}/blobs/{image.layer_digests[0]}")

    # then 202
    assert response.status_code == 202


def test_delete_an_unknown_blob(v2: V2, repository: str) -> None:
    # when a blob the repository never had is deleted
    response = v2.delete(f"/v2/{repository}/blobs/{sha256(b'never there')}")

    # then 404 BLOB_UNKNOWN
    assert response.status_code == 404
    assert errors_of(response) == ["BLOB_UNKNOWN"]
