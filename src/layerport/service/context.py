"""What every operation needs: the stores, the settings that shape answers, and shared rules."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from layerport.auth.principals import Principal
from layerport.auth.tokens import TokenSigner
from layerport.digest import Digest, InvalidDigest
from layerport.errors import (
    AccessDeniedException,
    InvalidParameterException,
    RepositoryNotFoundException,
)
from layerport.store.blobs import BlobStore
from layerport.store.metadata import MetadataStore, Repository

DEFAULT_PAGE = 100


@dataclass(frozen=True)
class ServiceContext:
    """The parts an operation works with.

    metadata, blobs: the two stores.
    region: the region in ARNs.
    registry_host: ``host:port`` in repository URIs.
    public_url: the proxyEndpoint of authorization tokens.
    presign_expires: lifetime of download URLs in seconds.
    tokens: signs authorization tokens.
    create_on_push: whether a registry push to a missing repository creates it.
    """

    metadata: MetadataStore
    blobs: BlobStore
    region: str
    registry_host: str
    public_url: str
    presign_expires: int
    tokens: TokenSigner
    create_on_push: bool = False


def registry_of(caller: Principal, registry_id: str | None, action: str, name: str = "") -> str:
    """The registry a request addresses: the caller's own unless another is named.

    Cross-account access needs repository policies, which layerport does not
    have yet, so another account's registry is refused the way IAM refuses it.
    """
    if registry_id is None or registry_id == caller.account_id:
        return caller.account_id
    resource = f"repository/{name}" if name else "*"
    raise AccessDeniedException(
        f"User: {caller.access_key_id} is not authorized to perform: ecr:{action} on resource: "
        f"arn:aws:ecr:*:{registry_id}:{resource} because no resource-based policy allows the "
        f"ecr:{action} action"
    )


async def find_repository(
    ctx: ServiceContext, caller: Principal, registry_id: str | None, name: str, action: str
) -> Repository:
    """The addressed repository, or RepositoryNotFoundException in ECR's words."""
    registry = registry_of(caller, registry_id, action, name)
    repository = await ctx.metadata.get_repository(registry, name)
    if repository is None:
        raise RepositoryNotFoundException(not_found_message(name, registry))
    return repository


def not_found_message(name: str, registry: str) -> str:
    """ECR's message for a missing repository."""
    return f"The repository with name '{name}' does not exist in the registry with id '{registry}'"


def parse_digest(text: str, member: str) -> Digest:
    """A digest from a request member, or InvalidParameterException naming the member."""
    try:
        return Digest.parse(text)
    except InvalidDigest as exc:
        raise InvalidParameterException(
            f"Invalid parameter at '{member}' failed to satisfy constraint: '{exc}'"
        ) from None


def from_ms(ms: int) -> datetime:
    """An aware datetime from integer milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def encode_token(value: Any) -> str:
    """An opaque nextToken for a page position."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def decode_token(token: str | None) -> Any:
    """The page position in a nextToken, or InvalidParameterException."""
    if token is None:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError):
        raise InvalidParameterException(
            "Invalid parameter at 'nextToken': not a token this registry issued"
        ) from None
