"""Hypothesis strategies from botocore shapes: values the model allows, and values it forbids.

:meth:`ShapeStrategies.valid` honours every constraint the ECR model states
(required members, JSON types, min/max, full-match patterns, enums).
:meth:`ShapeStrategies.broken` yields ``(value, must_fail)``: a value with one
defect somewhere inside, and whether that defect alone obliges the server to
refuse the request.  Wrong JSON types, missing required members and broken
constraints must be refused; an unknown member or a null optional member must
not be (AWS JSON services ignore both), and odd-but-legal values (huge numbers
where the model gives no bound, lone surrogates, control characters) only have
to be answered without a 5xx.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import Shape
from hypothesis import strategies as st

Strategy = st.SearchStrategy[Any]

#: The JSON type each model type arrives as (AWS JSON 1.1).
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "blob": (str,),
    "list": (list,),
    "structure": (dict,),
    "map": (dict,),
    "timestamp": (int, float),
}
_BOUNDS = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def _odd_text(low: int, high: int | None) -> Strategy:
    """Strings legal for a member without a pattern, but hard on a server."""
    top = 200_000 if high is None else min(high, 200_000)
    short = st.one_of(
        st.just(""),
        st.just("\ud800"),  # a lone surrogate: valid JSON (as an escape), not encodable as UTF-8
        st.just("a\x00b"),
        st.just("../../etc/passwd"),
        st.just("%00%ff%2e%2e"),
        st.text(st.characters(codec=None, exclude_categories=()), max_size=20),
    ).filter(lambda s: low <= len(s) <= top)
    if top < max(low, 1000):
        return short
    return st.one_of(short, st.integers(max(low, 1000), top).map(lambda n: "\u00e9" * n))


_ANY_JSON: Strategy = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def json_type_ok(kind: str, value: Any) -> bool:
    """Whether ``value`` has the JSON type a ``kind`` member arrives as."""
    if isinstance(value, bool) and kind != "boolean":
        return False
    return isinstance(value, _JSON_TYPES.get(kind, (object,)))


def _wrong_type(kind: str) -> Strategy:
    return _ANY_JSON.filter(lambda v: v is not None and not json_type_ok(kind, v))


def _pattern(shape: Shape) -> re.Pattern[str] | None:
    text = shape.metadata.get("pattern")
    return re.compile(text) if text else None


def string_ok(shape: Shape, value: str) -> bool:
    """Whether a string satisfies the shape's length, pattern and enum."""
    meta = shape.metadata
    if len(value) < meta.get("min", 0) or ("max" in meta and len(value) > meta["max"]):
        return False
    enum = getattr(shape, "enum", None)
    if enum and value not in enum:
        return False
    pattern = _pattern(shape)
    return pattern is None or pattern.fullmatch(value) is not None


