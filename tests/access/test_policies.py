"""Repository policies and identity policies as IAM evaluates them, through boto3 and ``/v2/``.

Set/Get/DeleteRepositoryPolicy, validation and the lock-out guard; explicit
deny; same-account and cross-account rules; conditions on the caller's account
and on repository tags; resource wildcards and NotAction in identity policies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.access.support import (
    Who,
    admin_in_process,
    allow,
    assert_denied,
    assert_v2_denied,
    code_of,
    new_key,
    new_user,
    policy,
    repo_arn,
    server_admin,
    started,
    unique,
    v2,
)
from tests.support import PushedImage, Server, push_image

B = "222222222222"
C = "333333333333"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
TOKEN = allow("ecr:GetAuthorizationToken")


def resource_policy(*statements: dict[str, Any]) -> str:
    """A repository policy with these statements."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def grant(principal: Any, actions: Any, effect: str = "Allow", **extra: Any) -> Any:
    """A repository-policy statement."""
    return {"Effect": effect, "Principal": principal, "Action": actions, **extra}


@dataclass
class Setup:
    """The module's server and principals."""

    server: Server
    a: str
    root: Who
    admin_user: Who
    reader: Who
    bare: Who
    b_root: Who
    c_root: Who
    b_user: Who
    b_bare: Who

    def repo(self, policy_text: str | None = None, tags: dict[str, str] | None = None) -> str:
        """A new repository in A holding one image (``latest``), with a policy and tags."""
        ecr = self.root.ecr(self.server)
        name = unique("policies/repo-")
        ecr.create_repository(
            repositoryName=name, tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()]
        )
        push_image(ecr, name, [name.encode()])
        if policy_text is not None:
            ecr.set_repository_policy(repositoryName=name, policyText=policy_text)
        return name


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """One server with accounts A (default), B and C, and their principals."""
    with started(tmp_path_factory.mktemp("access-policies") / "data") as server:
        a = server.account_id
        for account in (B, C):
            admin_in_process(server, "create-account", "--account-id", account)
        fast = admin_in_process
        yield Setup(
            server=server,
            a=a,
            root=server_admin(server),
            admin_user=new_user(server, a, "admin-user", policy(allow("ecr:*")), run=fast),
            reader=new_user(
                server, a, "reader", policy(allow([*PULL, "ecr:Describe*"]), TOKEN), run=fast
            ),
            bare=new_user(server, a, "bare", run=fast),
            b_root=new_key(server, B, run=fast),
            c_root=new_key(server, C, run=fast),
            b_user=new_user(
                server,
                B,
                "builder",
                policy(allow("ecr:*", f"arn:aws:ecr:*:{a}:repository/*")),
                run=fast,
            ),
            b_bare=new_user(server, B, "b-bare", run=fast),
        )


def make_user(s: Setup, stem: str, document: str) -> Who:
    """A new user of A with this identity policy, and its key."""
    return new_user(s.server, s.a, unique(stem), document, run=admin_in_process)


def pull(s: Setup, who: Who, repo: str, *, cross: bool = False) -> dict[str, Any]:
    """BatchGetImage of ``latest`` as ``who``."""
    extra = {"registryId": s.a} if cross else {}
    result: dict[str, Any] = who.ecr(s.server).batch_get_image(
        repositoryName=repo, imageIds=[{"imageTag": "latest"}], **extra
    )
    assert len(result["images"]) == 1, result
    return result


def denied(s: Setup, who: Who, repo: str, *, cross: bool = False) -> str:
    """BatchGetImage as ``who`` must be denied; returns the message."""
    with pytest.raises(ClientError) as excinfo:
        pull(s, who, repo, cross=cross)
    assert_denied(excinfo, "BatchGetImage", repo_arn(s.a, repo))
    return str(excinfo.value.response["Error"]["Message"])


