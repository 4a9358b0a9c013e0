"""Parse ``/v2/`` paths, whose repository names may themselves contain slashes.

The resource is read from the right-hand end of the path (``…/manifests/<ref>``,
``…/blobs/uploads/<id>``, …); what is left is the repository name, which must
then satisfy the ECR model's name pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from layerport import ecr_model

_ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("catalog", re.compile(r"_catalog")),
    ("tags", re.compile(r"(?P<name>.+)/tags/list")),
    ("manifest", re.compile(r"(?P<name>.+)/manifests/(?P<ref>[^/]+)")),
    ("upload", re.compile(r"(?P<name>.+)/blobs/uploads/(?P<ref>[^/]*)")),
    ("blob", re.compile(r"(?P<name>.+)/blobs/(?P<ref>[^/]+)")),
    ("referrers", re.compile(r"(?P<name>.+)/referrers/(?P<ref>[^/]+)")),
)


@dataclass(frozen=True, slots=True)
class Route:
    """What a ``/v2/`` path addresses."""

    kind: str  # base, catalog, tags, manifest, upload, blob, referrers
    name: str = ""
    ref: str = ""


class BadName(ValueError):
    """The repository name in the path is not a valid repository name."""


def _name_pattern() -> re.Pattern[str]:
    shape = ecr_model.service_model().shape_for("RepositoryName")
    return re.compile(shape.metadata["pattern"])


_NAME = _name_pattern()


def parse(tail: str) -> Route | None:
    """The route for the path after ``/v2/``; None when nothing matches."""
    if tail in ("", "/"):
        return Route("base")
    for kind, pattern in _ROUTES:
        match = pattern.fullmatch(tail)
        if match:
            groups = match.groupdict()
            name = groups.get("name") or ""
            if kind != "catalog" and (not _NAME.fullmatch(name) or not 2 <= len(name) <= 256):
                raise BadName(name)
            return Route(kind, name, groups.get("ref") or "")
    return None
