"""Model-driven JSON 1.1 decoding and encoding for the ECR face.

Requests arrive as camelCase JSON; the service takes snake_case keyword
arguments (``botocore.xform_name``), bytes for blobs and aware datetimes for
timestamps.  Replies go the other way, with timestamps as epoch seconds, as
AWS JSON 1.1 services send them.  Everything is driven by the shapes, so adding
an operation adds no code here.
"""

from __future__ import annotations

import base64
import binascii
import functools
from datetime import UTC, datetime
from typing import Any

from botocore import xform_name
from botocore.model import Shape

from layerport.errors import SerializationException

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
    "blob": (str,),
    "timestamp": (int, float),
}


@functools.cache
def _snake(name: str) -> str:
    return str(xform_name(name))


def decode(shape: Shape, value: Any, path: str = "") -> Any:
    """Check JSON types against ``shape`` and turn blobs and timestamps into Python values.

    Keys stay camelCase (the model's member names) so constraints can be checked
    next; unknown members are dropped, as AWS JSON services ignore them.
    """
    kind = shape.type_name
    expected = _JSON_TYPES.get(kind, (object,))
    if value is None:
        return None
    if not isinstance(value, expected) or (kind in ("integer", "long") and isinstance(value, bool)):
        where = f" at '{path}'" if path else ""
        raise SerializationException(f"Unexpected value type{where}: expected {kind}")
    return _convert(shape, value, path)


def _convert(shape: Shape, value: Any, path: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return {
            name: decode(member, value[name], f"{path}.{name}" if path else name)
            for name, member in shape.members.items()
            if name in value
        }
    if kind == "list":
        return [decode(shape.member, item, f"{path}.member") for item in value]
    if kind == "map":
        return {key: decode(shape.value, item, f"{path}.{key}") for key, item in value.items()}
    if kind == "blob":
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):  # ValueError: not even ASCII
            raise SerializationException(f"Value at '{path}' is not valid base64") from None
    if kind == "timestamp":
        return datetime.fromtimestamp(value, UTC)
    if kind == "string" and not value.isascii():
        try:  # JSON can escape a lone surrogate ("\ud800"); no store can keep one
            value.encode()
        except UnicodeEncodeError:
            raise SerializationException(f"Value at '{path}' is not valid Unicode text") from None
    return value


def to_kwargs(shape: Shape, value: dict[str, Any]) -> dict[str, Any]:
    """Rename the members of a decoded structure to snake_case, all the way down."""
    return {_snake(name): _snake_value(shape.members[name], item) for name, item in value.items()}


def _snake_value(shape: Shape, value: Any) -> Any:
    if value is None:
        return None
    if shape.type_name == "structure":
        return to_kwargs(shape, value)
    if shape.type_name == "list":
        return [_snake_value(shape.member, item) for item in value]
    return value


def encode(shape: Shape, value: Any) -> Any:
    """Turn a service result (snake_case keys) into the JSON value ``shape`` describes.

    Members the shape does not have are a programming error and raise KeyError
    in tests rather than leaking internal fields onto the wire.
    """
    kind = shape.type_name
    if kind == "structure":
        members = _members_by_snake(shape)
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            name = members[key]
            out[name] = encode(shape.members[name], item)
        return out
    if kind == "list":
        return [encode(shape.member, item) for item in value]
    if kind == "map":
        return {key: encode(shape.value, item) for key, item in value.items()}
    if kind == "blob":
        return base64.b64encode(value).decode("ascii")
    if kind == "timestamp":
        return round(value.timestamp(), 3)
    return value


@functools.cache
def _members_by_snake_cached(shape_name: str, names: tuple[str, ...]) -> dict[str, str]:
    return {_snake(name): name for name in names}


def _members_by_snake(shape: Shape) -> dict[str, str]:
    return _members_by_snake_cached(shape.name, tuple(shape.members))
