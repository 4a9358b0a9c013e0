"""Strategies for the documents clients send: manifests near and far from valid, policies, tokens.

Manifests start from a valid image manifest or index over blobs that really
are in the repository, then one mutation at a time pushes them off the
rails: a missing or retyped key, a wrong size, an unknown or malformed digest,
an unsupported media type, a bad subject, or something that is not a manifest.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.support import sha256
from tests.media_types import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
)

Strategy = st.SearchStrategy[Any]

DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"
MEDIA_TYPES = (
    DOCKER_MANIFEST,
    DOCKER_LIST,
    DOCKER_SCHEMA1,
    OCI_MANIFEST,
    OCI_INDEX,
    "application/json",
    "text/plain",
    "",
)

ANY_JSON: Strategy = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
HEX = "0123456789abcdef"
RANDOM_SHA256: Strategy = st.text(HEX, min_size=64, max_size=64).map(lambda h: f"sha256:{h}")
FOREIGN_LAYERS = (
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
)
HUGE_SIZES: Strategy = st.sampled_from([0, 2**31, 2**62, 2**63 - 1, 2**63, 2**64, 2**70])
#: Media types longer than any column made for them would hold.
LONG_MEDIA_TYPES: Strategy = st.integers(250, 2000).map(lambda n: "application/" + "x" * n)
BAD_DIGESTS: Strategy = st.one_of(
    st.sampled_from(
        [
            "",
            "sha256:",
            "sha256:abc",
            "sha256:" + "A" * 64,
            "sha256:" + "g" * 64,
            "md5:" + "0" * 32,
            "sha512:" + "0" * 64,
            ":" + "0" * 64,
            "sha256:" + "0" * 64 + "\n",
            "SHA256:" + "0" * 64,
            "sha256:../../" + "0" * 58,
        ]
    ),
    st.text(max_size=80),
)
DIGESTS: Strategy = st.one_of(
    RANDOM_SHA256,
    st.text(HEX, min_size=128, max_size=128).map(lambda h: f"sha512:{h}"),
    BAD_DIGESTS,
)


def deep_json(depth: int, wrap_in_object: bool) -> str:
    """JSON nested ``depth`` levels: deeper than any parser's recursion limit allows."""
    if wrap_in_object:
        return '{"a":' * depth + "1" + "}" * depth
    return "[" * depth + "]" * depth


DEEP_JSON: Strategy = st.builds(deep_json, st.integers(900, 20_000), st.booleans())


def descriptor(media_type: str, digest: str, size: int) -> dict[str, Any]:
    """A content descriptor."""
    return {"mediaType": media_type, "digest": digest, "size": size}


def _image(
    docker: bool, config: tuple[str, int], layers: Sequence[tuple[str, int]]
) -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
        "config": descriptor(DOCKER_CONFIG if docker else OCI_CONFIG, *config),
        "layers": [descriptor(DOCKER_LAYER if docker else OCI_LAYER, *layer) for layer in layers],
    }


def _index(docker: bool, children: Sequence[tuple[str, int]]) -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": DOCKER_LIST if docker else OCI_INDEX,
        "manifests": [
            {
                **descriptor(DOCKER_MANIFEST if docker else OCI_MANIFEST, *child),
                "platform": {"architecture": "amd64", "os": "linux"},
            }
            for child in children
        ],
    }


