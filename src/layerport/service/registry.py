"""What the OCI registry face needs beyond the ECR operations, under the same rules.

Pulls and pushes through ``/v2/`` use the same repositories, images, tags,
links and uploads as the ECR API; a blob GET is answered with the very URL
GetDownloadUrlForLayer returns (:meth:`Layers.download_url`).  This module
adds the registry-only views: manifests by reference, tags and catalog pages,
referrers, blob and tag deletion, cross-repository mounts, create-on-push.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from layerport.auth.principals import Principal
from layerport.digest import Digest, InvalidDigest
from layerport.errors import (
    AccessDeniedException,
    ImageAlreadyExistsException,
    ImageNotFoundException,
    LayersNotFoundException,
    RepositoryAlreadyExistsException,
    RepositoryNotFoundException,
)
from layerport.service import manifests
from layerport.service.context import (
    ServiceContext,
    authorize,
    find_repository,
    not_found_message,
    registry_of,
)
from layerport.service.images import TAG, Images
from layerport.service.repositories import Repositories
from layerport.store.metadata import Repository

#: Largest page of tags or repositories one request returns.
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class StoredManifest:
    """A manifest as the registry serves it."""

    digest: str
    media_type: str
    raw: bytes


def is_digest(reference: str) -> bool:
    """Whether a manifest reference is a digest (else it must be a tag)."""
    return ":" in reference


class Registry:
    """Registry-face operations.

    ctx: the shared service context.
    images, repositories: the ECR operation objects whose rules these reuse.
    """

    def __init__(
        self,
        ctx: ServiceContext,
        images: Images,
        repositories: Repositories,
        registry_id: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.images = images
        self.repositories = repositories
        self.registry_id = registry_id

    def at(self, registry_id: str | None) -> Registry:
        """The same operations addressed to another account's registry (None: the caller's).

        ECR tells registries apart by host (``<account>.dkr.ecr.<region>…``); the
        registry face does the same and hands each request a view bound to its registry.
        """
        return Registry(self.ctx, self.images, self.repositories, registry_id)

    async def repository(self, caller: Principal, name: str, action: str) -> Repository:
        """The caller's repository ``name``; RepositoryNotFoundException if absent."""
        return await find_repository(self.ctx, caller, self.registry_id, name, action)

    async def allow(self, caller: Principal, repository: Repository, action: str) -> None:
        """AccessDeniedException unless the caller may also perform ``action`` on ``repository``.

        A registry request can stand for several ECR operations (a PUT that carries the last
        chunk is an UploadLayerPart and a CompleteLayerUpload); each needs its own allow.
        """
        await self.ctx.access.check(
            caller, action, repository.registry_id, repository.name, repository
        )

    async def repository_for_push(self, caller: Principal, name: str, action: str) -> Repository:
        """The repository to push into, created first when create-on-push is on."""
        registry = registry_of(self.ctx, caller, self.registry_id)
        existing = await self.ctx.metadata.get_repository(registry, name)
        if existing is not None or not self.ctx.create_on_push:
            await self.ctx.access.check(caller, action, registry, name, existing)
            if existing is None:
                raise RepositoryNotFoundException(not_found_message(name, registry))
            return existing
        # Losing a race with another push that created it is fine: use theirs.
        with contextlib.suppress(RepositoryAlreadyExistsException):
            await self.repositories.create_repository(
                caller, registry_id=self.registry_id, repository_name=name
            )
        return await self.repository(caller, name, action)

    async def blob_size(self, caller: Principal, name: str, digest: Digest) -> int:
        """Size of a blob linked into the repository (HEAD answers from metadata)."""
        registry = await authorize(
            self.ctx, caller, self.registry_id, "BatchCheckLayerAvailability", name
        )
        exists, size = await self.ctx.metadata.blob_in_repository(registry, name, str(digest))
        if not exists:
            raise RepositoryNotFoundException(not_found_message(name, registry))
        if size is None:
            raise LayersNotFoundException(
                f"The layer with digest '{digest}' does not exist in the repository with name "
                f"'{name}' in the registry with id '{registry}'"
            )
        return size

    async def mount(self, caller: Principal, name: str, digest: Digest, source: str) -> bool:
        """Link a blob of another repository of the caller's into ``name``; False if it can't."""
        target = await self.repository_for_push(caller, name, "InitiateLayerUpload")
        origin = await self.ctx.metadata.get_repository(target.registry_id, source)
        if origin is None:
            return False
        try:  # only from a repository the caller may read
            await self.ctx.access.check(
                caller, "GetDownloadUrlForLayer", origin.registry_id, origin.name, origin
            )
        except AccessDeniedException:
            return False
        sizes = await self.ctx.metadata.linked_blob_sizes(origin.id, [str(digest)])
        if str(digest) not in sizes:
            return False
        await self.ctx.metadata.link_blob(target.id, str(digest), sizes[str(digest)])
        return True

    async def manifest(self, caller: Principal, name: str, reference: str) -> StoredManifest:
        """The manifest a tag or digest names in the repository."""
        registry = await authorize(self.ctx, caller, self.registry_id, "BatchGetImage", name)
        if is_digest(reference):
            try:
                digest = str(Digest.parse(reference))
            except InvalidDigest:
                digest = None
            exists, found = (
                await self.ctx.metadata.manifest_for(registry, name, digest=digest)
                if digest
                else (True, None)
            )
        else:
            exists, found = (
                await self.ctx.metadata.manifest_for(registry, name, tag=reference)
                if TAG.fullmatch(reference)
                else (True, None)
            )
        if not exists:
            raise RepositoryNotFoundException(not_found_message(name, registry))
        if found is None:
            raise ImageNotFoundException(
                f"The image with reference '{reference}' does not exist within the repository "
                f"with name '{name}' in the registry with id '{registry}'"
            )
        return StoredManifest(found[0], found[2], found[1])

    async def _resolve(self, repository: Repository, reference: str) -> str:
        if is_digest(reference):
            try:
                return str(Digest.parse(reference))
            except InvalidDigest:
                raise self._unknown(repository, reference) from None
        if not TAG.fullmatch(reference):
            raise self._unknown(repository, reference)
        digest = await self.ctx.metadata.image_digest_for_tag(repository.id, reference)
        if digest is None:
            raise self._unknown(repository, reference)
        return digest

    @staticmethod
    def _unknown(repository: Repository, reference: str) -> ImageNotFoundException:
        return ImageNotFoundException(
            f"The image with reference '{reference}' does not exist within the repository with "
            f"name '{repository.name}' in the registry with id '{repository.registry_id}'"
        )

    async def put_manifest(
        self, caller: Principal, name: str, reference: str, raw: bytes, media_type: str | None
    ) -> tuple[str, str | None]:
        """Store a manifest pushed by tag or by digest; returns (digest, subject digest).

        Pushing a manifest that is already there succeeds, as registries do.
        """
        repository = await self.repository_for_push(caller, name, "PutImage")
        tag = None if is_digest(reference) else reference
        claimed = reference if tag is None else None
        try:
            digest = await self.images.put(repository, raw, media_type, tag, claimed)
        except ImageAlreadyExistsException:
            algorithm = Digest.parse(claimed).algorithm if claimed else "sha256"
            digest = Digest.of(raw, algorithm)
        subject = manifests.parse(raw, media_type).subject
        return str(digest), subject.digest if subject else None

    async def delete_manifest(self, caller: Principal, name: str, reference: str) -> None:
        """Delete an image by digest, or only the tag when deleting by tag (as the spec says)."""
        repository = await self.repository(caller, name, "BatchDeleteImage")
        digest = await self._resolve(repository, reference)
        if not is_digest(reference):
            await self.ctx.metadata.delete_tag(repository.id, reference)
            return
        if await self.ctx.metadata.get_image(repository.id, digest) is None:
            raise self._unknown(repository, reference)  # the spec: already gone is 404
        parents = await self.ctx.metadata.parents_of(repository.id, digest)
        if parents:
            raise AccessDeniedException(
                f"The image {digest} is referenced by the manifest list {parents[0]}; delete "
                f"that first"
            )
        await self.ctx.metadata.delete_image(repository.id, digest)

    async def delete_blob(self, caller: Principal, name: str, digest: Digest) -> None:
        """Unlink a blob that no image in the repository references."""
        repository = await self.repository(caller, name, "BatchDeleteImage")
        access = await self.ctx.metadata.layer_access(
            repository.registry_id, repository.name, str(digest)
        )
        if not access.linked:
            raise LayersNotFoundException(
                f"The layer with digest '{digest}' does not exist in the repository with name "
                f"'{name}' in the registry with id '{repository.registry_id}'"
            )
        if access.referenced:
            raise AccessDeniedException(
                f"The layer {digest} is referenced by an image in the repository; delete the "
                f"image first"
            )
        await self.ctx.metadata.unlink_blob(repository.id, str(digest))

    async def tags(
        self, caller: Principal, name: str, limit: int | None, last: str | None
    ) -> tuple[list[str], bool]:
        """Tags in lexical order after ``last``; and whether more follow."""
        repository = await self.repository(caller, name, "ListImages")
        page = min(limit if limit is not None else MAX_PAGE, MAX_PAGE)
        found = await self.ctx.metadata.list_tags(repository.id, last, page + 1)
        return found[:page], len(found) > page

    async def catalog(
        self, caller: Principal, limit: int | None, last: str | None
    ) -> tuple[list[str], bool]:
        """Repository names of the caller's registry after ``last``; and whether more follow."""
        page = min(limit if limit is not None else MAX_PAGE, MAX_PAGE)
        registry = registry_of(self.ctx, caller, self.registry_id)
        rows = await self.ctx.metadata.list_repositories(registry, None, last, page + 1)
        shown = [row.name for row in rows[:page] if await self.repositories.visible(caller, row)]
        return shown, len(rows) > page

    async def referrers(
        self, caller: Principal, name: str, digest: Digest, artifact_type: str | None
    ) -> list[dict[str, Any]]:
        """Descriptors of the manifests whose subject is ``digest`` (OCI 1.1 referrers)."""
        repository = await self.repository(caller, name, "BatchGetImage")
        found = []
        for ref_digest, raw, media_type, ref_artifact in await self.ctx.metadata.referrers(
            repository.id, str(digest)
        ):
            if artifact_type is not None and ref_artifact != artifact_type:
                continue
            descriptor: dict[str, Any] = {
                "mediaType": media_type,
                "digest": ref_digest,
                "size": len(raw),
            }
            if ref_artifact:
                descriptor["artifactType"] = ref_artifact
            annotations = _annotations(raw)
            if annotations:
                descriptor["annotations"] = annotations
            found.append(descriptor)
        return found


def _annotations(raw: bytes) -> dict[str, str] | None:
    try:
        value = json.loads(raw).get("annotations")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, dict) else None
