"""Pure parsing of image manifests and indexes (Docker v2 schema 2, OCI v1.1).

No I/O: given the exact bytes and the declared media type, say what the
manifest is and which blobs and child manifests it references, or raise
:class:`ManifestError` with a message fit for the client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from layerport.digest import Digest, InvalidDigest

DOCKER_MANIFEST: Final = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST: Final = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1: Final = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED: Final = "application/vnd.docker.distribution.manifest.v1+prettyjws"
OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX: Final = "application/vnd.oci.image.index.v1+json"

#: Descriptor sizes are int64 (OCI image spec), as the stores keep them.
MAX_SIZE: Final = 2**63 - 1
#: RFC 6838: a type name and a subtype name of at most 127 characters each.
MAX_MEDIA_TYPE: Final = 255

IMAGE_MANIFESTS: Final = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})
INDEXES: Final = frozenset({DOCKER_LIST, OCI_INDEX})
SUPPORTED: Final = IMAGE_MANIFESTS | INDEXES

#: Layers that registries do not store (their bytes live at the descriptor's urls).
FOREIGN_LAYERS: Final = frozenset(
    {
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    }
)


class ManifestError(ValueError):
    """The bytes are not a manifest layerport can store; the message says why."""


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A content descriptor: what a manifest says about one blob or manifest."""

    media_type: str | None
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a manifest is and what it references."""

    media_type: str
    config: Descriptor | None
    layers: tuple[Descriptor, ...]
    children: tuple[Descriptor, ...]
    subject: Descriptor | None
    artifact_type: str | None

    @property
    def is_index(self) -> bool:
        """Whether this is a manifest list / image index."""
        return self.media_type in INDEXES

    @property
    def stored_blobs(self) -> tuple[Descriptor, ...]:
        """Config and layers whose bytes the repository must hold (foreign layers excluded)."""
        layers = tuple(d for d in self.layers if d.media_type not in FOREIGN_LAYERS)
        return (self.config, *layers) if self.config else layers


def parse(raw: bytes, declared: str | None) -> Manifest:
    """Parse ``raw`` as a manifest, honouring the media type the client declared."""
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ManifestError(f"the manifest is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ManifestError("the manifest must be a JSON object")
    media_type = _media_type(doc, declared)
    subject = _descriptor(doc["subject"], "subject") if doc.get("subject") is not None else None
    artifact_type = _optional_str(doc, "artifactType")
    if media_type in INDEXES:
        children = _descriptors(doc, "manifests")
        return Manifest(media_type, None, (), children, subject, artifact_type)
    if "config" not in doc:
        raise ManifestError("an image manifest needs a 'config' descriptor")
    config = _descriptor(doc["config"], "config")
    layers = _descriptors(doc, "layers")
    if sum(layer.size for layer in layers) > MAX_SIZE:
        raise ManifestError(f"the layers' sizes add up to more than {MAX_SIZE} bytes")
    if artifact_type is None and media_type == OCI_MANIFEST:
        artifact_type = config.media_type
    return Manifest(media_type, config, layers, (), subject, artifact_type)


def _media_type(doc: dict[str, Any], declared: str | None) -> str:
    if doc.get("schemaVersion") == 1 or declared in (DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED):
        raise ManifestError("Docker image manifest v2 schema 1 is not supported")
    if doc.get("schemaVersion") != 2:
        raise ManifestError("the manifest's schemaVersion must be 2")
    inner = _optional_str(doc, "mediaType")
    if declared and inner and declared != inner:
        raise ManifestError(
            f"the declared media type {declared!r} does not match the manifest's {inner!r}"
        )
    media_type = declared or inner
    if media_type is None:
        # OCI allows mediaType to be absent; tell an index from a manifest by shape.
        media_type = OCI_INDEX if "manifests" in doc else OCI_MANIFEST
    if media_type not in SUPPORTED:
        raise ManifestError(f"unsupported manifest media type {media_type!r}")
    return media_type


def _optional_str(doc: dict[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise ManifestError(f"'{key}' must be a string")
    if value is not None and len(value) > MAX_MEDIA_TYPE:
        raise ManifestError(f"'{key}' is longer than a media type may be ({MAX_MEDIA_TYPE})")
    return value


def _descriptors(doc: dict[str, Any], key: str) -> tuple[Descriptor, ...]:
    items = doc.get(key, [])
    if not isinstance(items, list):
        raise ManifestError(f"'{key}' must be a list of descriptors")
    return tuple(_descriptor(item, f"{key}[{i}]") for i, item in enumerate(items))


def _descriptor(item: Any, where: str) -> Descriptor:
    if not isinstance(item, dict):
        raise ManifestError(f"{where} must be a descriptor object")
    digest = item.get("digest")
    size = item.get("size")
    if not isinstance(digest, str):
        raise ManifestError(f"{where} needs a 'digest'")
    try:
        Digest.parse(digest)
    except InvalidDigest as exc:
        raise ManifestError(f"{where}: {exc}") from None
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SIZE:
        raise ManifestError(f"{where} needs a non-negative integer 'size' of at most {MAX_SIZE}")
    media_type = item.get("mediaType")
    if media_type is not None and not isinstance(media_type, str):
        raise ManifestError(f"{where}: 'mediaType' must be a string")
    if media_type is not None and len(media_type) > MAX_MEDIA_TYPE:
        raise ManifestError(f"{where}: 'mediaType' is longer than {MAX_MEDIA_TYPE} characters")
    return Descriptor(media_type, digest, size)