# --- Set / Get / DeleteRepositoryPolicy ---------------------------------------------------------
def test_set_get_and_delete_a_repository_policy(setup: Setup) -> None:
    # given a repository without a policy
    ecr = setup.root.ecr(setup.server)
    name = setup.repo()
    text = resource_policy(grant({"AWS": f"arn:aws:iam::{B}:root"}, PULL, Sid="BPulls"))

    # when a policy is set, read back and deleted
    set_answer = ecr.set_repository_policy(repositoryName=name, policyText=text)
    got = ecr.get_repository_policy(repositoryName=name)
    deleted = ecr.delete_repository_policy(repositoryName=name)

    # then each answer names the registry, the repository and the policy text
    for answer in (set_answer, got, deleted):
        assert answer["registryId"] == setup.a
        assert answer["repositoryName"] == name
        assert json.loads(answer["policyText"]) == json.loads(text)
    with pytest.raises(ClientError) as excinfo:
        ecr.get_repository_policy(repositoryName=name)
    assert code_of(excinfo) == "RepositoryPolicyNotFoundException"
    assert name in str(excinfo.value) and setup.a in str(excinfo.value)
    with pytest.raises(ClientError) as excinfo:
        ecr.delete_repository_policy(repositoryName=name)
    assert code_of(excinfo) == "RepositoryPolicyNotFoundException"


def test_a_repository_without_a_policy_has_none_to_get(setup: Setup) -> None:
    # when
    with pytest.raises(ClientError) as excinfo:
        setup.root.ecr(setup.server).get_repository_policy(repositoryName=setup.repo())

    # then
    assert code_of(excinfo) == "RepositoryPolicyNotFoundException"


def test_policy_operations_on_a_missing_repository(setup: Setup) -> None:
    # when
    with pytest.raises(ClientError) as excinfo:
        setup.root.ecr(setup.server).set_repository_policy(
            repositoryName="policies/nothing-here", policyText=resource_policy()
        )

    # then
    assert code_of(excinfo) == "RepositoryNotFoundException"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        json.dumps({"Version": "2012-10-17"}),
        json.dumps({"Version": "2099-01-01", "Statement": [grant("*", "ecr:*")]}),
        resource_policy({"Effect": "Maybe", "Principal": "*", "Action": "ecr:*"}),
        resource_policy({"Effect": "Allow", "Principal": "*"}),
        resource_policy({"Effect": "Allow", "Principal": {"Service": "x"}, "Action": "ecr:*"}),
        resource_policy(grant("*", "ecr:*", Condition={"NumericGreaterThan": {"a": "1"}})),
        resource_policy(grant("*", [1, 2])),
    ],
    ids=[
        "not-json",
        "not-an-object",
        "no-statement",
        "bad-version",
        "bad-effect",
        "no-action",
        "bad-principal",
        "unsupported-condition",
        "action-not-strings",
    ],
)
def test_an_invalid_policy_is_an_invalid_parameter(setup: Setup, text: str) -> None:
    # given
    ecr = setup.root.ecr(setup.server)
    name = setup.repo()

    # when
    with pytest.raises(ClientError) as excinfo:
        ecr.set_repository_policy(repositoryName=name, policyText=text)

    # then nothing was stored
    assert code_of(excinfo) == "InvalidParameterException"
    assert "PolicyText" in str(excinfo.value)
    with pytest.raises(ClientError):
        ecr.get_repository_policy(repositoryName=name)


def test_a_policy_that_would_lock_the_caller_out_needs_force(setup: Setup) -> None:
    # given a user allowed ecr:* by its identity policy, and a policy denying it the next change
    name = setup.repo()
    ecr = setup.admin_user.ecr(setup.server)
    lockout = resource_policy(
        grant({"AWS": setup.admin_user.arn}, "ecr:SetRepositoryPolicy", effect="Deny")
    )

    # when it sets that policy without force, then it is refused and nothing changes
    with pytest.raises(ClientError) as excinfo:
        ecr.set_repository_policy(repositoryName=name, policyText=lockout)
    assert code_of(excinfo) == "InvalidParameterException"
    assert "force" in str(excinfo.value)
    with pytest.raises(ClientError):
        ecr.get_repository_policy(repositoryName=name)

    # when it sets it with force, then it is applied, and it is locked out from then on
    ecr.set_repository_policy(repositoryName=name, policyText=lockout, force=True)
    assert json.loads(ecr.get_repository_policy(repositoryName=name)["policyText"]) == json.loads(
        lockout
    )
    with pytest.raises(ClientError) as excinfo:
        ecr.set_repository_policy(repositoryName=name, policyText=resource_policy(), force=True)
    assert_denied(excinfo, "SetRepositoryPolicy", repo_arn(setup.a, name))
    assert "explicit deny in a resource-based policy" in str(excinfo.value)


