"""The ECR operations and their rules: no HTTP, no SQL.

:class:`Service` composes one object per noun; :attr:`Service.operations` maps
each ECR operation name to its coroutine, explicitly, so what layerport serves
is visible in one place and tested against the botocore model.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from layerport.auth.principals import Principal
from layerport.service.authorization import Authorization
from layerport.service.context import ServiceContext
from layerport.service.image_listing import ImageListing
from layerport.service.images import Images
from layerport.service.layers import Layers
from layerport.service.policies import RepositoryPolicies
from layerport.service.registry import Registry
from layerport.service.repositories import Repositories
from layerport.service.uploads import Uploads

Operation = Callable[..., Awaitable[dict[str, Any]]]


class Service:
    """Every ECR operation layerport implements, over one :class:`ServiceContext`."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.repositories = Repositories(ctx)
        self.images = Images(ctx)
        self.listing = ImageListing(ctx, self.images)
        self.layers = Layers(ctx)
        self.uploads = Uploads(ctx)
        self.authorization = Authorization(ctx)
        self.registry = Registry(ctx, self.images, self.repositories)
        self.policies = RepositoryPolicies(ctx)
        self.operations: dict[str, Operation] = {
            "CreateRepository": self.repositories.create_repository,
            "DescribeRepositories": self.repositories.describe_repositories,
            "DeleteRepository": self.repositories.delete_repository,
            "InitiateLayerUpload": self.uploads.initiate_layer_upload,
            "UploadLayerPart": self.uploads.upload_layer_part,
            "CompleteLayerUpload": self.uploads.complete_layer_upload,
            "BatchCheckLayerAvailability": self.layers.batch_check_layer_availability,
            "GetDownloadUrlForLayer": self.layers.get_download_url_for_layer,
            "PutImage": self.images.put_image,
            "BatchGetImage": self.images.batch_get_image,
            "BatchDeleteImage": self.images.batch_delete_image,
            "ListImages": self.listing.list_images,
            "DescribeImages": self.listing.describe_images,
            "GetAuthorizationToken": self.authorization.get_authorization_token,
            "SetRepositoryPolicy": self.policies.set_repository_policy,
            "GetRepositoryPolicy": self.policies.get_repository_policy,
            "DeleteRepositoryPolicy": self.policies.delete_repository_policy,
            "TagResource": self.policies.tag_resource,
            "UntagResource": self.policies.untag_resource,
            "ListTagsForResource": self.policies.list_tags_for_resource,
        }

    async def call(self, operation: str, caller: Principal, params: dict[str, Any]) -> Any:
        """Run ``operation`` for ``caller`` with snake_case ``params``."""
        return await self.operations[operation](caller, **params)
