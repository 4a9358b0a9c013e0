"""Digest parsing and incremental hashing."""

from __future__ import annotations

import hashlib

import pytest

from layerport.digest import Digest, Hasher, InvalidDigest
from layerport.store.blobs import layout


def test_parse_round_trips() -> None:
    text = "sha256:" + "a" * 64
    assert str(Digest.parse(text)) == text
    assert Digest.parse("sha512:" + "0" * 128).algorithm == "sha512"


@pytest.mark.parametrize(
    "text",
    [
        "sha256",
        "md5:" + "a" * 32,
        "sha256:" + "a" * 63,
        "sha256:" + "A" * 64,
        "sha256:" + "g" * 64,
        "sha256:../../etc/passwd",
        "",
    ],
)
def test_parse_refuses(text: str) -> None:
    with pytest.raises(InvalidDigest):
        Digest.parse(text)


def test_hasher_matches_hashlib_across_chunks() -> None:
    hasher = Hasher()
    for chunk in (b"a" * 10, b"b" * 1000, b""):
        hasher.update(chunk)
    peek = hasher.copy()
    hasher.update(b"c")
    assert peek.digest().hex == hashlib.sha256(b"a" * 10 + b"b" * 1000).hexdigest()
    assert hasher.size == 1011


def test_layout_keys_come_only_from_digests_and_uuids() -> None:
    digest = Digest.parse("sha256:" + "ab" * 32)
    assert layout.blob_key(digest) == f"blobs/sha256/ab/{'ab' * 32}"
    with pytest.raises(ValueError, match="badly formed"):
        layout.upload_key("../../etc")
