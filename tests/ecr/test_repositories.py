"""CreateRepository, DescribeRepositories, DeleteRepository through boto3."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.ecr.helpers import error_of
from tests.support import ACCOUNT_ID, REGION, Server, push_image

_unique = itertools.count()
NAME_PATTERN = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*"


def unique(stem: str) -> str:
    """A repository name no other test uses."""
    return f"repos/{stem}-{next(_unique)}-{datetime.now(UTC).strftime('%H%M%S%f')}"


def test_create_repository_answers_with_its_description(ecr: Any, server: Server) -> None:
    # given
    name = unique("created")
    before = datetime.now(UTC) - timedelta(seconds=5)

    # when
    repository = ecr.create_repository(repositoryName=name)["repository"]

    # then
    assert repository["repositoryName"] == name
    assert repository["registryId"] == ACCOUNT_ID
    assert repository["repositoryArn"] == f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/{name}"
    assert repository["repositoryUri"] == f"127.0.0.1:{server.port}/{name}"
    assert before <= repository["createdAt"] <= datetime.now(UTC) + timedelta(seconds=5)
    assert repository["imageTagMutability"] == "MUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": False}
    assert repository["encryptionConfiguration"] == {"encryptionType": "AES256"}


def test_create_repository_accepts_tags_and_echoes_its_settings(ecr: Any) -> None:
    # given
    name = unique("settings")
    key = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"

    # when
    repository = ecr.create_repository(
        repositoryName=name,
        tags=[{"Key": "team", "Value": "platform"}, {"Key": "env", "Value": ""}],
        imageTagMutability="IMMUTABLE",
        imageScanningConfiguration={"scanOnPush": True},
        encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key},
    )["repository"]

    # then
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": key}
    described = ecr.describe_repositories(repositoryNames=[name])["repositories"]
    assert described == [repository]


def test_create_repository_echoes_tag_mutability_exclusion_filters(ecr: Any) -> None:
    # given
    filters = [{"filterType": "WILDCARD", "filter": "latest*"}]

    # when
    repository = ecr.create_repository(
        repositoryName=unique("exclusions"),
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=filters,
    )["repository"]

    # then
    assert repository["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert repository["imageTagMutabilityExclusionFilters"] == filters


def test_with_exclusion_mode_without_filters_is_invalid(ecr: Any) -> None:
    # given
    name = unique("no-filters")

    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.create_repository(repositoryName=name, imageTagMutability="MUTABLE_WITH_EXCLUSION")

    # then
    assert "imageTagMutabilityExclusionFilters" in error_of(excinfo)[1]
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.describe_repositories(repositoryNames=[name])


def test_creating_an_existing_repository_is_refused(ecr: Any, repository: str) -> None:
    # given an existing repository

    # when
    with pytest.raises(ecr.exceptions.RepositoryAlreadyExistsException) as excinfo:
        ecr.create_repository(repositoryName=repository)

    # then
    assert error_of(excinfo)[1] == (
        f"The repository with name '{repository}' already exists in the registry with id "
        f"'{ACCOUNT_ID}'"
    )


@pytest.mark.parametrize("name", ["Upper/case", "trailing-", "a//b", "-lead", "sp ace"])
def test_a_malformed_repository_name_is_refused_in_ecr_words(ecr: Any, name: str) -> None:
    # given a name the model's pattern refuses (botocore checks only its length)

    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.create_repository(repositoryName=name)

    # then
    assert error_of(excinfo)[1] == (
        f"Invalid parameter at 'repositoryName' failed to satisfy constraint: "
        f"'must satisfy regular expression '{NAME_PATTERN}''"
    )


def test_describe_repositories_names_the_missing_repository(ecr: Any, repository: str) -> None:
    # given
    missing = unique("missing")

    # when
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException) as excinfo:
        ecr.describe_repositories(repositoryNames=[repository, missing])

    # then
    assert error_of(excinfo)[1] == (
        f"The repository with name '{missing}' does not exist in the registry with id "
        f"'{ACCOUNT_ID}'"
    )


def test_describe_repositories_by_name_keeps_the_request_order(ecr: Any) -> None:
    # given
    names = [unique("order-b"), unique("order-a")]
    for name in names:
        ecr.create_repository(repositoryName=name)

    # when
    found = ecr.describe_repositories(repositoryNames=names)["repositories"]

    # then
    assert [r["repositoryName"] for r in found] == names


def test_describe_repositories_pages_with_max_results_and_next_token(fresh_server: Any) -> None:
    # given a registry with exactly five repositories
    ecr = fresh_server().client()
    names = sorted(f"page/repo-{i}" for i in range(5))
    for name in names:
        ecr.create_repository(repositoryName=name)

    # when
    pages = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"maxResults": 2}
        if token:
            kwargs["nextToken"] = token
        page = ecr.describe_repositories(**kwargs)
        pages.append([r["repositoryName"] for r in page["repositories"]])
        token = page.get("nextToken")
        if not token:
            break

    # then
    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(itertools.chain(*pages)) == names


def test_the_paginator_lists_every_repository_once(ecr: Any) -> None:
    # given
    names = {unique("paginated") for _ in range(3)}
    for name in names:
        ecr.create_repository(repositoryName=name)

    # when
    seen = [
        repo["repositoryName"]
        for page in ecr.get_paginator("describe_repositories").paginate(
            PaginationConfig={"PageSize": 2}
        )
        for repo in page["repositories"]
    ]

    # then
    assert names <= set(seen)
    assert len(seen) == len(set(seen))


def test_max_results_cannot_be_combined_with_repository_names(ecr: Any, repository: str) -> None:
    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.describe_repositories(repositoryNames=[repository], maxResults=5)

    # then
    assert "repositoryNames" in error_of(excinfo)[1]


def test_max_results_out_of_range_is_refused_by_the_server(server: Server) -> None:
    # given a client that skips botocore's own range check
    ecr = server.client(config=Config(parameter_validation=False, retries={"max_attempts": 1}))

    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.describe_repositories(maxResults=1001)

    # then
    assert error_of(excinfo)[1] == (
        "Invalid parameter at 'maxResults' failed to satisfy constraint: "
        "'Member must have value less than or equal to 1000'"
    )


def test_a_token_the_registry_did_not_issue_is_refused(ecr: Any) -> None:
    # when
    with pytest.raises(ecr.exceptions.InvalidParameterException) as excinfo:
        ecr.describe_repositories(nextToken="not a token!")

    # then
    assert "nextToken" in error_of(excinfo)[1]


def test_delete_repository_removes_an_empty_repository(ecr: Any, repository: str) -> None:
    # when
    deleted = ecr.delete_repository(repositoryName=repository)["repository"]

    # then
    assert deleted["repositoryName"] == repository
    assert deleted["registryId"] == ACCOUNT_ID
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.describe_repositories(repositoryNames=[repository])


def test_delete_repository_refuses_a_repository_with_images(ecr: Any, repository: str) -> None:
    # given
    push_image(ecr, repository, [b"a layer that keeps the repository busy"])

    # when
    with pytest.raises(ecr.exceptions.RepositoryNotEmptyException) as excinfo:
        ecr.delete_repository(repositoryName=repository)

    # then
    assert error_of(excinfo)[1] == (
        f"The repository with name '{repository}' in registry with id '{ACCOUNT_ID}' cannot be "
        f"deleted because it still contains images"
    )
    assert ecr.describe_repositories(repositoryNames=[repository])["repositories"]


def test_delete_repository_with_force_deletes_images_and_layers(ecr: Any, repository: str) -> None:
    # given
    image = push_image(ecr, repository, [b"a layer that force removes"])

    # when
    ecr.delete_repository(repositoryName=repository, force=True)

    # then the name is free again and nothing of the old repository shows through
    ecr.create_repository(repositoryName=repository)
    assert ecr.list_images(repositoryName=repository)["imageIds"] == []
    layers = ecr.batch_check_layer_availability(
        repositoryName=repository, layerDigests=image.layer_digests
    )["layers"]
    assert [layer["layerAvailability"] for layer in layers] == ["UNAVAILABLE"]


def test_delete_repository_drops_open_uploads(ecr: Any, repository: str) -> None:
    # given
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    ecr.upload_layer_part(
        repositoryName=repository,
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=2,
        layerPartBlob=b"abc",
    )

    # when
    ecr.delete_repository(repositoryName=repository)
    ecr.create_repository(repositoryName=repository)

    # then
    with pytest.raises(ecr.exceptions.UploadNotFoundException):
        ecr.complete_layer_upload(
            repositoryName=repository, uploadId=upload_id, layerDigests=["sha256:" + "0" * 64]
        )


def test_delete_repository_names_the_missing_repository(ecr: Any) -> None:
    # given
    missing = unique("never-created")

    # when
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException) as excinfo:
        ecr.delete_repository(repositoryName=missing)

    # then
    assert error_of(excinfo)[1] == (
        f"The repository with name '{missing}' does not exist in the registry with id "
        f"'{ACCOUNT_ID}'"
    )


def test_repository_errors_are_client_errors_with_the_model_code(ecr: Any) -> None:
    # when
    with pytest.raises(ClientError) as excinfo:
        ecr.delete_repository(repositoryName=unique("plain-client-error"))

    # then
    assert excinfo.value.response["Error"]["Code"] == "RepositoryNotFoundException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
