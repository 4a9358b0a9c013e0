"""The metadata store: accounts, keys, repositories, images, tags, links, uploads.

:class:`MetadataStore` names only the queries the service makes.  Each method is
one transaction; rows come back as the frozen dataclasses below.  All times are
integer milliseconds since the epoch.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


def now_ms() -> int:
    """The current time in integer milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class AccessKey:
    """An access key and the account it acts for."""

    access_key_id: str
    secret_access_key: str
    account_id: str
    active: bool
    user_name: str | None = None  # None: the account's root


@dataclass(frozen=True, slots=True)
class Repository:
    """A repository row."""

    id: int
    registry_id: str
    name: str
    created_ms: int
    tag_mutability: str
    tag_mutability_exclusions: str | None
    scan_on_push: bool
    encryption_type: str
    kms_key: str | None
    policy: str | None = None


@dataclass(frozen=True, slots=True)
class NewImage:
    """An image to record: its manifest and everything the manifest references."""

    digest: str
    manifest: bytes
    media_type: str
    artifact_type: str | None
    size: int
    subject_digest: str | None
    blobs: Sequence[tuple[str, str | None]]  # (digest, media type) of config and layers
    children: Sequence[str]  # manifests an index references


@dataclass(frozen=True, slots=True)
class Image:
    """An image row with its tags (sorted)."""

    digest: str
    media_type: str
    artifact_type: str | None
    size: int
    pushed_ms: int
    subject_digest: str | None
    tags: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Upload:
    """An upload session: bytes received so far, and the digest once verified."""

    id: str
    repository_id: int
    size: int
    digest: str | None
    parts: int = 0


@dataclass(frozen=True, slots=True)
class LayerAccess:
    """The answer of the GetDownloadUrlForLayer query: what exists for one digest."""

    repository_exists: bool
    linked: bool
    referenced: bool


