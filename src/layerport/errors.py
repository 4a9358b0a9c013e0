"""Every protocol error layerport raises, declared once with its code and HTTP status.

``code`` is the error shape name in botocore's ECR model (or, for the errors
every AWS JSON service shares, the name AWS sends), so botocore raises the same
exception class against layerport as against ECR.  The registry face maps these
to OCI error codes through :data:`OCI_ERRORS`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class EcrError(Exception):
    """An error answered as ``{"__type": code, "message": ...}`` with ``http_status``.

    ``fields`` are extra members of the error shape (for example
    ``lastValidByteReceived`` of InvalidLayerPartException), already camelCase.
    """

    code: ClassVar[str] = "ServerException"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


# --- ECR model errors -------------------------------------------------------------------
class ServerException(EcrError):
    """A fault inside layerport (a 5xx: botocore retries it)."""

    code = "ServerException"
    http_status = 500


class InvalidParameterException(EcrError):
    """The request does not satisfy the model or the operation's rules."""

    code = "InvalidParameterException"


class RepositoryNotFoundException(EcrError):
    """No repository of that name in that registry."""

    code = "RepositoryNotFoundException"


class RepositoryAlreadyExistsException(EcrError):
    """CreateRepository on a name that is taken."""

    code = "RepositoryAlreadyExistsException"


class RepositoryNotEmptyException(EcrError):
    """DeleteRepository without force on a repository that still holds images."""

    code = "RepositoryNotEmptyException"


class LayersNotFoundException(EcrError):
    """The layer was never uploaded to, or linked into, this repository."""

    code = "LayersNotFoundException"


class LayerInaccessibleException(EcrError):
    """The layer is in the repository but no image references it."""

    code = "LayerInaccessibleException"


class UnableToGetUpstreamLayerException(EcrError):
    """A pull-through cache's upstream could not supply the layer."""

    code = "UnableToGetUpstreamLayerException"


class UploadNotFoundException(EcrError):
    """No upload with that id in that repository."""

    code = "UploadNotFoundException"


class InvalidLayerPartException(EcrError):
    """A part is out of order, overlaps, or has the wrong length."""

    code = "InvalidLayerPartException"


class InvalidLayerException(EcrError):
    """The uploaded bytes do not hash to the digest the client named."""

    code = "InvalidLayerException"


class LayerAlreadyExistsException(EcrError):
    """CompleteLayerUpload of a layer the repository already has."""

    code = "LayerAlreadyExistsException"


class EmptyUploadException(EcrError):
    """CompleteLayerUpload of an upload that received no bytes."""

    code = "EmptyUploadException"


class ImageAlreadyExistsException(EcrError):
    """PutImage of the same manifest under the same tag (or untagged) again."""

    code = "ImageAlreadyExistsException"


class ImageTagAlreadyExistsException(EcrError):
    """PutImage would move a tag in an IMMUTABLE repository."""

    code = "ImageTagAlreadyExistsException"


class ImageDigestDoesNotMatchException(EcrError):
    """PutImage's imageDigest is not the digest of the manifest bytes."""

    code = "ImageDigestDoesNotMatchException"


class ImageNotFoundException(EcrError):
    """DescribeImages named an image the repository does not have."""

    code = "ImageNotFoundException"


class ReferencedImagesNotFoundException(EcrError):
    """An index names child manifests the repository does not have."""

    code = "ReferencedImagesNotFoundException"


class RepositoryPolicyNotFoundException(EcrError):
    """The repository has no repository policy."""

    code = "RepositoryPolicyNotFoundException"


class InvalidTagParameterException(EcrError):
    """A resource tag is too long, empty, or given twice."""

    code = "InvalidTagParameterException"


class LimitExceededException(EcrError):
    """A service quota would be exceeded."""

    code = "LimitExceededException"


class UnsupportedImageTypeException(EcrError):
    """The manifest's type is not one layerport stores."""

    code = "UnsupportedImageTypeException"


# --- Errors common to every AWS JSON service (not in the ECR model) ---------------------
class UnknownOperationException(EcrError):
    """The X-Amz-Target names no operation layerport serves."""

    code = "UnknownOperationException"


class SerializationException(EcrError):
    """The body is not a JSON object of the operation's input shape."""

    code = "SerializationException"


class MissingAuthenticationTokenException(EcrError):
    """The request carries no SigV4 authorization."""

    code = "MissingAuthenticationTokenException"
    http_status = 403


class UnrecognizedClientException(EcrError):
    """The access key id is unknown or inactive."""

    code = "UnrecognizedClientException"


class InvalidSignatureException(EcrError):
    """The signature, its scope or its date is wrong (including "Signature expired")."""

    code = "InvalidSignatureException"


class IncompleteSignatureException(EcrError):
    """The Authorization header is malformed."""

    code = "IncompleteSignatureException"


class AccessDeniedException(EcrError):
    """The principal may not perform the action on the resource."""

    code = "AccessDeniedException"


class ThrottlingException(EcrError):
    """The access key sends requests faster than its rate limit."""

    code = "ThrottlingException"


#: ECR error code -> (OCI distribution-spec error code, HTTP status) for the /v2/ face.
#: A route may override an entry where the spec names a more precise code (a manifest
#: PUT that references a missing blob answers MANIFEST_BLOB_UNKNOWN, not BLOB_UNKNOWN).
OCI_ERRORS: dict[str, tuple[str, int]] = {
    "RepositoryNotFoundException": ("NAME_UNKNOWN", 404),
    "LayersNotFoundException": ("BLOB_UNKNOWN", 404),
    "LayerInaccessibleException": ("BLOB_UNKNOWN", 404),
    "ImageNotFoundException": ("MANIFEST_UNKNOWN", 404),
    "ReferencedImagesNotFoundException": ("MANIFEST_BLOB_UNKNOWN", 400),
    "ImageDigestDoesNotMatchException": ("DIGEST_INVALID", 400),
    "ImageTagAlreadyExistsException": ("TAG_INVALID", 400),
    "UploadNotFoundException": ("BLOB_UPLOAD_UNKNOWN", 404),
    "InvalidLayerException": ("DIGEST_INVALID", 400),
    "InvalidLayerPartException": ("BLOB_UPLOAD_INVALID", 416),
    "EmptyUploadException": ("BLOB_UPLOAD_INVALID", 400),
    "InvalidParameterException": ("UNSUPPORTED", 400),
    "LimitExceededException": ("TOOMANYREQUESTS", 429),
    "AccessDeniedException": ("DENIED", 403),
    "ThrottlingException": ("TOOMANYREQUESTS", 429),
    "ServerException": ("UNKNOWN", 500),
}
