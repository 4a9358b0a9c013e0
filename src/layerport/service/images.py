"""PutImage, BatchGetImage, BatchDeleteImage, and the tag mutability rules.

An image is a manifest stored by the digest of its exact bytes.  PutImage
accepts it only when every blob it references (config and layers) is already
in the repository with the size the manifest states, and every child manifest
of an index is already an image there; then the image and its references are
recorded in one transaction.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

from layerport.auth.principals import Principal
from layerport.digest import Digest, InvalidDigest
from layerport.errors import (
    ImageAlreadyExistsException,
    ImageDigestDoesNotMatchException,
    ImageTagAlreadyExistsException,
    InvalidParameterException,
    LayersNotFoundException,
    ReferencedImagesNotFoundException,
)
from layerport.service import manifests
from layerport.service.context import ServiceContext, find_repository, parse_digest
from layerport.store.metadata import NewImage, Repository

#: Tags as OCI defines them; ECR allows up to 300 characters.
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,299}")


def tag_is_immutable(repository: Repository, tag: str) -> bool:
    """Whether ``tag`` may not be moved once set, under the repository's settings."""
    mode = repository.tag_mutability
    if mode in ("MUTABLE", "IMMUTABLE"):
        return mode == "IMMUTABLE"
    filters = json.loads(repository.tag_mutability_exclusions or "[]")
    excluded = any(fnmatch.fnmatchcase(tag, f["filter"]) for f in filters)
    # IMMUTABLE_WITH_EXCLUSION: matching tags stay mutable; MUTABLE_WITH_EXCLUSION: the reverse.
    return excluded != (mode == "IMMUTABLE_WITH_EXCLUSION")


def image_id(digest: str, tag: str | None) -> dict[str, str]:
    """An ``ImageIdentifier``."""
    return {"image_digest": digest, "image_tag": tag} if tag else {"image_digest": digest}


def failure(ident: dict[str, Any], code: str, reason: str) -> dict[str, Any]:
    """An ``ImageFailure``."""
    return {"image_id": ident, "failure_code": code, "failure_reason": reason}


