"""SetRepositoryPolicy, GetRepositoryPolicy, DeleteRepositoryPolicy, and repository tags.

A repository policy is an IAM resource policy (see :mod:`layerport.auth.policy`):
it can let other accounts, particular users or anonymous callers act on the
repository, and it can deny.  It is validated when set, so a stored policy
always parses.
"""

from __future__ import annotations

from typing import Any

from layerport.auth.policy import Policy, PolicyError
from layerport.auth.principals import Principal
from layerport.errors import (
    InvalidParameterException,
    RepositoryNotFoundException,
    RepositoryPolicyNotFoundException,
)
from layerport.service.access import Access
from layerport.service.context import (
    ServiceContext,
    find_repository,
    not_found_message,
    resource_tags,
)
from layerport.store.metadata import Repository

_ARN_NAME = "repository/"


class RepositoryPolicies:
    """Repository policy and tag operations."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def set_repository_policy(
        self,
        caller: Principal,
        *,
        repository_name: str,
        policy_text: str,
        registry_id: str | None = None,
        force: bool | None = None,
    ) -> dict[str, Any]:
        """Attach a policy; one that would lock the caller out needs ``force``."""
        repository = await find_repository(
            self.ctx, caller, registry_id, repository_name, "SetRepositoryPolicy"
        )
        try:
            policy = Policy.parse(policy_text, resource_policy=True)
        except PolicyError as exc:
            raise InvalidParameterException(
                f"Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid "
                f"repository policy provided: {exc}'"
            ) from None
        # The account root may always act in its own account, so it cannot lock itself out.
        if not force and not Access.trusted(caller, repository.registry_id):
            await self._refuse_lockout(caller, repository, policy)
        await self.ctx.metadata.set_repository_policy(repository.id, policy_text)
        return self._answer(repository, policy_text)

    async def _refuse_lockout(
        self, caller: Principal, repository: Repository, policy: Policy
    ) -> None:
        """InvalidParameterException when ``policy`` would deny the caller the next change."""
        decision, _ = await self.ctx.access.decide(
            caller,
            "SetRepositoryPolicy",
            repository.registry_id,
            repository.name,
            repository,
            policy,
        )
        if not decision.allowed:
            raise InvalidParameterException(
                "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'The policy "
                "would prevent you from setting the repository policy in the future; set force "
                "to apply it anyway'"
            )

    async def get_repository_policy(
        self, caller: Principal, *, repository_name: str, registry_id: str | None = None
    ) -> dict[str, Any]:
        """The repository's policy text."""
        repository = await find_repository(
            self.ctx, caller, registry_id, repository_name, "GetRepositoryPolicy"
        )
        return self._answer(repository, self._policy_of(repository))

    async def delete_repository_policy(
        self, caller: Principal, *, repository_name: str, registry_id: str | None = None
    ) -> dict[str, Any]:
        """Remove the repository's policy; answers with the policy removed."""
        repository = await find_repository(
            self.ctx, caller, registry_id, repository_name, "DeleteRepositoryPolicy"
        )
        text = self._policy_of(repository)
        await self.ctx.metadata.set_repository_policy(repository.id, None)
        return self._answer(repository, text)

    @staticmethod
    def _policy_of(repository: Repository) -> str:
        if not repository.policy:
            raise RepositoryPolicyNotFoundException(
                f"Repository policy does not exist for the repository with name "
                f"'{repository.name}' in the registry with id '{repository.registry_id}'"
            )
        return repository.policy

    @staticmethod
    def _answer(repository: Repository, text: str) -> dict[str, Any]:
        return {
            "registry_id": repository.registry_id,
            "repository_name": repository.name,
            "policy_text": text,
        }

    async def _by_arn(self, caller: Principal, arn: str, action: str) -> Repository:
        """The repository an ARN names (``arn:aws:ecr:<region>:<registry>:repository/<name>``)."""
        parts = arn.split(":", 5)
        if (
            len(parts) != 6
            or parts[:3] != ["arn", "aws", "ecr"]
            or not parts[5].startswith(_ARN_NAME)
        ):
            raise InvalidParameterException(
                f"Invalid parameter at 'resourceArn' failed to satisfy constraint: 'not a "
                f"repository ARN: {arn}'"
            )
        registry, name = parts[4], parts[5][len(_ARN_NAME) :]
        if parts[3] != self.ctx.region:
            raise RepositoryNotFoundException(not_found_message(name, registry))
        return await find_repository(self.ctx, caller, registry, name, action)

    async def list_tags_for_resource(
        self, caller: Principal, *, resource_arn: str
    ) -> dict[str, Any]:
        """The repository's tags."""
        repository = await self._by_arn(caller, resource_arn, "ListTagsForResource")
        tags = await self.ctx.metadata.repository_tags(repository.id)
        return {"tags": [{"key": k, "value": v} for k, v in sorted(tags.items())]}

    async def tag_resource(
        self, caller: Principal, *, resource_arn: str, tags: list[dict[str, str]]
    ) -> dict[str, Any]:
        """Add or overwrite tags on a repository."""
        wanted = resource_tags(tags)
        repository = await self._by_arn(caller, resource_arn, "TagResource")
        current = await self.ctx.metadata.repository_tags(repository.id)
        current.update(wanted)
        await self.ctx.metadata.set_repository_tags(repository.id, current)
        return {}

    async def untag_resource(
        self, caller: Principal, *, resource_arn: str, tag_keys: list[str]
    ) -> dict[str, Any]:
        """Remove tags from a repository."""
        repository = await self._by_arn(caller, resource_arn, "UntagResource")
        current = await self.ctx.metadata.repository_tags(repository.id)
        for key in tag_keys:
            current.pop(key, None)
        await self.ctx.metadata.set_repository_tags(repository.id, current)
        return {}
