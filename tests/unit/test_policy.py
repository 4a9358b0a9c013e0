"""The IAM-style policy engine: grammar, matching and the evaluation rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from layerport.auth.policy import Policy, PolicyError, Request, decide

A, B = "111111111111", "222222222222"
REPO = f"arn:aws:ecr:us-east-1:{A}:repository/team-a/app"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def request(
    action: str = "ecr:BatchGetImage",
    account: str | None = A,
    user: str | None = "alice",
    tags: dict[str, str] | None = None,
) -> Request:
    if account is None:
        arn = ""
    else:
        arn = f"arn:aws:iam::{account}:" + (f"user/{user}" if user else "root")
    return Request(account, arn, action, REPO, A, tags or {})


ALLOW_PULL = doc({"Effect": "Allow", "Action": "ecr:BatchGet*", "Resource": "*"})


def test_identity_allow_with_action_wildcards_case_insensitive() -> None:
    policy = Policy.parse(doc({"Effect": "Allow", "Action": "ECR:batchget*", "Resource": REPO}))
    assert decide(request(), [policy], None).allowed
    assert not decide(request("ecr:PutImage"), [policy], None).allowed


def test_resource_wildcards() -> None:
    policy = Policy.parse(
        doc(
            {
                "Effect": "Allow",
                "Action": "ecr:*",
                "Resource": f"arn:aws:ecr:*:{A}:repository/team-?/*",
            }
        )
    )
    assert decide(request(), [policy], None).allowed
    other = Request(
        A, f"arn:aws:iam::{A}:user/alice", "ecr:BatchGetImage", REPO.replace("team-a", "ops"), A
    )
    assert not decide(other, [policy], None).allowed


def test_explicit_deny_wins_everywhere() -> None:
    deny = Policy.parse(
        doc({"Effect": "Deny", "Principal": "*", "Action": "ecr:*"}), resource_policy=True
    )
    assert not decide(request(user=None), [], deny).allowed  # even the account root
    identity_deny = Policy.parse(doc({"Effect": "Deny", "NotAction": "ecr:List*", "Resource": "*"}))
    decision = decide(request(), [Policy.parse(ALLOW_PULL), identity_deny], None)
    assert not decision.allowed and "explicit deny" in decision.reason


def test_same_account_either_policy_suffices() -> None:
    repo = Policy.parse(
        doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{A}:user/alice"},
                "Action": "ecr:BatchGetImage",
            }
        ),
        resource_policy=True,
    )
    assert decide(request(), [], repo).allowed
    assert decide(request(), [Policy.parse(ALLOW_PULL)], None).allowed
    assert not decide(request(user="bob"), [], repo).allowed


def test_cross_account_needs_both() -> None:
    repo = Policy.parse(
        doc({"Effect": "Allow", "Principal": {"AWS": B}, "Action": "ecr:BatchGetImage"}),
        resource_policy=True,
    )
    identity = [Policy.parse(ALLOW_PULL)]
    assert decide(request(account=B), identity, repo).allowed
    assert not decide(request(account=B), identity, None).allowed
    assert not decide(request(account=B), [], repo).allowed
    assert decide(request(account=B, user=None), [], repo).allowed  # B's root: identity implied


def test_anonymous_only_through_a_star_principal() -> None:
    star = Policy.parse(
        doc({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}),
        resource_policy=True,
    )
    by_account = Policy.parse(
        doc({"Effect": "Allow", "Principal": {"AWS": A}, "Action": "ecr:BatchGetImage"}),
        resource_policy=True,
    )
    assert decide(request(account=None), [], star).allowed
    assert not decide(request(account=None), [], by_account).allowed
    assert not decide(request(account=None), [], None).allowed


@pytest.mark.parametrize(
    ("operator", "key", "values", "tags", "expected"),
    [
        ("StringEquals", "aws:PrincipalAccount", [A], {}, True),
        ("StringEquals", "aws:PrincipalAccount", [B], {}, False),
        ("StringLike", "ecr:ResourceTag/team", ["team-*"], {"team": "team-a"}, True),
        ("StringLike", "ecr:ResourceTag/team", ["team-*"], {}, False),
        ("StringNotEquals", "ecr:ResourceTag/team", ["x"], {}, True),
        ("StringEqualsIfExists", "ecr:ResourceTag/team", ["x"], {}, True),
        ("StringEqualsIgnoreCase", "aws:username", ["ALICE"], {}, True),
    ],
)
def test_conditions(
    operator: str, key: str, values: list[str], tags: dict[str, str], expected: bool
) -> None:
    policy = Policy.parse(
        doc(
            {
                "Effect": "Allow",
                "Action": "ecr:*",
                "Resource": "*",
                "Condition": {operator: {key: values}},
            }
        )
    )
    assert decide(request(tags=tags), [policy], None).allowed is expected


@pytest.mark.parametrize(
    ("text", "resource_policy", "message"),
    [
        ("nope", False, "not valid JSON"),
        (json.dumps({"Version": "2001-01-01", "Statement": []}), False, "Version"),
        (json.dumps({"Statement": []}), False, "needs a Statement"),
        (doc({"Effect": "Maybe", "Action": "ecr:*", "Resource": "*"}), False, "Effect"),
        (doc({"Effect": "Allow", "Resource": "*"}), False, "Action"),
        (doc({"Effect": "Allow", "Action": "ecr:*"}), False, "needs a Resource"),
        (
            doc({"Effect": "Allow", "Action": "ecr:*", "Resource": "*", "Principal": "*"}),
            False,
            "Principal",
        ),
        (doc({"Effect": "Allow", "Action": "ecr:*"}), True, "Principal"),
        (
            doc(
                {
                    "Effect": "Allow",
                    "Action": "ecr:*",
                    "Resource": "*",
                    "Condition": {"NumericLessThan": {}},
                }
            ),
            False,
            "unsupported operator",
        ),
    ],
)
def test_invalid_policies_say_where(text: str, resource_policy: bool, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        Policy.parse(text, resource_policy=resource_policy)
