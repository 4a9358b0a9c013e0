"""Build OCI image layouts on disk (``skopeo copy oci:DIR:TAG``) with real tar.gz layers."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.media_types import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST


@dataclass
class Blob:
    """A blob written into a layout."""

    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": len(self.data),
            **extra,
        }


def layer(files: dict[str, bytes]) -> tuple[Blob, str]:
    """A gzipped tar layer holding ``files``; returns it and its diff id (uncompressed digest)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = 0
            archive.addfile(info, io.BytesIO(content))
    tar = raw.getvalue()
    zipped = gzip.compress(tar, mtime=0)
    return Blob(OCI_LAYER, zipped), "sha256:" + hashlib.sha256(tar).hexdigest()


class Layout:
    """An OCI image layout directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        self.index: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}

    def write(self, blob: Blob) -> Blob:
        (self.root / "blobs" / "sha256" / blob.digest.split(":")[1]).write_bytes(blob.data)
        return blob

    def image(self, layers: list[dict[str, bytes]], arch: str = "amd64") -> tuple[Blob, list[Blob]]:
        """Write one image (config + layers + manifest); returns its manifest and layers."""
        built = [layer(files) for files in layers]
        config = self.write(
            Blob(
                OCI_CONFIG,
                json.dumps(
                    {
                        "architecture": arch,
                        "os": "linux",
                        "rootfs": {"type": "layers", "diff_ids": [diff for _, diff in built]},
                    }
                ).encode(),
            )
        )
        blobs = [self.write(blob) for blob, _ in built]
        manifest = self.write(
            Blob(
                OCI_MANIFEST,
                json.dumps(
                    {
                        "schemaVersion": 2,
                        "mediaType": OCI_MANIFEST,
                        "config": config.descriptor(),
                        "layers": [blob.descriptor() for blob in blobs],
                    }
                ).encode(),
            )
        )
        return manifest, blobs

    def tag(self, manifest: Blob, tag: str, **extra: Any) -> None:
        """Name ``manifest`` in index.json (what ``oci:DIR:TAG`` refers to)."""
        annotations = {"org.opencontainers.image.ref.name": tag}
        self.index["manifests"].append(manifest.descriptor(annotations=annotations, **extra))
        (self.root / "index.json").write_text(json.dumps(self.index))

    def multi_arch(self, images: dict[str, Blob]) -> Blob:
        """Write an image index over per-architecture manifests."""
        return self.write(
            Blob(
                OCI_INDEX,
                json.dumps(
                    {
                        "schemaVersion": 2,
                        "mediaType": OCI_INDEX,
                        "manifests": [
                            blob.descriptor(platform={"architecture": arch, "os": "linux"})
                            for arch, blob in images.items()
                        ],
                    }
                ).encode(),
            )
        )
