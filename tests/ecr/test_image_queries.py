"""BatchGetImage, ListImages and DescribeImages through boto3."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.ecr.helpers import error_of, index_manifest, manifest_descriptor, put_oci_image
from tests.media_types import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from tests.support import ACCOUNT_ID, push_image, sha256

PLATFORM = {"architecture": "amd64", "os": "linux"}


# --- BatchGetImage ------------------------------------------------------------------------
def test_batch_get_image_by_tag_and_by_digest(ecr: Any, repository: str) -> None:
    # given
    image = push_image(ecr, repository, [b"batch get layer"], tag="v1")

    # when
    found = ecr.batch_get_image(
        repositoryName=repository,
        imageIds=[{"imageTag": "v1"}, {"imageDigest": image.manifest_digest}],
    )

    # then
    assert found["failures"] == []
    assert [i["imageId"] for i in found["images"]] == [
        {"imageDigest": image.manifest_digest, "imageTag": "v1"},
        {"imageDigest": image.manifest_digest},
    ]
    for got in found["images"]:
        assert got["imageManifest"] == image.manifest
        assert got["imageManifestMediaType"] == DOCKER_MANIFEST
        assert (got["registryId"], got["repositoryName"]) == (ACCOUNT_ID, repository)


def test_batch_get_image_reports_a_failure_per_id(ecr: Any, repository: str) -> None:
    # given
    image = push_image(ecr, repository, [b"failures layer"], tag="v1")
    unknown = sha256(b"no such manifest")
    ids = [
        {"imageTag": "v1"},
        {"imageTag": "missing"},
        {"imageDigest": unknown},
        {"imageDigest": "sha256:nothex"},
        {"imageDigest": image.manifest_digest, "imageTag": "other"},
    ]
    push_image(ecr, repository, [b"owner of other"], tag="other")

    # when
    found = ecr.batch_get_image(repositoryName=repository, imageIds=ids)

    # then
    assert [i["imageId"]["imageTag"] for i in found["images"]] == ["v1"]
    assert [(f["imageId"], f["failureCode"]) for f in found["failures"]] == [
        ({"imageTag": "missing"}, "ImageNotFound"),
        ({"imageDigest": unknown}, "ImageNotFound"),
        ({"imageDigest": "sha256:nothex"}, "InvalidImageDigest"),
        (ids[4], "ImageTagDoesNotMatchDigest"),
    ]
    assert found["failures"][0]["failureReason"] == "Requested image not found"


def test_batch_get_image_honours_accepted_media_types(ecr: Any, repository: str) -> None:
    # given an OCI image
    manifest = put_oci_image(ecr, repository, [b"accepted types layer"], "accepted")
    ident = {"imageDigest": sha256(manifest.encode())}

    # when
    accepted = ecr.batch_get_image(
        repositoryName=repository, imageIds=[ident], acceptedMediaTypes=[OCI_MANIFEST]
    )
    refused = ecr.batch_get_image(
        repositoryName=repository, imageIds=[ident], acceptedMediaTypes=[DOCKER_MANIFEST]
    )

    # then
    assert [i["imageManifest"] for i in accepted["images"]] == [manifest]
    assert accepted["images"][0]["imageManifestMediaType"] == OCI_MANIFEST
    assert refused["images"] == []
    assert [f["imageId"] for f in refused["failures"]] == [ident]


def test_batch_get_image_in_a_missing_repository_is_refused(ecr: Any) -> None:
    # when
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException) as excinfo:
        ecr.batch_get_image(repositoryName="queries/nowhere", imageIds=[{"imageTag": "x"}])

    # then
    assert "'queries/nowhere'" in error_of(excinfo)[1]


# --- ListImages ---------------------------------------------------------------------------
def test_list_images_lists_one_entry_per_tag_and_per_untagged_image(
    ecr: Any, repository: str
) -> None:
    # given one image with two tags and one untagged image
    tagged = push_image(ecr, repository, [b"tagged layer"], tag="a")
    ecr.put_image(repositoryName=repository, imageManifest=tagged.manifest, imageTag="b")
    untagged = push_image(ecr, repository, [b"untagged layer"], tag=None)

    # when
    every = ecr.list_images(repositoryName=repository)["imageIds"]
    only_tagged = ecr.list_images(repositoryName=repository, filter={"tagStatus": "TAGGED"})
    only_untagged = ecr.list_images(repositoryName=repository, filter={"tagStatus": "UNTAGGED"})

    # then
    tagged_ids = [
        {"imageDigest": tagged.manifest_digest, "imageTag": "a"},
        {"imageDigest": tagged.manifest_digest, "imageTag": "b"},
    ]
    assert sorted(every, key=str) == sorted(
        [*tagged_ids, {"imageDigest": untagged.manifest_digest}], key=str
    )
    assert sorted(only_tagged["imageIds"], key=str) == sorted(tagged_ids, key=str)
    assert only_untagged["imageIds"] == [{"imageDigest": untagged.manifest_digest}]


def test_list_images_pages_with_max_results_and_next_token(ecr: Any, repository: str) -> None:
    # given five tags
    image = push_image(ecr, repository, [b"paged layer"], tag="t0")
    for i in range(1, 5):
        ecr.put_image(repositoryName=repository, imageManifest=image.manifest, imageTag=f"t{i}")

    # when
    pages = list(
        ecr.get_paginator("list_images").paginate(
            repositoryName=repository, PaginationConfig={"PageSize": 2}
        )
    )

    # then
    assert [len(page["imageIds"]) for page in pages] == [2, 2, 1]
    tags = [i["imageTag"] for page in pages for i in page["imageIds"]]
    assert sorted(tags) == ["t0", "t1", "t2", "t3", "t4"]
    assert "nextToken" not in pages[-1]


def test_list_images_of_a_missing_repository_is_refused(ecr: Any) -> None:
    # when
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException) as excinfo:
        ecr.list_images(repositoryName="queries/absent")

    # then
    assert error_of(excinfo)[1] == (
        f"The repository with name 'queries/absent' does not exist in the registry with id "
        f"'{ACCOUNT_ID}'"
    )


# --- DescribeImages -----------------------------------------------------------------------
def test_describe_images_reports_size_push_time_tags_and_media_type(
    ecr: Any, repository: str
) -> None:
    # given
    layers = [b"a" * 1000, b"b" * 234]
    before = datetime.now(UTC) - timedelta(seconds=2)
    image = push_image(ecr, repository, layers, tag="v2")
    ecr.put_image(repositoryName=repository, imageManifest=image.manifest, imageTag="v1")
    after = datetime.now(UTC) + timedelta(seconds=2)

    # when
    details = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": "v2"}])[
        "imageDetails"
    ]

    # then
    assert len(details) == 1
    detail = details[0]
    assert detail["registryId"] == ACCOUNT_ID
    assert detail["repositoryName"] == repository
    assert detail["imageDigest"] == image.manifest_digest
    assert sorted(detail["imageTags"]) == ["v1", "v2"]
    assert detail["imageSizeInBytes"] == 1234
    assert before <= detail["imagePushedAt"] <= after
    assert detail["imageManifestMediaType"] == DOCKER_MANIFEST


@pytest.mark.parametrize("index_type", [DOCKER_LIST, OCI_INDEX])
def test_an_index_is_as_large_as_its_largest_child(
    ecr: Any, repository: str, index_type: str
) -> None:
    # given
    small = push_image(ecr, repository, [b"s" * 100], tag=None)
    large = push_image(ecr, repository, [b"l" * 300, b"m" * 50], tag=None)
    index = index_manifest(
        [
            manifest_descriptor(small.manifest, DOCKER_MANIFEST, platform=PLATFORM),
            manifest_descriptor(large.manifest, DOCKER_MANIFEST, platform=PLATFORM),
        ],
        index_type,
    )
    digest = ecr.put_image(repositoryName=repository, imageManifest=index, imageTag="idx")["image"][
        "imageId"
    ]["imageDigest"]

    # when
    detail = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": "idx"}])[
        "imageDetails"
    ][0]

    # then
    assert detail["imageDigest"] == digest
    assert detail["imageManifestMediaType"] == index_type
    assert detail["imageSizeInBytes"] == 350


def test_describe_images_without_ids_filters_and_pages(ecr: Any, repository: str) -> None:
    # given three tagged images and one untagged
    tagged = [push_image(ecr, repository, [f"img {i}".encode()], tag=f"v{i}") for i in range(3)]
    untagged = push_image(ecr, repository, [b"untagged"], tag=None)

    # when
    pages = list(
        ecr.get_paginator("describe_images").paginate(
            repositoryName=repository,
            filter={"tagStatus": "TAGGED"},
            PaginationConfig={"PageSize": 2},
        )
    )
    untagged_only = ecr.describe_images(
        repositoryName=repository, filter={"tagStatus": "UNTAGGED"}
    )["imageDetails"]

    # then
    assert [len(page["imageDetails"]) for page in pages] == [2, 1]
    digests = {d["imageDigest"] for page in pages for d in page["imageDetails"]}
    assert digests == {image.manifest_digest for image in tagged}
    assert [d["imageDigest"] for d in untagged_only] == [untagged.manifest_digest]
    assert "imageTags" not in untagged_only[0]


@pytest.mark.parametrize(
    ("ident", "shown"),
    [
        ({"imageTag": "nope"}, "imageDigest:'null', imageTag:'nope'"),
        (
            {"imageDigest": sha256(b"never pushed")},
            f"imageDigest:'{sha256(b'never pushed')}', imageTag:'null'",
        ),
    ],
)
def test_describe_images_of_a_missing_image_is_refused(
    ecr: Any, repository: str, ident: dict[str, str], shown: str
) -> None:
    # given
    push_image(ecr, repository, [b"present image"], tag="present")

    # when
    with pytest.raises(ecr.exceptions.ImageNotFoundException) as excinfo:
        ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": "present"}, ident])

    # then
    assert error_of(excinfo)[1] == (
        f"The image with imageId {{{shown}}} does not exist within the repository with name "
        f"'{repository}' in the registry with id '{ACCOUNT_ID}'"
    )