def test_a_harmless_policy_needs_no_force(setup: Setup) -> None:
    # given a policy that leaves the caller's own rights alone
    name = setup.repo()
    text = resource_policy(grant({"AWS": B}, PULL))

    # when / then
    setup.admin_user.ecr(setup.server).set_repository_policy(repositoryName=name, policyText=text)


def test_setting_a_policy_needs_its_own_permission(setup: Setup) -> None:
    # given a reader (Describe*, pulls)
    name = setup.repo()

    # when it tries to set or read a policy
    for call in ("set_repository_policy", "get_repository_policy", "delete_repository_policy"):
        kwargs: dict[str, Any] = {"repositoryName": name}
        if call == "set_repository_policy":
            kwargs["policyText"] = resource_policy(grant("*", "ecr:*"))
        with pytest.raises(ClientError) as excinfo:
            getattr(setup.reader.ecr(setup.server), call)(**kwargs)

        # then each is denied under its own action
        action = "".join(part.title() for part in call.split("_"))
        assert_denied(excinfo, action, repo_arn(setup.a, name))


# --- explicit deny, same-account and cross-account rules -----------------------------------------
def test_an_explicit_deny_in_the_repository_policy_beats_identity_allows(setup: Setup) -> None:
    # given a repository whose policy denies pulls to the admin user and the reader
    name = setup.repo(
        resource_policy(
            grant({"AWS": [setup.admin_user.arn, setup.reader.arn]}, PULL[:2], effect="Deny")
        )
    )

    # when they pull, on both faces
    messages = [denied(setup, who, name) for who in (setup.admin_user, setup.reader)]
    response = v2(setup.server, setup.reader).get(f"/v2/{name}/manifests/latest")

    # then the deny wins over their identity allows (ecr:*, and the reader's pull actions)
    for message in messages:
        assert message.endswith("with an explicit deny in a resource-based policy")
    assert_v2_denied(response, "BatchGetImage")
    # and what the deny does not name still works
    setup.admin_user.ecr(setup.server).list_images(repositoryName=name)
    setup.reader.ecr(setup.server).describe_images(repositoryName=name)


def test_an_explicit_deny_in_an_identity_policy_beats_the_repository_allow(setup: Setup) -> None:
    # given a user whose identity policy denies pulls, on a repository whose policy allows it
    user = make_user(
        setup,
        "self-denied-",
        policy(allow("ecr:*"), {"Effect": "Deny", "Action": "ecr:BatchGetImage", "Resource": "*"}),
    )
    name = setup.repo(resource_policy(grant({"AWS": user.arn}, PULL)))

    # when it pulls, then
    message = denied(setup, user, name)
    assert message.endswith("with an explicit deny in an identity-based policy")


def test_the_account_root_is_not_bound_by_its_repository_policy(setup: Setup) -> None:
    # given a repository whose policy denies everyone everything
    name = setup.repo(resource_policy(grant("*", "ecr:*", effect="Deny")))

    # when the account root pulls (it may always act in its own account), then it may
    pull(setup, setup.root, name)
    # and the admin user may not
    denied(setup, setup.admin_user, name)


def test_in_one_account_either_policy_is_enough(setup: Setup) -> None:
    # given a user with no identity policy at all
    allowed = setup.repo(resource_policy(grant({"AWS": setup.bare.arn}, PULL)))
    other = setup.repo()

    # when it pulls from a repository whose policy names it, and from one that does not
    pull(setup, setup.bare, allowed)
    message = denied(setup, setup.bare, other)

    # then the repository policy alone was enough; nothing allowed the other
    assert message.endswith("because no identity-based policy allows the ecr:BatchGetImage action")


def test_across_accounts_both_policies_must_allow(setup: Setup) -> None:
    # given a repository shared with B's builder and B's bare user (no identity policy)
    shared = setup.repo(resource_policy(grant({"AWS": [setup.b_user.arn, setup.b_bare.arn]}, PULL)))
    unshared = setup.repo()

    # when B's users pull
    pull(setup, setup.b_user, shared, cross=True)
    no_identity = denied(setup, setup.b_bare, shared, cross=True)
    no_resource = denied(setup, setup.b_user, unshared, cross=True)

    # then only the one both policies allow succeeds
    assert no_identity.endswith(
        "because no identity-based policy allows the ecr:BatchGetImage action"
    )
    assert no_resource.endswith(
        "because no resource-based policy allows the ecr:BatchGetImage action"
    )


