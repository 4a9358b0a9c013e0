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
    InvalidParameterException,
    InvalidTagParameterException,
    RepositoryNotFoundException,
)
from layerport.service.access import Access
from layerport.store.blobs import BlobStore
from layerport.store.metadata import MetadataStore, Repository

DEFAULT_PAGE = 100
#: ECR's limits on resource tags (the metadata columns are sized to them).
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256


@dataclass(frozen=True)
class ServiceContext:
    """The parts an operation works with.

    metadata, blobs: the two stores.
    region: the region in ARNs.
    registry_host: ``host:port`` in repository URIs.
    public_url: the proxyEndpoint of authorization tokens.
    presign_expires: lifetime of download URLs in seconds.
    tokens: signs authorization tokens.
    access: decides whether a caller may perform an action.
    default_account: the registry an anonymous caller addresses.
    create_on_push: whether a registry push to a missing repository creates it.
    max_uploads: open uploads allowed per account.
    max_parts: UploadLayerPart calls allowed per upload.
    """

    metadata: MetadataStore
    blobs: BlobStore
    region: str
    registry_host: str
    public_url: str
    presign_expires: int
    tokens: TokenSigner
    access: Access
    default_account: str
    create_on_push: bool = False
    max_uploads: int = 10_000
    max_parts: int = 4200


def registry_of(ctx: ServiceContext, caller: Principal, registry_id: str | None) -> str:
    """The registry a request addresses: the one named, else the caller's own.

    An anonymous caller (a registry pull without credentials) addresses the
    default account's registry.
    """
    if registry_id:
        return registry_id
    return ctx.default_account if caller.anonymous else caller.account_id


async def authorize(
    ctx: ServiceContext,
    caller: Principal,
    registry_id: str | None,
    action: str,
    name: str | None = None,
) -> str:
    """The addressed registry, once the caller may perform ``action`` on ``name`` in it."""
    registry = registry_of(ctx, caller, registry_id)
    if not Access.trusted(caller, registry):
        await ctx.access.check(caller, action, registry, name)
    return registry


async def find_repository(
    ctx: ServiceContext, caller: Principal, registry_id: str | None, name: str, action: str
) -> Repository:
    """The addressed repository once ``action`` is allowed on it; else ECR's exception."""
    registry = registry_of(ctx, caller, registry_id)
    repository = await ctx.metadata.get_repository(registry, name)
    await ctx.access.check(caller, action, registry, name, repository)
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


def resource_tags(tags: list[dict[str, str]] | None) -> dict[str, str]:
    """A request's resource tags as key -> value; InvalidTagParameterException as ECR says it."""
    out: dict[str, str] = {}
    for tag in tags or []:
        key, value = tag["key"], tag["value"]
        if key in out:
            raise InvalidTagParameterException(f"The tag key '{key}' is given more than once")
        if not 1 <= len(key) <= MAX_TAG_KEY or len(value) > MAX_TAG_VALUE:
            raise InvalidTagParameterException(
                f"An invalid parameter has been specified. Tag keys can have a maximum "
                f"character length of {MAX_TAG_KEY} characters, and tag values can have a "
                f"maximum length of {MAX_TAG_VALUE} characters."
            )
        out[key] = value
    return out


def from_ms(ms: int) -> datetime:
    """An aware datetime from integer milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def encode_token(value: Any) -> str:
    """An opaque nextToken for a page position."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def decode_token(token: str | None, *, pair: bool = False) -> Any:
    """The page position in a nextToken, or InvalidParameterException.

    Positions are what :func:`encode_token` was given: a name or digest, or with
    ``pair`` a ``[digest, tag]``, all ASCII.  Anything else was not issued here and
    must not reach a query.
    """
    if token is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, RecursionError):
        value = None
    parts = value if pair and isinstance(value, list) else [value]
    if len(parts) != (2 if pair else 1) or not all(
        isinstance(part, str) and part.isascii() for part in parts
    ):
        raise InvalidParameterException(
            "Invalid parameter at 'nextToken': not a token this registry issued"
        )
    return value
