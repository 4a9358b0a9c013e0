"""BatchDeleteImage: failures per id, tags versus digests, indexes protect their children."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ecr.helpers import index_manifest, manifest_descriptor
from tests.media_types import DOCKER_LIST, DOCKER_MANIFEST
from tests.support import ACCOUNT_ID, push_image, sha256

PLATFORM = {"architecture": "amd64", "os": "linux"}


def listed(ecr: Any, repository: str) -> list[dict[str, str]]:
    """ListImages, sorted for comparison."""
    return sorted(ecr.list_images(repositoryName=repository)["imageIds"], key=str)


def test_deleting_by_digest_removes_the_image_and_all_its_tags(ecr: Any, repository: str) -> None:
    # given
    image = push_image(ecr, repository, [b"delete by digest"], tag="a")
    ecr.put_image(repositoryName=repository, imageManifest=image.manifest, imageTag="b")

    # when
    answer = ecr.batch_delete_image(
        repositoryName=repository, imageIds=[{"imageDigest": image.manifest_digest}]
    )

    # then
    assert answer["failures"] == []
    assert sorted(answer["imageIds"], key=str) == [
        {"imageDigest": image.manifest_digest, "imageTag": "a"},
        {"imageDigest": image.manifest_digest, "imageTag": "b"},
    ]
    assert listed(ecr, repository) == []


def test_deleting_one_of_two_tags_only_untags(ecr: Any, repository: str) -> None:
    # given
    image = push_image(ecr, repository, [b"untag one"], tag="a")
    ecr.put_image(repositoryName=repository, imageManifest=image.manifest, imageTag="b")

    # when
    answer = ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageTag": "a"}])

    # then
    assert answer["imageIds"] == [{"imageDigest": image.manifest_digest, "imageTag": "a"}]
    assert listed(ecr, repository) == [{"imageDigest": image.manifest_digest, "imageTag": "b"}]


def test_deleting_the_last_tag_deletes_the_image(ecr: Any, repository: str) -> None:
    # given
    image = push_image(ecr, repository, [b"last tag"], tag="only")

    # when
    answer = ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageTag": "only"}])

    # then
    assert answer["imageIds"] == [{"imageDigest": image.manifest_digest, "imageTag": "only"}]
    assert listed(ecr, repository) == []
    with pytest.raises(ecr.exceptions.ImageNotFoundException):
        ecr.describe_images(
            repositoryName=repository, imageIds=[{"imageDigest": image.manifest_digest}]
        )


def test_deleting_an_untagged_image_by_digest(ecr: Any, repository: str) -> None:
    # given
    image = push_image(ecr, repository, [b"untagged delete"], tag=None)

    # when
    answer = ecr.batch_delete_image(
        repositoryName=repository, imageIds=[{"imageDigest": image.manifest_digest}]
    )

    # then
    assert answer == {
        "imageIds": [{"imageDigest": image.manifest_digest}],
        "failures": [],
        "ResponseMetadata": answer["ResponseMetadata"],
    }
    assert listed(ecr, repository) == []


def test_each_id_that_cannot_be_deleted_is_a_failure_not_an_exception(
    ecr: Any, repository: str
) -> None:
    # given
    kept = push_image(ecr, repository, [b"kept image"], tag="kept")
    gone = push_image(ecr, repository, [b"deleted image"], tag="gone")
    unknown = sha256(b"never pushed")
    ids = [
        {"imageTag": "missing"},
        {"imageDigest": unknown},
        {"imageDigest": "md5:abc"},
        {"imageDigest": kept.manifest_digest, "imageTag": "gone"},
        {"imageTag": "gone"},
    ]

    # when
    answer = ecr.batch_delete_image(repositoryName=repository, imageIds=ids)

    # then
    assert answer["imageIds"] == [{"imageDigest": gone.manifest_digest, "imageTag": "gone"}]
    assert [(f["imageId"], f["failureCode"]) for f in answer["failures"]] == [
        ({"imageTag": "missing"}, "ImageNotFound"),
        ({"imageDigest": unknown}, "ImageNotFound"),
        ({"imageDigest": "md5:abc"}, "InvalidImageDigest"),
        (ids[3], "ImageTagDoesNotMatchDigest"),
    ]
    assert all(f["failureReason"] for f in answer["failures"])
    assert listed(ecr, repository) == [{"imageDigest": kept.manifest_digest, "imageTag": "kept"}]


def test_a_child_of_an_index_cannot_be_deleted(ecr: Any, repository: str) -> None:
    # given an index over one child
    child = push_image(ecr, repository, [b"child layer"], tag="child")
    index = index_manifest(
        [manifest_descriptor(child.manifest, DOCKER_MANIFEST, platform=PLATFORM)], DOCKER_LIST
    )
    ecr.put_image(repositoryName=repository, imageManifest=index, imageTag="multi")

    # when
    by_digest = ecr.batch_delete_image(
        repositoryName=repository, imageIds=[{"imageDigest": child.manifest_digest}]
    )
    by_last_tag = ecr.batch_delete_image(
        repositoryName=repository, imageIds=[{"imageTag": "child"}]
    )

    # then
    for answer in (by_digest, by_last_tag):
        assert answer["imageIds"] == []
        [failure] = answer["failures"]
        assert failure["failureCode"] == "ImageReferencedByManifestList"
        assert failure["failureReason"] == (
            f"Requested image referenced by manifest list: [{sha256(index.encode())}]"
        )
    assert {"imageDigest": child.manifest_digest, "imageTag": "child"} in listed(ecr, repository)


def test_a_child_can_be_deleted_once_its_index_is_gone(ecr: Any, repository: str) -> None:
    # given
    child = push_image(ecr, repository, [b"freed child"], tag=None)
    index = index_manifest(
        [manifest_descriptor(child.manifest, DOCKER_MANIFEST, platform=PLATFORM)], DOCKER_LIST
    )
    ecr.put_image(repositoryName=repository, imageManifest=index, imageTag="multi")
    ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageTag": "multi"}])

    # when
    answer = ecr.batch_delete_image(
        repositoryName=repository, imageIds=[{"imageDigest": child.manifest_digest}]
    )

    # then
    assert answer["failures"] == []
    assert listed(ecr, repository) == []


def test_batch_delete_image_in_a_missing_repository_is_refused(ecr: Any) -> None:
    # when
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException) as excinfo:
        ecr.batch_delete_image(repositoryName="deletes/nowhere", imageIds=[{"imageTag": "x"}])

    # then
    assert excinfo.value.response["Error"]["Message"] == (
        f"The repository with name 'deletes/nowhere' does not exist in the registry with id "
        f"'{ACCOUNT_ID}'"
    )
