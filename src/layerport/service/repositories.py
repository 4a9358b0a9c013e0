"""CreateRepository, DescribeRepositories, DeleteRepository."""

from __future__ import annotations

import json
from typing import Any

from layerport.auth.principals import Principal
from layerport.errors import (
    AccessDeniedException,
    InvalidParameterException,
    RepositoryAlreadyExistsException,
    RepositoryNotEmptyException,
    RepositoryNotFoundException,
)
from layerport.service.context import (
    DEFAULT_PAGE,
    ServiceContext,
    authorize,
    decode_token,
    encode_token,
    find_repository,
    from_ms,
    not_found_message,
    registry_of,
    resource_tags,
)
from layerport.store.metadata import Repository, now_ms

_WITH_EXCLUSION = ("IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION")


class Repositories:
    """Repository operations; a registry id defaults to the caller's account."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def describe(self, repository: Repository) -> dict[str, Any]:
        """The ``Repository`` shape of a row."""
        ctx = self.ctx
        encryption: dict[str, Any] = {"encryption_type": repository.encryption_type}
        if repository.kms_key:
            encryption["kms_key"] = repository.kms_key
        out: dict[str, Any] = {
            "repository_arn": (
                f"arn:aws:ecr:{ctx.region}:{repository.registry_id}:repository/{repository.name}"
            ),
            "registry_id": repository.registry_id,
            "repository_name": repository.name,
            "repository_uri": f"{ctx.registry_host}/{repository.name}",
            "created_at": from_ms(repository.created_ms),
            "image_tag_mutability": repository.tag_mutability,
            "image_scanning_configuration": {"scan_on_push": repository.scan_on_push},
            "encryption_configuration": encryption,
        }
        if repository.tag_mutability_exclusions:
            out["image_tag_mutability_exclusion_filters"] = json.loads(
                repository.tag_mutability_exclusions
            )
        return out

    async def create_repository(
        self,
        caller: Principal,
        *,
        repository_name: str,
        registry_id: str | None = None,
        tags: list[dict[str, str]] | None = None,
        image_tag_mutability: str | None = None,
        image_tag_mutability_exclusion_filters: list[dict[str, str]] | None = None,
        image_scanning_configuration: dict[str, Any] | None = None,
        encryption_configuration: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create an empty repository."""
        registry = await authorize(
            self.ctx, caller, registry_id, "CreateRepository", repository_name
        )
        mutability = image_tag_mutability or "MUTABLE"
        filters = image_tag_mutability_exclusion_filters or []
        if mutability in _WITH_EXCLUSION and not filters:
            raise InvalidParameterException(
                f"Invalid parameter: imageTagMutabilityExclusionFilters are required when "
                f"imageTagMutability is {mutability}"
            )
        if filters and mutability not in _WITH_EXCLUSION:
            raise InvalidParameterException(
                "Invalid parameter: imageTagMutabilityExclusionFilters can only be used with "
                "IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION"
            )
        encryption = encryption_configuration or {}
        encryption_type = encryption.get("encryption_type", "AES256")
        kms_key = encryption.get("kms_key")
        if kms_key and encryption_type == "AES256":
            raise InvalidParameterException(
                "Invalid parameter: kmsKey can only be specified with encryptionType KMS or "
                "KMS_DSSE"
            )
        pairs = list(resource_tags(tags).items())
        row = Repository(
            id=0,
            registry_id=registry,
            name=repository_name,
            created_ms=now_ms(),
            tag_mutability=mutability,
            tag_mutability_exclusions=(
                json.dumps(
                    [{"filter_type": f["filter_type"], "filter": f["filter"]} for f in filters]
                )
                if filters
                else None
            ),
            scan_on_push=bool((image_scanning_configuration or {}).get("scan_on_push", False)),
            encryption_type=encryption_type,
            kms_key=kms_key,
        )
        await self.ctx.metadata.ensure_account(registry)
        created = await self.ctx.metadata.create_repository(row, pairs)
        if created is None:
            raise RepositoryAlreadyExistsException(
                f"The repository with name '{repository_name}' already exists in the registry "
                f"with id '{registry}'"
            )
        return {"repository": self.describe(created)}

    async def describe_repositories(
        self,
        caller: Principal,
        *,
        registry_id: str | None = None,
        repository_names: list[str] | None = None,
        next_token: str | None = None,
        max_results: int | None = None,
    ) -> dict[str, Any]:
        """List repositories, or describe the named ones (all of which must exist)."""
        registry = registry_of(self.ctx, caller, registry_id)
        if repository_names is not None:
            if next_token is not None or max_results is not None:
                raise InvalidParameterException(
                    "Invalid parameter: nextToken and maxResults cannot be used with "
                    "repositoryNames"
                )
            rows = await self.ctx.metadata.list_repositories(
                registry, repository_names, None, len(repository_names)
            )
            found = {row.name: row for row in rows}
            for name in repository_names:
                await self.ctx.access.check(
                    caller, "DescribeRepositories", registry, name, found.get(name)
                )
                if name not in found:
                    raise RepositoryNotFoundException(not_found_message(name, registry))
            ordered = [found[name] for name in dict.fromkeys(repository_names)]
            return {"repositories": [self.describe(row) for row in ordered]}
        if registry != caller.account_id:
            # Another account's registry can be listed by name only, where its
            # repository policies allow; a blanket listing is refused as IAM does.
            await self.ctx.access.check(caller, "DescribeRepositories", registry, None)
        limit = max_results or DEFAULT_PAGE
        after = decode_token(next_token)
        rows = await self.ctx.metadata.list_repositories(registry, None, after, limit + 1)
        shown = [row for row in rows[:limit] if await self.visible(caller, row)]
        out: dict[str, Any] = {"repositories": [self.describe(row) for row in shown]}
        if len(rows) > limit:
            out["next_token"] = encode_token(rows[limit - 1].name)
        return out

    async def visible(self, caller: Principal, repository: Repository) -> bool:
        """Whether a listing shows the repository to the caller (those it may describe)."""
        try:
            await self.ctx.access.check(
                caller, "DescribeRepositories", repository.registry_id, repository.name, repository
            )
        except AccessDeniedException:
            return False
        return True

    async def delete_repository(
        self,
        caller: Principal,
        *,
        repository_name: str,
        registry_id: str | None = None,
        force: bool | None = None,
    ) -> dict[str, Any]:
        """Delete a repository; one that holds images only with ``force``."""
        repository = await find_repository(
            self.ctx, caller, registry_id, repository_name, "DeleteRepository"
        )
        if not force and await self.ctx.metadata.count_images(repository.id):
            raise RepositoryNotEmptyException(
                f"The repository with name '{repository_name}' in registry with id "
                f"'{repository.registry_id}' cannot be deleted because it still contains images"
            )
        for upload_id in await self.ctx.metadata.delete_repository(repository.id):
            await self.ctx.blobs.discard(upload_id)
        return {"repository": self.describe(repository)}
