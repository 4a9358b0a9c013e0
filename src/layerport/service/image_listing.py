"""ListImages and DescribeImages: paged views of a repository's images."""

from __future__ import annotations

from typing import Any

from layerport.auth.principals import Principal
from layerport.errors import ImageNotFoundException, InvalidParameterException
from layerport.service.context import (
    DEFAULT_PAGE,
    ServiceContext,
    decode_token,
    encode_token,
    find_repository,
    from_ms,
)
from layerport.service.images import Images, image_id
from layerport.store.metadata import Image, Repository


class ImageListing:
    """Listing and describing images."""

    def __init__(self, ctx: ServiceContext, images: Images) -> None:
        self.ctx = ctx
        self.images = images

    async def list_images(
        self,
        caller: Principal,
        *,
        repository_name: str,
        registry_id: str | None = None,
        next_token: str | None = None,
        max_results: int | None = None,
        filter: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One entry per tag and one per untagged image, ordered by digest, paged."""
        repository = await find_repository(
            self.ctx, caller, registry_id, repository_name, "ListImages"
        )
        tag_status = (filter or {}).get("tag_status", "ANY")
        limit = max_results or DEFAULT_PAGE
        after = decode_token(next_token, pair=True)
        position = (str(after[0]), str(after[1])) if after else None
        rows = await self.ctx.metadata.list_images(repository.id, tag_status, position, limit + 1)
        out: dict[str, Any] = {"image_ids": [image_id(d, t) for d, t in rows[:limit]]}
        if len(rows) > limit:
            last_digest, last_tag = rows[limit - 1]
            out["next_token"] = encode_token([last_digest, last_tag or ""])
        return out

    def detail(self, repository: Repository, image: Image) -> dict[str, Any]:
        """The ``ImageDetail`` shape of an image."""
        detail: dict[str, Any] = {
            "registry_id": repository.registry_id,
            "repository_name": repository.name,
            "image_digest": image.digest,
            "image_size_in_bytes": image.size,
            "image_pushed_at": from_ms(image.pushed_ms),
            "image_manifest_media_type": image.media_type,
            "image_status": "ACTIVE",
        }
        if image.tags:
            detail["image_tags"] = list(image.tags)
        if image.artifact_type:
            detail["artifact_media_type"] = image.artifact_type
        if image.subject_digest:
            detail["subject_manifest_digest"] = image.subject_digest
        return detail

    async def describe_images(
        self,
        caller: Principal,
        *,
        repository_name: str,
        registry_id: str | None = None,
        image_ids: list[dict[str, Any]] | None = None,
        next_token: str | None = None,
        max_results: int | None = None,
        filter: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Details of the named images (each must exist), or of all images, paged."""
        repository = await find_repository(
            self.ctx, caller, registry_id, repository_name, "DescribeImages"
        )
        metadata = self.ctx.metadata
        tag_status = (filter or {}).get("tag_status", "ANY")
        if image_ids is not None:
            if next_token is not None or max_results is not None:
                raise InvalidParameterException(
                    "Invalid parameter: nextToken and maxResults cannot be used with imageIds"
                )
            digests: list[str] = []
            for ident in image_ids:
                digest, _ = await self.images.resolve(repository, ident)
                if digest is None:
                    # ECR shows both members, 'null' for an absent one.
                    shown = (
                        f"imageDigest:'{ident.get('image_digest') or 'null'}', "
                        f"imageTag:'{ident.get('image_tag') or 'null'}'"
                    )
                    raise ImageNotFoundException(
                        f"The image with imageId {{{shown}}} does not exist within the "
                        f"repository with name '{repository.name}' in the registry with id "
                        f"'{repository.registry_id}'"
                    )
                digests.append(digest)
            unique = list(dict.fromkeys(digests))
            found = await metadata.describe_images(repository.id, unique, "ANY", None, len(unique))
            return {"image_details": [self.detail(repository, image) for image in found]}
        limit = max_results or DEFAULT_PAGE
        after = decode_token(next_token)
        rows = await metadata.describe_images(
            repository.id, None, tag_status, str(after) if after else None, limit + 1
        )
        out: dict[str, Any] = {
            "image_details": [self.detail(repository, image) for image in rows[:limit]]
        }
        if len(rows) > limit:
            out["next_token"] = encode_token(rows[limit - 1].digest)
        return out
