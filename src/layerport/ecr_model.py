"""The ECR service model that ships inside botocore: the single source of truth.

Operation names, input and output shapes, constraints and error shapes all come
from ``botocore/data/ecr/2015-09-21/service-2.json``.  botocore's own
``ParamValidator`` checks lengths and ranges but not ``pattern`` or ``enum``, and it
words its errors for a client; a server must answer in ECR's words
("Invalid parameter at 'repositoryName' failed to satisfy constraint: ..."), so
constraints are checked here, by walking the shapes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any, Final

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

TARGET_PREFIX: Final = "AmazonEC2ContainerRegistry_V20150921"


@functools.cache
def service_model() -> ServiceModel:
    """The ECR service model, loaded once per process."""
    return botocore.session.get_session().get_service_model("ecr")


@functools.cache
def operation_model(name: str) -> OperationModel | None:
    """The model of operation ``name`` (e.g. ``GetDownloadUrlForLayer``), or None."""
    model = service_model()
    if name not in model.operation_names:
        return None
    return model.operation_model(name)


def error_codes(operation: str) -> frozenset[str]:
    """The error shape names the model lists for ``operation``."""
    op = operation_model(operation)
    return frozenset(shape.name for shape in op.error_shapes) if op else frozenset()


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def constraint_violations(shape: Shape, value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield ``(path, constraint)`` for every way ``value`` breaks ``shape``'s constraints.

    ``value`` has already been type-checked and decoded (blobs are bytes).  Paths
    name members the way ECR's messages do: ``repositoryName``,
    ``imageIds.1.member.imageTag``.
    """
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        for name, member in shape.members.items():
            sub = f"{path}.{name}" if path else name
            if name not in value or value[name] is None:
                if name in shape.required_members:
                    yield sub, "Member must not be null"
                continue
            yield from constraint_violations(member, value[name], sub)
        return
    if kind in ("string", "blob", "list", "map"):
        size = len(value)
        if "min" in meta and size < meta["min"]:
            yield path, f"Member must have length greater than or equal to {meta['min']}"
        if "max" in meta and size > meta["max"]:
            yield path, f"Member must have length less than or equal to {meta['max']}"
    elif kind in ("integer", "long"):
        if "min" in meta and value < meta["min"]:
            yield path, f"Member must have value greater than or equal to {meta['min']}"
        if "max" in meta and value > meta["max"]:
            yield path, f"Member must have value less than or equal to {meta['max']}"
    if kind == "string":
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            yield path, f"Member must satisfy enum value set: [{', '.join(enum)}]"
        pattern = meta.get("pattern")
        if pattern and not _pattern(pattern).fullmatch(value):
            yield path, f"must satisfy regular expression '{pattern}'"
    elif kind == "list":
        for index, item in enumerate(value, start=1):
            yield from constraint_violations(shape.member, item, f"{path}.{index}.member")
    elif kind == "map":
        for key, item in value.items():
            yield from constraint_violations(shape.key, key, f"{path}.key")
            yield from constraint_violations(shape.value, item, f"{path}.{key}")