class Images:
    """Writing, reading and deleting images."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def put_image(
        self,
        caller: Principal,
        *,
        repository_name: str,
        image_manifest: str,
        registry_id: str | None = None,
        image_manifest_media_type: str | None = None,
        image_tag: str | None = None,
        image_digest: str | None = None,
    ) -> dict[str, Any]:
        """Store a manifest (and tag it), after checking everything it references."""
        repository = await find_repository(
            self.ctx, caller, registry_id, repository_name, "PutImage"
        )
        raw = image_manifest.encode()
        digest = await self.put(repository, raw, image_manifest_media_type, image_tag, image_digest)
        media_type = manifests.parse(raw, image_manifest_media_type).media_type
        return {
            "image": {
                "registry_id": repository.registry_id,
                "repository_name": repository.name,
                "image_id": image_id(str(digest), image_tag),
                "image_manifest": image_manifest,
                "image_manifest_media_type": media_type,
            }
        }

    async def put(
        self,
        repository: Repository,
        raw: bytes,
        media_type: str | None,
        tag: str | None,
        claimed_digest: str | None,
    ) -> Digest:
        """The rules of PutImage on exact manifest bytes; returns the image digest."""
        if tag is not None and not TAG.fullmatch(tag):
            raise InvalidParameterException(
                f"Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy "
                f"regular expression '{TAG.pattern}''"
            )
        algorithm = "sha256"
        if claimed_digest is not None:
            algorithm = parse_digest(claimed_digest, "imageDigest").algorithm
        digest = Digest.of(raw, algorithm)
        if claimed_digest is not None and str(digest) != claimed_digest:
            raise ImageDigestDoesNotMatchException(
                f"Invalid parameter at 'imageDigest' failed to satisfy constraint: 'The "
                f"specified digest {claimed_digest} does not match the digest of the manifest "
                f"{digest}'"
            )
        try:
            manifest = manifests.parse(raw, media_type)
        except manifests.ManifestError as exc:
            raise InvalidParameterException(
                f"Invalid parameter at 'imageManifest' failed to satisfy constraint: '{exc}'"
            ) from None
        size = await self._check_references(repository, manifest)
        await self._check_tag(repository, str(digest), tag)
        await self.ctx.metadata.put_image(
            repository.id,
            NewImage(
                digest=str(digest),
                manifest=raw,
                media_type=manifest.media_type,
                artifact_type=manifest.artifact_type
                or (manifest.config.media_type if manifest.config else None),
                size=size,
                subject_digest=manifest.subject.digest if manifest.subject else None,
                blobs=[(d.digest, d.media_type) for d in manifest.stored_blobs],
                children=[c.digest for c in manifest.children],
            ),
            tag,
        )
        return digest

    async def _check_references(self, repository: Repository, manifest: manifests.Manifest) -> int:
        """Refuse missing or mis-sized blobs and missing children; return the image size."""
        metadata = self.ctx.metadata
        if manifest.is_index:
            wanted = [c.digest for c in manifest.children]
            found = await metadata.existing_images(repository.id, wanted)
            missing = [d for d in dict.fromkeys(wanted) if d not in found]
            if missing:
                raise ReferencedImagesNotFoundException(
                    f"Manifests referenced by the index are not in the repository with name "
                    f"'{repository.name}' in the registry with id '{repository.registry_id}': "
                    f"{', '.join(missing)}"
                )
            children = await metadata.describe_images(
                repository.id, wanted, "ANY", None, len(wanted)
            )
            return max((child.size for child in children), default=0)
        stored = manifest.stored_blobs
        sizes = await metadata.linked_blob_sizes(repository.id, [d.digest for d in stored])
        missing = [d.digest for d in stored if d.digest not in sizes]
        if missing:
            raise LayersNotFoundException(
                f"The following layers referenced by the manifest are not in the repository "
                f"with name '{repository.name}' in the registry with id "
                f"'{repository.registry_id}': {', '.join(dict.fromkeys(missing))}"
            )
        for descriptor in stored:
            if sizes[descriptor.digest] != descriptor.size:
                raise InvalidParameterException(
                    f"Invalid parameter at 'imageManifest' failed to satisfy constraint: 'the "
                    f"manifest gives {descriptor.digest} a size of {descriptor.size} bytes, but "
                    f"the layer has {sizes[descriptor.digest]} bytes'"
                )
        return sum(d.size for d in manifest.layers)

    async def _check_tag(self, repository: Repository, digest: str, tag: str | None) -> None:
        metadata = self.ctx.metadata
        # ECR's wording: "… in the repository with name 'x' in registry with id '123'".
        where = (
            f"the repository with name '{repository.name}' in registry with id "
            f"'{repository.registry_id}'"
        )
        if tag is None:
            if await metadata.get_image(repository.id, digest) is not None:
                raise ImageAlreadyExistsException(
                    f"Image with digest '{digest}' already exists in {where}"
                )
            return
        current = await metadata.image_digest_for_tag(repository.id, tag)
        if current == digest:
            raise ImageAlreadyExistsException(
                f"Image with digest '{digest}' and tag '{tag}' already exists in {where}"
            )
        if current is not None and tag_is_immutable(repository, tag):
            # ECR's words for IMMUTABLE; the *_WITH_EXCLUSION modes make single tags immutable.
            what = "repository" if repository.tag_mutability == "IMMUTABLE" else "tag"
            raise ImageTagAlreadyExistsException(
                f"The image tag '{tag}' already exists in the '{repository.name}' repository "
                f"and cannot be overwritten because the {what} is immutable."
            )

    async def resolve(
        self, repository: Repository, ident: dict[str, Any]
    ) -> tuple[str | None, dict[str, Any] | None]:
        """The digest an ImageIdentifier names, or an ImageFailure explaining why not."""
        digest_text = ident.get("image_digest")
        tag = ident.get("image_tag")
        if not digest_text and not tag:
            return None, failure(ident, "MissingDigestAndTag", "Missing an image digest and tag")
        metadata = self.ctx.metadata
        if digest_text:
            try:
                digest = str(Digest.parse(digest_text))
            except InvalidDigest:
                return None, failure(ident, "InvalidImageDigest", "Invalid image digest")
            if tag:
                tagged = await metadata.image_digest_for_tag(repository.id, tag)
                if tagged is not None and tagged != digest:
                    return None, failure(
                        ident, "ImageTagDoesNotMatchDigest", "Tag does not match digest"
                    )
                if tagged is None:
                    return None, failure(ident, "ImageNotFound", "Requested image not found")
            if await metadata.get_manifest(repository.id, digest) is None:
                return None, failure(ident, "ImageNotFound", "Requested image not found")
            return digest, None
        if not TAG.fullmatch(tag or ""):
            return None, failure(ident, "InvalidImageTag", "Invalid image tag")
        found = await metadata.image_digest_for_tag(repository.id, str(tag))
        if found is None:
            return None, failure(ident, "ImageNotFound", "Requested image not found")
        return found, None

    async def batch_get_image(
        self,
        caller: Principal,
        *,
        repository_name: str,
        image_ids: list[dict[str, Any]],
        registry_id: str | None = None,
        accepted_media_types: list[str] | None = None,
    ) -> dict[str, Any]:
        """Manifests of the named images, with a failure entry for each one not served."""
        repository = await find_repository(
            self.ctx, caller, registry_id, repository_name, "BatchGetImage"
        )
        found: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        for ident in image_ids:
            digest, problem = await self.resolve(repository, ident)
            if problem is not None or digest is None:
                failures.append(problem or {})
                continue
            stored = await self.ctx.metadata.get_manifest(repository.id, digest)
            if stored is None:  # deleted between the two reads
                failures.append(failure(ident, "ImageNotFound", "Requested image not found"))
                continue
            raw, media_type = stored
            if accepted_media_types and media_type not in accepted_media_types:
                failures.append(
                    failure(
                        ident,
                        "ImageNotFound",
                        f"The image's media type {media_type} is not one of the accepted "
                        f"media types",
                    )
                )
                continue
            found.append(
                {
                    "registry_id": repository.registry_id,
                    "repository_name": repository.name,
                    "image_id": image_id(digest, ident.get("image_tag")),
                    "image_manifest": raw.decode(),
                    "image_manifest_media_type": media_type,
                }
            )
        return {"images": found, "failures": failures}

    async def batch_delete_image(
        self,
        caller: Principal,
        *,
        repository_name: str,
        image_ids: list[dict[str, Any]],
        registry_id: str | None = None,
    ) -> dict[str, Any]:
        """Delete images by digest, or untag by tag (removing the last tag deletes the image)."""
        repository = await find_repository(
            self.ctx, caller, registry_id, repository_name, "BatchDeleteImage"
        )
        metadata = self.ctx.metadata
        deleted: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        for ident in image_ids:
            digest, problem = await self.resolve(repository, ident)
            if problem is not None or digest is None:
                failures.append(problem or {})
                continue
            image = await metadata.get_image(repository.id, digest)
            if image is None:
                failures.append(failure(ident, "ImageNotFound", "Requested image not found"))
                continue
            by_tag_only = ident.get("image_tag") and not ident.get("image_digest")
            if by_tag_only and len(image.tags) > 1:
                await metadata.delete_tag(repository.id, ident["image_tag"])
                deleted.append(image_id(digest, ident["image_tag"]))
                continue
            parents = await metadata.parents_of(repository.id, digest)
            if parents:
                failures.append(
                    failure(
                        ident,
                        "ImageReferencedByManifestList",
                        f"Requested image referenced by manifest list: [{', '.join(parents)}]",
                    )
                )
                continue
            await metadata.delete_image(repository.id, digest)
            deleted.extend(image_id(digest, tag) for tag in image.tags or [None])
        return {"image_ids": deleted, "failures": failures}