class ShapeStrategies:
    """Strategies for the shapes of one service model.

    pools: shape name -> a strategy of interesting values for that shape (names of
    repositories that exist, digests that were pushed, …), mixed with generated ones;
    values that break the shape's constraints are filtered out.
    """

    def __init__(self, pools: Mapping[str, Strategy] | None = None) -> None:
        self.pools = dict(pools or {})
        self._valid: dict[str, Strategy] = {}
        self._broken: dict[str, Strategy] = {}

    # --- values the model allows -------------------------------------------------------------
    def valid(self, shape: Shape) -> Strategy:
        """Values that satisfy ``shape`` (as JSON, blobs base64-encoded)."""
        key = f"{shape.name}:{shape.type_name}"
        if key not in self._valid:
            self._valid[key] = st.deferred(lambda: self._make_valid(shape))
        return self._valid[key]

    def _make_valid(self, shape: Shape) -> Strategy:
        kind = shape.type_name
        meta = shape.metadata
        low, high = meta.get("min", 0), meta.get("max")
        base: Strategy
        if kind == "string":
            base = self._valid_string(shape)
        elif kind in ("integer", "long"):
            lo, hi = _BOUNDS[kind]
            base = st.integers(meta.get("min", lo), meta.get("max", hi))
        elif kind == "boolean":
            base = st.booleans()
        elif kind == "blob":
            size = min(high if high is not None else 256, low + 256)
            base = st.binary(min_size=low, max_size=size).map(
                lambda b: base64.b64encode(b).decode()
            )
        elif kind == "timestamp":
            base = st.integers(0, 2**32)
        elif kind == "list":
            top = low + 3 if high is None else min(high, low + 3)
            base = st.lists(self.valid(shape.member), min_size=low, max_size=top)
        elif kind == "map":
            base = st.dictionaries(
                self.valid(shape.key), self.valid(shape.value), min_size=low, max_size=low + 3
            )
        elif kind == "structure":
            required = {n: self.valid(shape.members[n]) for n in shape.required_members}
            optional = {n: self.valid(m) for n, m in shape.members.items() if n not in required}
            plain = st.fixed_dictionaries(required, optional=optional)
            # Unknown members are ignored by AWS JSON services, so they keep a value valid.
            base = st.one_of(
                plain,
                st.builds(lambda d, extra: {**d, "fuzzUnknownMember": extra}, plain, _ANY_JSON),
            )
        else:  # pragma: no cover - the ECR inputs use no other types
            raise NotImplementedError(kind)
        pool = self.pools.get(shape.name)
        if pool is None:
            return base
        if kind == "string":
            pool = pool.filter(lambda v: isinstance(v, str) and string_ok(shape, v))
        return st.one_of(pool, pool, base)

    def _valid_string(self, shape: Shape) -> Strategy:
        meta = shape.metadata
        low, high = meta.get("min", 0), meta.get("max")
        enum = getattr(shape, "enum", None)
        if enum:
            return st.sampled_from(enum)
        pattern = _pattern(shape)
        if pattern is not None:
            return st.from_regex(pattern, fullmatch=True).filter(lambda s: string_ok(shape, s))
        top = low + 24 if high is None else min(high, low + 24)
        text = st.text(min_size=low, max_size=top)
        return st.one_of(text, text, _odd_text(low, high))

    # --- values with one defect ----------------------------------------------------------------
    def broken(self, shape: Shape) -> Strategy:
        """``(value, must_fail)``: ``shape`` with one defect, and whether it must be refused."""
        key = f"{shape.name}:{shape.type_name}"
        if key not in self._broken:
            self._broken[key] = st.deferred(lambda: self._make_broken(shape))
        return self._broken[key]

    def _make_broken(self, shape: Shape) -> Strategy:
        kind = shape.type_name
        meta = shape.metadata
        low, high = meta.get("min"), meta.get("max")
        fail: list[Strategy] = [_wrong_type(kind)]
        odd: list[Strategy] = []
        if kind == "string":
            fail += self._broken_string(shape)
        elif kind in ("integer", "long"):
            lo, hi = _BOUNDS[kind]
            if low is not None:
                fail.append(st.integers(low - 2**64, low - 1))
            if high is not None:
                fail.append(st.integers(high + 1, high + 2**64))
            # Beyond the type's width: AWS cannot take these, and neither may a 5xx answer them.
            odd.append(st.one_of(st.integers(hi + 1, hi + 2**70), st.integers(lo - 2**70, lo - 1)))
        elif kind == "blob":
            fail.append(
                st.tuples(st.text(max_size=8), st.sampled_from("!#$%&*(),.:;<>?@[]^{|}~ ")).map(
                    lambda t: t[0] + t[1]
                )
            )
            if high is not None and high <= 1 << 20:
                fail.append(st.just(base64.b64encode(b"\0" * (high + 1)).decode()))
        elif kind in ("list", "map"):
            fail += self._broken_collection(shape)
        elif kind == "structure":
            return self._broken_structure(shape)
        return st.one_of(
            *(s.map(lambda v: (v, True)) for s in fail),
            *(s.map(lambda v: (v, False)) for s in odd),
        )

    def _broken_string(self, shape: Shape) -> list[Strategy]:
        meta = shape.metadata
        low, high = meta.get("min", 0), meta.get("max")
        out: list[Strategy] = []
        if low > 0:
            out.append(st.text(max_size=low - 1))
        if high is not None:
            out.append(st.integers(high + 1, high + 3).map(lambda n: "a" * n))
        enum = getattr(shape, "enum", None)
        if enum:
            out.append(st.text(max_size=20).filter(lambda s: s not in enum))
        pattern = _pattern(shape)
        if pattern is not None:
            out.append(
                st.one_of(st.text(max_size=30), st.just(""), st.just("a" * 300)).filter(
                    lambda s: pattern.fullmatch(s) is None
                )
            )
        return out

    def _broken_collection(self, shape: Shape) -> list[Strategy]:
        meta = shape.metadata
        low, high = meta.get("min", 0), meta.get("max")
        is_list = shape.type_name == "list"
        out: list[Strategy] = []
        if low > 0:
            out.append(st.just([] if is_list else {}))
        if high is not None and is_list:
            out.append(
                st.builds(lambda v, n: [v] * n, self.valid(shape.member), st.integers(1, 2)).map(
                    lambda items: items * (high // len(items) + 1)
                )
            )
        if is_list:
            out.append(
                st.builds(
                    lambda items, bad, at: [*items[:at], bad[0], *items[at:]],
                    st.lists(self.valid(shape.member), max_size=2),
                    self.broken(shape.member).filter(lambda pair: pair[1]),
                    st.integers(0, 2),
                )
            )
        return out

    def _broken_structure(self, shape: Shape) -> Strategy:
        members = shape.members
        required = list(shape.required_members)
        valid = self.valid(shape).map(_without_unknown)
        options: list[Strategy] = [_wrong_type("structure").map(lambda v: (v, True))]
        if required:
            name = st.sampled_from(required)
            options.append(
                st.builds(_drop, valid, name).map(lambda v: (v, True)),
            )
            options.append(
                st.builds(_set, valid, name, st.none()).map(lambda v: (v, True)),
            )
        optional = [n for n in members if n not in required]
        if optional:  # null is absent: fine for an optional member
            options.append(
                st.builds(_set, valid, st.sampled_from(optional), st.none()).map(
                    lambda v: (v, False)
                )
            )
        for member_name, member in members.items():
            options.append(
                st.builds(
                    _with_member(member_name, member_name in required),
                    valid,
                    self.broken(member),
                )
            )
        return st.one_of(*options)


def _without_unknown(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k != "fuzzUnknownMember"}


def _drop(value: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k != name}


def _set(value: dict[str, Any], name: str, item: Any) -> dict[str, Any]:
    return {**value, name: item}


def _with_member(
    name: str, required: bool
) -> Callable[[dict[str, Any], tuple[Any, bool]], tuple[dict[str, Any], bool]]:
    def put(value: dict[str, Any], bad: tuple[Any, bool]) -> tuple[dict[str, Any], bool]:
        item, must_fail = bad
        return {**value, name: item}, must_fail or (item is None and required)

    return put
