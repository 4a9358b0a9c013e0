"""Content digests (``algorithm:hex``): parsed and validated once, at the edge.

Store keys are built only from a :class:`Digest`, never from raw strings, so a
digest that reached the blob store cannot name a path outside it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

#: Algorithms a registry may store content under, with their hex lengths (OCI image spec).
ALGORITHMS: Final[dict[str, int]] = {"sha256": 64, "sha512": 128}

_HEX: Final = re.compile(r"[a-f0-9]+")


class InvalidDigest(ValueError):
    """The text is not a digest this registry can store."""


@dataclass(frozen=True, slots=True)
class Digest:
    """A validated content digest: a known algorithm and lower-case hex of the right length."""

    algorithm: str
    hex: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse ``algorithm:hex``; raise :class:`InvalidDigest` for anything else."""
        algorithm, sep, hexpart = text.partition(":")
        if not sep:
            raise InvalidDigest(f"{text!r} is not of the form algorithm:hex")
        if algorithm not in ALGORITHMS:
            raise InvalidDigest(f"unsupported digest algorithm {algorithm!r} in {text!r}")
        if len(hexpart) != ALGORITHMS[algorithm] or not _HEX.fullmatch(hexpart):
            raise InvalidDigest(
                f"{text!r} needs {ALGORITHMS[algorithm]} lower-case hex characters after "
                f"'{algorithm}:'"
            )
        return cls(algorithm, hexpart)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        """The digest of ``data``."""
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


class Hasher:
    """Incremental digest of a stream, so bytes are hashed while they are written."""

    __slots__ = ("_hash", "algorithm", "size")

    def __init__(self, algorithm: str = "sha256") -> None:
        self.algorithm = algorithm
        self._hash = hashlib.new(algorithm)
        self.size = 0

    def update(self, chunk: bytes | memoryview) -> None:
        """Add the next chunk of the stream."""
        self._hash.update(chunk)
        self.size += len(chunk)

    def copy(self) -> Hasher:
        """An independent hasher with the same state (to peek without finishing)."""
        other = Hasher.__new__(Hasher)
        other.algorithm = self.algorithm
        other._hash = self._hash.copy()
        other.size = self.size
        return other

    def digest(self) -> Digest:
        """The digest of everything added so far."""
        return Digest(self.algorithm, self._hash.hexdigest())
