"""The only place blob-store keys are built.

Layout under a store's root (a directory, or a bucket prefix)::

    blobs/
      sha256/
        ab/
          ab12…ef          one immutable blob, named by the hex of its digest
    uploads/
      <uuid>               bytes of an upload in progress, appended in order

Keys are made from a validated :class:`~layerport.digest.Digest` or a UUID
upload id only, so no client string can name a key outside these two trees.
"""

from __future__ import annotations

import uuid

from layerport.digest import Digest


def blob_key(digest: Digest) -> str:
    """Key of the committed blob with ``digest``."""
    return f"blobs/{digest.algorithm}/{digest.hex[:2]}/{digest.hex}"


def upload_key(upload_id: str) -> str:
    """Key of the bytes of upload ``upload_id`` (a UUID; anything else is refused)."""
    return f"uploads/{uuid.UUID(upload_id)}"