class MetadataStore(Protocol):
    """The queries layerport's service makes of its metadata.

    A write of rows that belong to a repository (tags, links, images, uploads)
    raises RepositoryNotFoundException when the repository was deleted after the
    service looked it up, rather than leaving rows that belong to nothing.
    """

    # accounts and keys
    async def ensure_account(self, account_id: str) -> None:
        """Create the account if it does not exist."""
        ...

    async def put_access_key(self, key: AccessKey) -> None:
        """Create or replace an access key."""
        ...

    async def get_access_key(self, access_key_id: str) -> AccessKey | None:
        """The key with that id, or None."""
        ...

    async def server_secret(self, name: str, candidate: str) -> str:
        """The named server secret; ``candidate`` is stored if there is none yet."""
        ...

    async def user_policies(self, account_id: str, user_name: str) -> list[str]:
        """The policy documents attached to a user."""
        ...

    # repositories
    async def create_repository(
        self, repository: Repository, tags: Iterable[tuple[str, str]]
    ) -> Repository | None:
        """Insert the repository (``id`` is ignored); None when the name is taken."""
        ...

    async def get_repository(self, registry_id: str, name: str) -> Repository | None:
        """The repository, or None."""
        ...

    async def list_repositories(
        self, registry_id: str, names: Sequence[str] | None, after: str | None, limit: int
    ) -> list[Repository]:
        """Repositories by name order, after ``after``, at most ``limit``."""
        ...

    async def delete_repository(self, repository_id: int) -> list[str]:
        """Delete a repository with everything in it; the ids of the uploads that went too.

        The ids are read in the same transaction, so an upload opened just before is
        among them and its bytes can be discarded (one opened after finds no repository).
        """
        ...

    async def set_repository_policy(self, repository_id: int, policy: str | None) -> None:
        """Attach (or, with None, remove) the repository policy."""
        ...

    async def repository_tags(self, repository_id: int) -> dict[str, str]:
        """The repository's resource tags."""
        ...

    async def set_repository_tags(self, repository_id: int, tags: dict[str, str]) -> None:
        """Replace the repository's resource tags."""
        ...

    async def count_uploads(self, account_id: str) -> int:
        """Open uploads in all of the account's repositories."""
        ...

    async def count_images(self, repository_id: int) -> int:
        """How many images the repository holds."""
        ...

    # layers
    async def layer_access(self, registry_id: str, name: str, digest: str) -> LayerAccess:
        """Whether the repository exists, has the blob linked, and an image references it."""
        ...

    async def blob_in_repository(
        self, registry_id: str, name: str, digest: str
    ) -> tuple[bool, int | None]:
        """(repository exists, size of the blob if linked into it), in one query."""
        ...

    async def manifest_for(
        self, registry_id: str, name: str, *, digest: str | None = None, tag: str | None = None
    ) -> tuple[bool, tuple[str, bytes, str] | None]:
        """(repository exists, (digest, manifest, media type) if found), in one query."""
        ...

    async def linked_blob_sizes(self, repository_id: int, digests: Iterable[str]) -> dict[str, int]:
        """Size of each of ``digests`` that is linked into the repository."""
        ...

    async def link_blob(self, repository_id: int, digest: str, size: int) -> bool:
        """Record the blob and link it into the repository; False if already linked."""
        ...

    async def unlink_blob(self, repository_id: int, digest: str) -> None:
        """Remove a blob's link into the repository (the bytes stay until collected)."""
        ...

    # images
    async def get_image(self, repository_id: int, digest: str) -> Image | None:
        """The image with that digest, or None."""
        ...

    async def image_digest_for_tag(self, repository_id: int, tag: str) -> str | None:
        """The digest the tag points at, or None."""
        ...

    async def get_manifest(self, repository_id: int, digest: str) -> tuple[bytes, str] | None:
        """The manifest bytes and media type, or None."""
        ...

    async def existing_images(self, repository_id: int, digests: Iterable[str]) -> set[str]:
        """Which of ``digests`` are images in the repository."""
        ...

    async def put_image(self, repository_id: int, image: NewImage, tag: str | None) -> None:
        """Record the image if new and point ``tag`` at it (moving it if it exists)."""
        ...

    async def list_images(
        self, repository_id: int, tag_status: str, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[str, str | None]]:
        """(digest, tag) pairs: one per tag, one per untagged image; ordered, paged."""
        ...

    async def describe_images(
        self,
        repository_id: int,
        digests: Sequence[str] | None,
        tag_status: str,
        after: str | None,
        limit: int,
    ) -> list[Image]:
        """Images with their tags, by digest order, after ``after``, at most ``limit``."""
        ...

    async def parents_of(self, repository_id: int, digest: str) -> list[str]:
        """Indexes in the repository that reference the manifest ``digest``."""
        ...

    async def list_tags(self, repository_id: int, after: str | None, limit: int) -> list[str]:
        """Tags in lexical order after ``after``, at most ``limit``."""
        ...

    async def referrers(
        self, repository_id: int, subject: str
    ) -> list[tuple[str, bytes, str, str | None]]:
        """(digest, manifest, media type, artifact type) of images whose subject is ``subject``."""
        ...

    async def delete_image(self, repository_id: int, digest: str) -> None:
        """Delete the image, its tags and its references."""
        ...

    async def delete_tag(self, repository_id: int, tag: str) -> None:
        """Remove one tag."""
        ...

    # uploads
    async def create_upload(self, upload_id: str, repository_id: int) -> None:
        """Start an upload session."""
        ...

    async def get_upload(self, repository_id: int, upload_id: str) -> Upload | None:
        """The upload, or None."""
        ...

    async def advance_upload(self, upload_id: str, old_size: int, new_size: int) -> bool:
        """Record new bytes (one more part) if the size is still ``old_size``; else False."""
        ...

    async def mark_upload_verified(self, upload_id: str, digest: str) -> None:
        """Record the verified digest before the bytes move into place."""
        ...

    async def finish_upload(
        self, upload_id: str, repository_id: int, digest: str, size: int
    ) -> bool:
        """Record the blob, link it, drop the session; False if it was already linked."""
        ...

    async def upload_ids(self, repository_id: int) -> list[str]:
        """Ids of the repository's open uploads."""
        ...

    async def delete_upload(self, upload_id: str) -> None:
        """Drop an upload session."""
        ...
