"""A small, faithful IAM policy engine for ECR actions: identity and repository policies.

Grammar: ``Version``, ``Statement`` (one or a list), each with ``Effect``,
``Action``/``NotAction`` (``ecr:*`` wildcards, case-insensitive),
``Resource``/``NotResource`` (ARNs with ``*`` and ``?``), ``Principal`` in
resource policies (``"*"``, account ids, account-root or user ARNs) and
``Condition`` with the String operators (and ``…IfExists``) on keys such as
``aws:PrincipalAccount``, ``aws:PrincipalArn``, ``aws:username`` and
``ecr:ResourceTag/<key>``.

Evaluation, as the IAM user guide lays it down: an explicit deny in any policy
wins; within one account an allow from either the identity policies or the
repository policy is enough (and the account root may do anything in its own
account); across accounts the repository policy *and* the caller's identity
policies must both allow; an anonymous caller needs a repository policy that
allows ``"*"``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

VERSIONS = ("2012-10-17", "2008-10-17")
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike"}
_OPERATORS = {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
}


class PolicyError(ValueError):
    """A policy document is not valid; the message says where."""


@dataclass(frozen=True, slots=True)
class Request:
    """What is being asked, by whom, of what.

    principal_arn: ``arn:aws:iam::<account>:root`` or ``…:user/<name>``; empty when anonymous.
    action: ``ecr:<Operation>``.
    resource: the repository ARN, or ``*``.
    resource_account: the registry id that owns the resource.
    resource_tags: the repository's tags (for ``ecr:ResourceTag/…``).
    """

    principal_account: str | None
    principal_arn: str
    action: str
    resource: str
    resource_account: str
    resource_tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def anonymous(self) -> bool:
        """Whether the caller sent no credentials."""
        return self.principal_account is None

    @property
    def is_root(self) -> bool:
        """Whether the caller is the account root (the account's admin key)."""
        return self.principal_arn.endswith(":root")

    def context_value(self, key: str) -> str | None:
        """The value of a condition key in this request, or None when absent."""
        lowered = key.lower()
        if lowered == "aws:principalaccount":
            return self.principal_account
        if lowered == "aws:principalarn":
            return self.principal_arn or None
        if lowered == "aws:username":
            _, _, name = self.principal_arn.partition(":user/")
            return name or None
        for prefix in ("ecr:resourcetag/", "aws:resourcetag/"):
            if lowered.startswith(prefix):
                return self.resource_tags.get(key[len(prefix) :])
        return None


@functools.cache
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def _strings(value: Any, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise PolicyError(f"{where} must be a string or a list of strings")
    return tuple(items)


@dataclass(frozen=True, slots=True)
class Statement:
    """One parsed statement."""

    effect: str
    actions: tuple[str, ...]
    not_actions: bool
    resources: tuple[str, ...] | None
    not_resources: bool
    principals: tuple[str, ...] | None
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]

    def applies(self, request: Request, *, as_resource_policy: bool) -> bool:
        """Whether this statement speaks about ``request``."""
        hit = any(_matches(a, request.action, ignore_case=True) for a in self.actions)
        if hit == self.not_actions:
            return False
        if self.resources is not None:
            hit = any(_matches(r, request.resource) for r in self.resources)
            if hit == self.not_resources:
                return False
        if as_resource_policy and not self._principal_matches(request):
            return False
        return all(self._condition(op, key, values, request) for op, key, values in self.conditions)

    def _principal_matches(self, request: Request) -> bool:
        for principal in self.principals or ():
            if principal == "*":
                return True
            if request.anonymous:
                continue
            if principal in (
                request.principal_account,
                f"arn:aws:iam::{request.principal_account}:root",
            ):
                return True
            if principal == request.principal_arn:
                return True
        return False

    @staticmethod
    def _condition(operator: str, key: str, values: tuple[str, ...], request: Request) -> bool:
        base = operator.removesuffix("IfExists")
        actual = request.context_value(key)
        if actual is None:
            return operator.endswith("IfExists") or base in _NEGATED or base.startswith("ArnNot")
        ignore_case = base.endswith("IgnoreCase")
        like = base.endswith("Like")
        if like:
            found = any(_matches(v, actual) for v in values)
        elif ignore_case:
            found = actual.lower() in {v.lower() for v in values}
        else:
            found = actual in values
        return not found if ("Not" in base) else found


@dataclass(frozen=True, slots=True)
class Policy:
    """A parsed policy document."""

    statements: tuple[Statement, ...]

    @classmethod
    def parse(cls, text: str, *, resource_policy: bool = False) -> Policy:
        """Parse and validate ``text``; raise PolicyError naming the first problem."""
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: nested too deep
            raise PolicyError(f"the policy is not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise PolicyError("the policy must be a JSON object")
        if doc.get("Version", "2008-10-17") not in VERSIONS:
            raise PolicyError(f"Version must be one of {', '.join(VERSIONS)}")
        raw = doc.get("Statement")
        items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else None
        if not items:
            raise PolicyError("the policy needs a Statement")
        return cls(
            tuple(
                _statement(item, f"Statement[{i}]", resource_policy) for i, item in enumerate(items)
            )
        )

    @property
    def mentions_resource_tags(self) -> bool:
        """Whether any condition reads a repository tag (so the tags must be loaded)."""
        return any(
            "resourcetag/" in key.lower() for s in self.statements for _, key, _ in s.conditions
        )

    def effects(self, request: Request, *, as_resource_policy: bool = False) -> set[str]:
        """The effects (``Allow``, ``Deny``) of the statements that apply."""
        return {
            s.effect
            for s in self.statements
            if s.applies(request, as_resource_policy=as_resource_policy)
        }


def _statement(item: Any, where: str, resource_policy: bool) -> Statement:
    if not isinstance(item, dict):
        raise PolicyError(f"{where} must be an object")
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}.Effect must be Allow or Deny")
    if ("Action" in item) == ("NotAction" in item):
        raise PolicyError(f"{where} needs exactly one of Action and NotAction")
    action_key = "Action" if "Action" in item else "NotAction"
    actions = _strings(item[action_key], f"{where}.{action_key}")
    resources: tuple[str, ...] | None = None
    not_resources = False
    if "Resource" in item or "NotResource" in item:
        key = "Resource" if "Resource" in item else "NotResource"
        resources, not_resources = _strings(item[key], f"{where}.{key}"), key == "NotResource"
    elif not resource_policy:
        raise PolicyError(f"{where} needs a Resource")
    principals: tuple[str, ...] | None = None
    if resource_policy:
        principals = _principals(item.get("Principal"), where)
    elif "Principal" in item:
        raise PolicyError(f"{where}: an identity policy cannot name a Principal")
    return Statement(
        effect=effect,
        actions=actions,
        not_actions=action_key == "NotAction",
        resources=resources,
        not_resources=not_resources,
        principals=principals,
        conditions=_conditions(item.get("Condition"), where),
    )


def _principals(value: Any, where: str) -> tuple[str, ...]:
    if value == "*":
        return ("*",)
    if isinstance(value, dict) and set(value) == {"AWS"}:
        return _strings(value["AWS"], f"{where}.Principal.AWS")
    raise PolicyError(f'{where}.Principal must be "*" or {{"AWS": ...}}')


def _conditions(value: Any, where: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise PolicyError(f"{where}.Condition must be an object")
    found = []
    for operator, pairs in value.items():
        if operator.removesuffix("IfExists") not in _OPERATORS:
            raise PolicyError(f"{where}.Condition: unsupported operator {operator!r}")
        if not isinstance(pairs, dict):
            raise PolicyError(f"{where}.Condition.{operator} must be an object")
        for key, values in pairs.items():
            found.append((operator, key, _strings(values, f"{where}.Condition.{operator}.{key}")))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Decision:
    """IAM's answer, and the reason in the words of AWS's AccessDenied messages."""

    allowed: bool
    reason: str = ""


def decide(request: Request, identity: Sequence[Policy], repository: Policy | None) -> Decision:
    """IAM's decision for ``request`` given the caller's policies and the repository's."""
    identity_effects: set[str] = set()
    for policy in identity:
        identity_effects |= policy.effects(request)
    resource_effects = repository.effects(request, as_resource_policy=True) if repository else set()
    if "Deny" in identity_effects:
        return Decision(False, "with an explicit deny in an identity-based policy")
    if "Deny" in resource_effects:
        return Decision(False, "with an explicit deny in a resource-based policy")
    resource_allows = "Allow" in resource_effects
    no_resource = Decision(
        False, f"because no resource-based policy allows the {request.action} action"
    )
    if request.anonymous:
        return Decision(True) if resource_allows else no_resource
    identity_allows = request.is_root or "Allow" in identity_effects
    no_identity = Decision(
        False, f"because no identity-based policy allows the {request.action} action"
    )
    if request.principal_account == request.resource_account:
        return Decision(True) if identity_allows or resource_allows else no_identity
    if not resource_allows:
        return no_resource
    return Decision(True) if identity_allows else no_identity


def repository_arn(region: str, registry_id: str, name: str) -> str:
    """The ARN of a repository."""
    return f"arn:aws:ecr:{region}:{registry_id}:repository/{name}"


def parse_all(texts: Iterable[str]) -> list[Policy]:
    """Parse stored identity policies (validated when they were stored)."""
    return [Policy.parse(text) for text in texts]
