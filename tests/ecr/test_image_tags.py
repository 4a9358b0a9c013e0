"""PutImage and tags: re-puts, new tags, tag moves and every tag mutability mode."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ecr.helpers import error_of
from tests.support import ACCOUNT_ID, push_image


def tags_of(ecr: Any, repository: str, digest: str) -> list[str]:
    """The tags DescribeImages reports for an image."""
    details = ecr.describe_images(repositoryName=repository, imageIds=[{"imageDigest": digest}])
    return sorted(details["imageDetails"][0].get("imageTags", []))


@pytest.mark.parametrize("tag", ["v1", None])
def test_putting_the_same_image_again_is_refused(
    ecr: Any, repository: str, tag: str | None
) -> None:
    # given
    image = push_image(ecr, repository, [b"pushed twice"], tag=tag)
    kwargs: dict[str, Any] = {"imageTag": tag} if tag else {}

    # when
    with pytest.raises(ecr.exceptions.ImageAlreadyExistsException) as excinfo:
        ecr.put_image(repositoryName=repository, imageManifest=image.manifest, **kwargs)

    # then
    shown = f" and tag '{tag}'" if tag else ""
    assert error_of(excinfo)[1] == (
        f"Image with digest '{image.manifest_digest}'{shown} already exists in the repository "
        f"with name '{repository}' in registry with id '{ACCOUNT_ID}'"
    )


def test_the_same_image_may_gain_another_tag(ecr: Any, repository: str) -> None:
    # given
    image = push_image(ecr, repository, [b"twice tagged"], tag="v1")

    # when
    ecr.put_image(repositoryName=repository, imageManifest=image.manifest, imageTag="stable")

    # then
    assert tags_of(ecr, repository, image.manifest_digest) == ["stable", "v1"]


def test_a_tag_moves_in_a_mutable_repository(ecr: Any, repository: str) -> None:
    # given
    old = push_image(ecr, repository, [b"old image"], tag="latest")
    new = push_image(ecr, repository, [b"new image"], tag=None)

    # when
    ecr.put_image(repositoryName=repository, imageManifest=new.manifest, imageTag="latest")

    # then
    assert tags_of(ecr, repository, new.manifest_digest) == ["latest"]
    assert tags_of(ecr, repository, old.manifest_digest) == []


def immutable_repository(ecr: Any, name: str, mode: str, pattern: str | None = None) -> str:
    """Create a repository with tag mutability ``mode`` (and one exclusion filter)."""
    kwargs: dict[str, Any] = {"repositoryName": name, "imageTagMutability": mode}
    if pattern:
        kwargs["imageTagMutabilityExclusionFilters"] = [
            {"filterType": "WILDCARD", "filter": pattern}
        ]
    ecr.create_repository(**kwargs)
    return name


@pytest.mark.parametrize(
    ("mode", "pattern", "tag", "immutable"),
    [
        ("IMMUTABLE", None, "v1", True),
        ("IMMUTABLE_WITH_EXCLUSION", "latest*", "v1", True),
        ("IMMUTABLE_WITH_EXCLUSION", "latest*", "latest-dev", False),
        ("MUTABLE_WITH_EXCLUSION", "release-*", "release-1", True),
        ("MUTABLE_WITH_EXCLUSION", "release-*", "dev", False),
    ],
)
def test_tag_mutability_decides_whether_a_tag_moves(
    ecr: Any, repository: str, mode: str, pattern: str | None, tag: str, immutable: bool
) -> None:
    # given
    name = immutable_repository(ecr, f"{repository}-x", mode, pattern)
    first = push_image(ecr, name, [b"first image"], tag=tag)
    second = push_image(ecr, name, [b"second image"], tag=None)

    # when
    if immutable:
        with pytest.raises(ecr.exceptions.ImageTagAlreadyExistsException) as excinfo:
            ecr.put_image(repositoryName=name, imageManifest=second.manifest, imageTag=tag)
        message = error_of(excinfo)[1]
    else:
        ecr.put_image(repositoryName=name, imageManifest=second.manifest, imageTag=tag)

    # then
    owner = first if immutable else second
    assert tags_of(ecr, name, owner.manifest_digest) == [tag]
    if immutable:
        what = "repository" if mode == "IMMUTABLE" else "tag"
        assert message == (
            f"The image tag '{tag}' already exists in the '{name}' repository and cannot be "
            f"overwritten because the {what} is immutable."
        )


def test_an_immutable_repository_still_allows_new_tags(ecr: Any, repository: str) -> None:
    # given
    name = immutable_repository(ecr, f"{repository}-imm", "IMMUTABLE")
    image = push_image(ecr, name, [b"immutable image"], tag="v1")

    # when
    ecr.put_image(repositoryName=name, imageManifest=image.manifest, imageTag="v1.0")

    # then
    assert tags_of(ecr, name, image.manifest_digest) == ["v1", "v1.0"]
