"""Who is calling: the principal behind an access key, looked up through the metadata store."""

from __future__ import annotations

import time
from dataclasses import dataclass

from layerport.store.metadata import AccessKey, MetadataStore

#: How long a looked-up key is trusted before the store is asked again (a bound on staleness).
KEY_CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller: the account it acts in, the key it used, and the user behind the key.

    ``user_name`` is None for the account's root (its admin key); an anonymous
    caller (a registry pull with no credentials) has empty ids.
    """

    account_id: str
    access_key_id: str
    user_name: str | None = None
    anonymous: bool = False

    @classmethod
    def nobody(cls) -> Principal:
        """The anonymous caller."""
        return cls(account_id="", access_key_id="", anonymous=True)

    @classmethod
    def of(cls, key: AccessKey) -> Principal:
        """The principal an access key speaks for."""
        return cls(key.account_id, key.access_key_id, key.user_name)

    @property
    def is_root(self) -> bool:
        """Whether this is an account root, which may do anything in its own account."""
        return not self.anonymous and self.user_name is None

    @property
    def arn(self) -> str:
        """``arn:aws:iam::<account>:root`` or ``…:user/<name>``; empty when anonymous."""
        if self.anonymous:
            return ""
        suffix = "root" if self.user_name is None else f"user/{self.user_name}"
        return f"arn:aws:iam::{self.account_id}:{suffix}"


class AccessKeys:
    """Access-key lookup with a short cache, so SigV4 checks cost no query per request."""

    def __init__(self, metadata: MetadataStore, ttl: float = KEY_CACHE_SECONDS) -> None:
        self._metadata = metadata
        self._ttl = ttl
        self._cache: dict[str, tuple[float, AccessKey | None]] = {}

    async def get(self, access_key_id: str) -> AccessKey | None:
        """The active key with that id, or None (unknown or inactive)."""
        now = time.monotonic()
        hit = self._cache.get(access_key_id)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        key = await self._metadata.get_access_key(access_key_id)
        if key is not None and not key.active:
            key = None
        if len(self._cache) > 10_000:  # unknown ids must not grow memory without bound
            self._cache.clear()
        self._cache[access_key_id] = (now, key)
        return key