def test_another_account_may_not_list_a_registry_but_may_describe_what_is_shared(
    setup: Setup,
) -> None:
    # given a repository that lets B describe it
    name = setup.repo(resource_policy(grant({"AWS": B}, "ecr:DescribeRepositories")))
    ecr = setup.b_root.ecr(setup.server)

    # when B lists A's registry, and describes the repository by name
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_repositories(registryId=setup.a)
    found = ecr.describe_repositories(registryId=setup.a, repositoryNames=[name])

    # then
    assert_denied(excinfo, "DescribeRepositories", repo_arn(setup.a, "*"))
    assert [r["repositoryName"] for r in found["repositories"]] == [name]


def test_anonymous_pulls_need_a_policy_for_star(setup: Setup) -> None:
    # given a repository shared with account B only, and one shared with "*"
    for_b = setup.repo(resource_policy(grant({"AWS": B}, PULL)))
    for_all = setup.repo(resource_policy(grant("*", PULL)))

    # when an anonymous client pulls each
    closed = v2(setup.server, None).get(f"/v2/{for_b}/manifests/latest")
    opened = v2(setup.server, None).get(f"/v2/{for_all}/manifests/latest")

    # then only "*" lets it in
    assert closed.status_code == 401
    assert opened.status_code == 200, opened.text


# --- conditions ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalAccount": B}},
        {"StringLike": {"aws:PrincipalAccount": "22*"}},
    ],
    ids=["StringEquals", "StringLike"],
)
def test_a_condition_on_the_callers_account(setup: Setup, condition: dict[str, Any]) -> None:
    # given a repository any principal may pull from, if its account matches
    name = setup.repo(resource_policy(grant("*", PULL, Condition=condition)))

    # when B's root, C's root and an anonymous client pull
    pull(setup, setup.b_root, name, cross=True)
    denied(setup, setup.c_root, name, cross=True)
    anonymous = v2(setup.server, None).get(f"/v2/{name}/manifests/latest")

    # then only B gets in (an anonymous caller has no account to match)
    assert anonymous.status_code == 401


def _tag(setup: Setup, name: str, **tags: str) -> None:
    setup.root.ecr(setup.server).tag_resource(
        resourceArn=repo_arn(setup.a, name), tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )


def test_tag_untag_and_list_tags_for_a_repository(setup: Setup) -> None:
    # given
    ecr = setup.root.ecr(setup.server)
    name = setup.repo(tags={"owner": "ops"})
    arn = repo_arn(setup.a, name)

    # when tags are added, overwritten and removed
    ecr.tag_resource(resourceArn=arn, tags=[{"Key": "team", "Value": "blue"}])
    ecr.tag_resource(resourceArn=arn, tags=[{"Key": "owner", "Value": "dev"}])
    after_tagging = ecr.list_tags_for_resource(resourceArn=arn)["tags"]
    ecr.untag_resource(resourceArn=arn, tagKeys=["owner", "absent"])
    after_untagging = ecr.list_tags_for_resource(resourceArn=arn)["tags"]

    # then
    assert after_tagging == [{"Key": "owner", "Value": "dev"}, {"Key": "team", "Value": "blue"}]
    assert after_untagging == [{"Key": "team", "Value": "blue"}]


def test_tag_operations_are_authorized_on_the_repository_arn(setup: Setup) -> None:
    # given a reader (no tag actions)
    name = setup.repo()
    arn = repo_arn(setup.a, name)
    ecr = setup.reader.ecr(setup.server)

    # when it tags, untags and lists, then each is denied under its own action and the ARN
    calls: dict[str, Callable[[], Any]] = {
        "TagResource": lambda: ecr.tag_resource(resourceArn=arn, tags=[{"Key": "k", "Value": "v"}]),
        "UntagResource": lambda: ecr.untag_resource(resourceArn=arn, tagKeys=["k"]),
        "ListTagsForResource": lambda: ecr.list_tags_for_resource(resourceArn=arn),
    }
    for action, call in calls.items():
        with pytest.raises(ClientError) as excinfo:
            call()
        assert_denied(excinfo, action, arn)


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"ecr:ResourceTag/team": "blue"}},
        {"StringLike": {"ecr:ResourceTag/team": "bl*"}},
    ],
    ids=["StringEquals", "StringLike"],
)
def test_an_identity_policy_conditioned_on_a_repository_tag(
    setup: Setup, condition: dict[str, Any]
) -> None:
    # given a user allowed to pull from repositories tagged team=blue
    user = make_user(setup, "blue-", policy(allow(PULL, Condition=condition)))
    blue = setup.repo(tags={"team": "blue"})
    red = setup.repo(tags={"team": "red"})
    untagged = setup.repo()

    # when it pulls from each
    pull(setup, user, blue)
    for name in (red, untagged):
        denied(setup, user, name)

    # then retagging moves the permission with the tag, at once
    _tag(setup, red, team="blue")
    pull(setup, user, red)
    setup.root.ecr(setup.server).untag_resource(
        resourceArn=repo_arn(setup.a, blue), tagKeys=["team"]
    )
    denied(setup, user, blue)


