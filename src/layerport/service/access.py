"""Authorization: may this caller perform this ECR action on this repository?

Every operation asks here before it reads or changes anything, on both faces.
The account root acting in its own account is allowed at once (no query);
everyone else is judged by :func:`layerport.auth.policy.decide` against the
user's identity policies and the repository's policy, read from the store on
each request: a policy change or a deleted user takes effect immediately.
"""

from __future__ import annotations

from layerport.auth.policy import Decision, Policy, Request, decide, repository_arn
from layerport.auth.principals import Principal
from layerport.errors import AccessDeniedException
from layerport.store.metadata import MetadataStore, Repository


class Access:
    """Decides, and raises AccessDeniedException with AWS's wording when the answer is no.

    metadata: where policies, tags and repositories are read.
    region: the region in repository ARNs.
    """

    def __init__(self, metadata: MetadataStore, region: str) -> None:
        self.metadata = metadata
        self.region = region

    @staticmethod
    def trusted(caller: Principal, registry_id: str) -> bool:
        """Whether the caller is the root of the registry's own account (allowed anything)."""
        return caller.is_root and caller.account_id == registry_id

    async def check(
        self,
        caller: Principal,
        action: str,
        registry_id: str,
        name: str | None,
        repository: Repository | None = None,
    ) -> Repository | None:
        """Allow or raise; returns the repository it loaded (None if there is none)."""
        if name is not None and repository is None and not self.trusted(caller, registry_id):
            repository = await self.metadata.get_repository(registry_id, name)
        if self.trusted(caller, registry_id):
            return repository
        resource_policy = (
            Policy.parse(repository.policy, resource_policy=True)
            if repository is not None and repository.policy
            else None
        )
        decision, resource = await self.decide(
            caller, action, registry_id, name, repository, resource_policy
        )
        if not decision.allowed:
            who = caller.arn or "anonymous"
            raise AccessDeniedException(
                f"User: {who} is not authorized to perform: ecr:{action} on resource: "
                f"{resource} {decision.reason}"
            )
        return repository

    async def decide(
        self,
        caller: Principal,
        action: str,
        registry_id: str,
        name: str | None,
        repository: Repository | None,
        resource_policy: Policy | None,
    ) -> tuple[Decision, str]:
        """IAM's decision under ``resource_policy`` (which may be a policy not yet stored)."""
        identity: list[Policy] = []
        if not caller.anonymous and caller.user_name is not None:
            identity = [
                Policy.parse(text)
                for text in await self.metadata.user_policies(caller.account_id, caller.user_name)
            ]
        policies = [*identity, *([resource_policy] if resource_policy else [])]
        needs_tags = repository is not None and any(p.mentions_resource_tags for p in policies)
        tags = (
            await self.metadata.repository_tags(repository.id) if repository and needs_tags else {}
        )
        # GetAuthorizationToken is the one ECR action on no resource ("*").
        resource = (
            "*"
            if action == "GetAuthorizationToken"
            else repository_arn(self.region, registry_id, name or "*")
        )
        request = Request(
            principal_account=None if caller.anonymous else caller.account_id,
            principal_arn=caller.arn,
            action=f"ecr:{action}",
            resource=resource,
            resource_account=registry_id,
            resource_tags=tags,
        )
        return decide(request, identity, resource_policy), resource