@st.composite
def _mutated(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with one thing wrong (or, sometimes, one harmless extra)."""
    doc = json.loads(json.dumps(doc))
    listed = "layers" if "layers" in doc else "manifests"
    choice = draw(st.integers(0, 12))
    if choice == 0:
        doc.pop(draw(st.sampled_from(sorted(doc))))
    elif choice == 1:
        doc[draw(st.sampled_from(sorted(doc)))] = draw(ANY_JSON)
    elif choice == 2:
        doc["schemaVersion"] = draw(st.sampled_from([1, 3, "2", 2.0, None, -1, 2**70]))
    elif choice == 3:
        doc["mediaType"] = draw(
            st.one_of(st.sampled_from(MEDIA_TYPES), st.text(max_size=30), LONG_MEDIA_TYPES)
        )
    elif choice in (4, 5, 6) and doc.get(listed):
        items = doc[listed]
        at = draw(st.integers(0, len(items) - 1))
        field = draw(st.sampled_from(["digest", "size", "mediaType", "platform", None]))
        if field is None:
            items[at] = draw(ANY_JSON)
        elif field == "digest":
            items[at]["digest"] = draw(DIGESTS)
        elif field == "size":
            items[at]["size"] = draw(
                st.one_of(st.integers(-5, 10**6), st.sampled_from([2**63, 2**70, 1.5, "1", None]))
            )
        else:
            items[at][field] = draw(st.one_of(ANY_JSON, LONG_MEDIA_TYPES))
    elif choice == 7 and "config" in doc:
        doc["config"] = draw(
            st.one_of(
                ANY_JSON,
                st.builds(descriptor, st.text(max_size=20), DIGESTS, st.integers(-1, 10**9)),
            )
        )
    elif choice == 8:
        doc["subject"] = draw(
            st.one_of(
                ANY_JSON,
                st.builds(
                    descriptor, st.sampled_from([OCI_MANIFEST, "x"]), DIGESTS, st.integers(0, 999)
                ),
            )
        )
    elif choice == 9:
        doc["annotations"] = draw(
            st.one_of(
                ANY_JSON,
                st.dictionaries(st.text(max_size=10), st.text(max_size=40), max_size=4),
            )
        )
    elif choice == 10:
        doc["artifactType"] = draw(st.one_of(ANY_JSON, st.text(max_size=40), LONG_MEDIA_TYPES))
    elif choice == 11 and "layers" in doc:
        # Layers a registry does not store: their sizes are checked against nothing.
        doc["layers"] += [
            descriptor(draw(st.sampled_from(sorted(FOREIGN_LAYERS))), draw(RANDOM_SHA256), size)
            for size in draw(st.lists(HUGE_SIZES, min_size=1, max_size=3))
        ]
    else:
        doc[listed] = draw(st.lists(ANY_JSON, max_size=3))
    return doc


def manifests(
    config: tuple[str, int], layers: Sequence[tuple[str, int]], images: Sequence[tuple[str, int]]
) -> Strategy:
    """Manifest text: valid ones over these blobs and images, near-valid ones, and junk.

    config, layers: (digest, size) of blobs in the repository.
    images: (digest, size) of manifests in the repository (children for indexes).
    """
    docs = st.one_of(
        st.builds(
            _image, st.booleans(), st.just(config), st.lists(st.sampled_from(layers), max_size=3)
        ),
        st.builds(_index, st.booleans(), st.lists(st.sampled_from(images), max_size=2))
        if images
        else st.nothing(),
    )
    indent = st.sampled_from([None, 2, 3])
    valid = st.builds(lambda d, i: json.dumps(d, indent=i), docs, indent)
    near = st.builds(lambda d, i: json.dumps(d, indent=i), docs.flatmap(_mutated), indent)
    junk = st.one_of(
        ANY_JSON.map(json.dumps),
        st.text(max_size=50),
        DEEP_JSON,
        st.just('{"schemaVersion": 2, "mediaType": "' + OCI_MANIFEST + '", "config": "\\ud800"}'),
    )
    return st.one_of(valid, near, near, near, junk)


# --- policies and tokens ------------------------------------------------------------------------
_ACTIONS = st.one_of(
    st.sampled_from(["ecr:*", "ecr:GetDownloadUrlForLayer", "*", "ECR:batchgetimage", "s3:*"]),
    st.text(max_size=20),
)
_PRINCIPALS = st.one_of(
    st.just("*"),
    st.builds(
        lambda a: {"AWS": a},
        st.sampled_from(["*", "123456789012", "arn:aws:iam::000000000000:root"]),
    ),
    ANY_JSON,
)
_STATEMENT = st.fixed_dictionaries(
    {"Effect": st.one_of(st.sampled_from(["Allow", "Deny"]), ANY_JSON)},
    optional={
        "Sid": st.text(max_size=10),
        "Action": st.one_of(_ACTIONS, st.lists(_ACTIONS, max_size=3), ANY_JSON),
        "NotAction": _ACTIONS,
        "Resource": st.one_of(st.just("*"), ANY_JSON),
        "Principal": _PRINCIPALS,
        "Condition": st.one_of(
            ANY_JSON,
            st.dictionaries(
                st.sampled_from(["StringEquals", "StringLikeIfExists", "Bogus", "ArnNotLike"]),
                st.one_of(ANY_JSON, st.dictionaries(st.text(max_size=20), ANY_JSON, max_size=2)),
                max_size=2,
            ),
        ),
    },
)
POLICIES: Strategy = st.one_of(
    st.fixed_dictionaries(
        {"Statement": st.one_of(_STATEMENT, st.lists(_STATEMENT, max_size=3), ANY_JSON)},
        optional={"Version": st.one_of(st.sampled_from(["2012-10-17", "2008-10-17"]), ANY_JSON)},
    ).map(json.dumps),
    ANY_JSON.map(json.dumps),
    st.text(max_size=30),
    st.integers(1000, 5000).map(lambda n: deep_json(n, False)),
)

#: nextToken values: ones shaped like the server's own (base64 of JSON), and junk.
NEXT_TOKENS: Strategy = st.one_of(
    ANY_JSON.map(lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode()),
    st.text(max_size=40),
    st.binary(max_size=30).map(lambda b: base64.urlsafe_b64encode(b).decode()),
)


def manifest_digest(text: str) -> str:
    """The digest of a manifest's exact bytes."""
    return sha256(text.encode("utf-8", "surrogatepass"))