def test_a_repository_policy_conditioned_on_its_own_tag(setup: Setup) -> None:
    # given a repository that lets B pull while it is tagged shared=yes
    name = setup.repo(
        resource_policy(
            grant({"AWS": B}, PULL, Condition={"StringEquals": {"ecr:ResourceTag/shared": "yes"}})
        ),
        tags={"shared": "yes"},
    )

    # when B pulls, then the tag is removed and B pulls again
    pull(setup, setup.b_root, name, cross=True)
    setup.root.ecr(setup.server).untag_resource(
        resourceArn=repo_arn(setup.a, name), tagKeys=["shared"]
    )

    # then the second pull is denied
    denied(setup, setup.b_root, name, cross=True)


# --- resource wildcards and NotAction in identity policies ---------------------------------------
def test_resource_wildcards_in_an_identity_policy(setup: Setup) -> None:
    # given a user allowed everything on repository/team-* only (and ? for one character)
    user = make_user(
        setup,
        "team-user-",
        policy(
            allow("ecr:*", repo_arn(setup.a, "team-*")),
            allow("ecr:BatchGetImage", repo_arn(setup.a, "app-?")),
        ),
    )
    ecr = user.ecr(setup.server)
    root = setup.root.ecr(setup.server)
    team = unique("team-")
    elsewhere = unique("ops-")
    for name in (team, elsewhere, "app-1", "app-12"):
        root.create_repository(repositoryName=name)
        push_image(root, name, [name.encode()])

    # when it works inside and outside the pattern
    ecr.create_repository(repositoryName=f"{team}/nested")
    ecr.describe_repositories(repositoryNames=[team])
    pull(setup, user, team)
    pull(setup, user, "app-1")
    with pytest.raises(ClientError) as create_elsewhere:
        ecr.create_repository(repositoryName=unique("ops-"))
    denied(setup, user, elsewhere)
    denied(setup, user, "app-12")
    listed = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}

    # then
    assert code_of(create_elsewhere) == "AccessDeniedException"
    assert {team, f"{team}/nested"} <= listed
    assert elsewhere not in listed and "app-1" not in listed


def test_not_action_in_an_identity_policy(setup: Setup) -> None:
    # given a user allowed everything except deletions
    user = make_user(
        setup,
        "no-deletes-",
        policy(
            {
                "Effect": "Allow",
                "NotAction": ["ecr:Delete*", "ecr:BatchDeleteImage"],
                "Resource": "*",
            }
        ),
    )
    ecr = user.ecr(setup.server)
    name = unique("policies/undeletable-")

    # when it creates, pushes and pulls, then tries to delete
    ecr.create_repository(repositoryName=name)
    image: PushedImage = push_image(ecr, name, [b"kept"])
    pull(setup, user, name)
    with pytest.raises(ClientError) as delete_image:
        ecr.batch_delete_image(
            repositoryName=name, imageIds=[{"imageDigest": image.manifest_digest}]
        )
    with pytest.raises(ClientError) as delete_repository:
        ecr.delete_repository(repositoryName=name, force=True)
    response = v2(setup.server, user).delete(f"/v2/{name}/manifests/{image.manifest_digest}")

    # then the deletions are denied on both faces and the image is still there
    assert_denied(delete_image, "BatchDeleteImage", repo_arn(setup.a, name))
    assert_denied(delete_repository, "DeleteRepository", repo_arn(setup.a, name))
    assert_v2_denied(response, "BatchDeleteImage")
    pull(setup, user, name)
