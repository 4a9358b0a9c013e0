"""After generated bursts of pushes and deletes through both faces, metadata and blobs agree.

Each example runs a burst of actions (uploads finished, abandoned or with the
wrong digest; image and index pushes, some referencing what is not there;
deletes of images, tags, blobs and whole repositories; cross-repository
mounts), sometimes in two concurrent lanes, over a small universe of blob
contents so that actions collide.  Then the server's SQLite database (opened
read-only) and its blob directory must agree:

- every blob linked into a repository has its file, of the recorded size and digest;
- every image's manifest hashes to the image's digest;
- every blob an image references is linked into its repository, and recorded;
- every child of an index is an image of the same repository;
- every upload file has its upload row, and no row counts more bytes than its file holds.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import shutil
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from layerport.service import manifests as manifest_parser
from tests.fuzz.support import SignedClient, check_ecr_response, check_oci_response, fuzz_settings
from tests.media_types import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from tests.registry.http_support import V2
from tests.support import Server, registry_login

REPOS = ("cons/a", "cons/b")
#: A small universe of contents, so uploads, links and deletes collide.
BLOBS = (b"", b"alpha" * 30, b"bravo" * 200, b"charlie" * 7, b'{"architecture":"amd64"}')


def _digest(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


class Burst:
    """What actions share: both faces of one server, and the manifests pushed so far."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.ecr = SignedClient(server)
        self.v2 = V2(server, registry_login(server))
        self.pushed: list[str] = []
        self.broken_by = ""

    def __repr__(self) -> str:  # short, for hypothesis' falsifying examples
        return f"Burst({self.server.url})"

    def call(self, operation: str, params: dict[str, Any]) -> tuple[str | None, Any]:
        """An ECR call that may fail, but only in the JSON 1.1 contract."""
        response = self.ecr.call(operation, json.dumps(params).encode())
        return check_ecr_response(operation, response), response.json()

    def v2_request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A ``/v2/`` request that may fail, but only in the spec's contract."""
        response = self.v2.request(method, path, **kwargs)
        check_oci_response(method, response.status_code, response.headers, response.content)
        return response

    def known(self, index: int) -> str:
        """One of the manifests pushed so far (or one never pushed)."""
        return self.pushed[index % len(self.pushed)] if self.pushed else _digest(b"never")


# --- actions ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EcrUpload:
    """InitiateLayerUpload, parts (maybe one out of order), then complete or abandon."""

    repo: str
    blob: int
    cuts: tuple[int, ...]
    skew_part: bool
    right_digest: bool
    complete: bool

    def run(self, burst: Burst) -> None:
        data = BLOBS[self.blob]
        code, answer = burst.call("InitiateLayerUpload", {"repositoryName": self.repo})
        if code is not None:
            return
        upload_id = answer["uploadId"]
        bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in self.cuts)})
        for index, (start, end) in enumerate(itertools.pairwise(bounds)):
            first = start + 1 if self.skew_part and index == 1 else start
            part = data[start:end]
            burst.call(
                "UploadLayerPart",
                {
                    "repositoryName": self.repo,
                    "uploadId": upload_id,
                    "partFirstByte": first,
                    "partLastByte": first + len(part) - 1,
                    "layerPartBlob": base64.b64encode(part).decode(),
                },
            )
        if self.complete:
            digest = _digest(data if self.right_digest else data + b"x")
            burst.call(
                "CompleteLayerUpload",
                {"repositoryName": self.repo, "uploadId": upload_id, "layerDigests": [digest]},
            )


@dataclass(frozen=True)
class RegistryUpload:
    """A ``/v2/`` upload: monolithic, chunked, or left open; right or wrong digest."""

    repo: str
    blob: int
    mode: str  # "monolithic", "chunked", "open", "cancelled"
    right_digest: bool
    sha512: bool

    def run(self, burst: Burst) -> None:
        data = BLOBS[self.blob]
        algorithm = "sha512" if self.sha512 else "sha256"
        digest = _digest(data if self.right_digest else data + b"x", algorithm)
        base = f"/v2/{self.repo}/blobs/uploads/"
        if self.mode == "monolithic":
            burst.v2_request("POST", base, params={"digest": digest}, data=data)
            return
        started = burst.v2_request("POST", base)
        if started.status_code != 202:
            return
        location = started.headers["Location"]
        half = len(data) // 2
        burst.v2_request("PATCH", location, data=data[:half])
        if self.mode == "open":
            return
        if self.mode == "cancelled":
            burst.v2_request("DELETE", location)
            return
        burst.v2_request("PUT", location, params={"digest": digest}, data=data[half:])


@dataclass(frozen=True)
class PushImage:
    """An image manifest over some blobs, by either face, maybe with a wrong size or tag."""

    repo: str
    config: int
    layers: tuple[int, ...]
    tag: str | None
    via_ecr: bool
    docker: bool
    wrong_size: bool

    def run(self, burst: Burst) -> None:
        config = BLOBS[self.config]
        sizes = [len(BLOBS[i]) for i in self.layers]
        if self.wrong_size and sizes:
            sizes[0] += 1
        doc = {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST if self.docker else OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": _digest(BLOBS[i]),
                    "size": size,
                }
                for i, size in zip(self.layers, sizes, strict=True)
            ],
        }
        text = json.dumps(doc)
        _push(burst, self.repo, text, doc["mediaType"], self.tag, self.via_ecr)


@dataclass(frozen=True)
class PushIndex:
    """An index over manifests pushed so far (some maybe deleted, or in another repository)."""

    repo: str
    children: tuple[int, ...]
    tag: str | None
    via_ecr: bool

    def run(self, burst: Burst) -> None:
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": burst.known(i), "size": 100}
                for i in self.children
            ],
        }
        _push(burst, self.repo, json.dumps(doc), OCI_INDEX, self.tag, self.via_ecr)


def _push(burst: Burst, repo: str, text: str, media_type: str, tag: str | None, ecr: bool) -> None:
    digest = _digest(text.encode())
    if ecr:
        params = {"repositoryName": repo, "imageManifest": text}
        if tag:
            params["imageTag"] = tag
        code, _ = burst.call("PutImage", params)
        ok = code in (None, "ImageAlreadyExistsException")
    else:
        response = burst.v2_request(
            "PUT",
            f"/v2/{repo}/manifests/{tag or digest}",
            data=text.encode(),
            headers={"Content-Type": media_type},
        )
        ok = response.status_code == 201
    if ok:
        burst.pushed.append(digest)


@dataclass(frozen=True)
class DeleteImage:
    """BatchDeleteImage by digest or tag, or ``/v2/`` DELETE of a manifest or a tag."""

    repo: str
    image: int
    by_tag: str | None
    via_ecr: bool

    def run(self, burst: Burst) -> None:
        if self.via_ecr:
            ident = (
                {"imageTag": self.by_tag}
                if self.by_tag
                else {"imageDigest": burst.known(self.image)}
            )
            burst.call("BatchDeleteImage", {"repositoryName": self.repo, "imageIds": [ident]})
        else:
            burst.v2_request(
                "DELETE", f"/v2/{self.repo}/manifests/{self.by_tag or burst.known(self.image)}"
            )


@dataclass(frozen=True)
class DeleteBlob:
    """``/v2/`` DELETE of a blob (refused while an image uses it)."""

    repo: str
    blob: int

    def run(self, burst: Burst) -> None:
        burst.v2_request("DELETE", f"/v2/{self.repo}/blobs/{_digest(BLOBS[self.blob])}")


@dataclass(frozen=True)
class Mount:
    """A cross-repository mount of a blob."""

    repo: str
    blob: int

    def run(self, burst: Burst) -> None:
        source = REPOS[1] if self.repo == REPOS[0] else REPOS[0]
        burst.v2_request(
            "POST",
            f"/v2/{self.repo}/blobs/uploads/",
            params={"mount": _digest(BLOBS[self.blob]), "from": source},
        )


@dataclass(frozen=True)
class Recreate:
    """DeleteRepository (with or without force), then CreateRepository again."""

    repo: str
    force: bool

    def run(self, burst: Burst) -> None:
        burst.call("DeleteRepository", {"repositoryName": self.repo, "force": self.force})
        burst.call("CreateRepository", {"repositoryName": self.repo})


REPO = st.sampled_from(REPOS)
BLOB = st.integers(0, len(BLOBS) - 1)
TAGS = st.one_of(st.none(), st.sampled_from(["latest", "v1", "v2"]))
ACTIONS = st.one_of(
    st.builds(
        EcrUpload,
        REPO,
        BLOB,
        st.lists(st.integers(0, 2000), max_size=3).map(tuple),
        st.integers(0, 5).map(lambda n: n == 0),
        st.integers(0, 5).map(lambda n: n > 0),
        st.integers(0, 5).map(lambda n: n > 0),
    ),
    st.builds(
        RegistryUpload,
        REPO,
        BLOB,
        st.sampled_from(["monolithic", "chunked", "chunked", "open", "cancelled"]),
        st.integers(0, 5).map(lambda n: n > 0),
        st.integers(0, 5).map(lambda n: n == 0),
    ),
    st.builds(
        PushImage,
        REPO,
        BLOB,
        st.lists(BLOB, max_size=3).map(tuple),
        TAGS,
        st.booleans(),
        st.booleans(),
        st.integers(0, 5).map(lambda n: n == 0),
    ),
    st.builds(
        PushIndex, REPO, st.lists(st.integers(0, 50), max_size=3).map(tuple), TAGS, st.booleans()
    ),
    st.builds(DeleteImage, REPO, st.integers(0, 50), TAGS, st.booleans()),
    st.builds(DeleteBlob, REPO, BLOB),
    st.builds(Mount, REPO, BLOB),
    st.builds(Recreate, REPO, st.booleans()),
)


@pytest.fixture(scope="module")
def burst(fuzz_server: Server) -> Iterator[Burst]:
    """The two repositories, empty."""
    if fuzz_server.database:
        pytest.skip("the consistency checks read the server's SQLite database")
    ecr = fuzz_server.client()
    for name in REPOS:
        ecr.create_repository(repositoryName=name)
    yield Burst(fuzz_server)


# --- the invariants -----------------------------------------------------------------------------
def check_consistency(data_dir: Path) -> None:
    """Metadata and blob store agree (see the module docstring)."""
    root = data_dir / "blobs"
    db = sqlite3.connect(f"file:{data_dir / 'layerport.db'}?mode=ro", uri=True)
    try:
        linked = set(db.execute("SELECT repository_id, digest FROM repository_blobs"))
        sizes = dict(db.execute("SELECT digest, size FROM blobs"))
        for _, digest in linked:
            algorithm, hexpart = digest.split(":")
            path = root / "blobs" / algorithm / hexpart[:2] / hexpart
            assert path.is_file(), f"{digest} is linked but has no blob file"
            content = path.read_bytes()
            assert len(content) == sizes[digest], (digest, len(content), sizes[digest])
            assert _digest(content, algorithm) == digest, f"{path} does not hash to {digest}"
        referenced = set(db.execute("SELECT repository_id, blob_digest FROM image_blobs"))
        assert referenced <= linked, f"referenced but not linked: {referenced - linked}"
        images = set()
        for repository_id, digest, raw, media_type in db.execute(
            "SELECT repository_id, digest, manifest, media_type FROM images"
        ):
            images.add((repository_id, digest))
            assert _digest(bytes(raw), digest.split(":")[0]) == digest, digest
            wanted = {d.digest for d in manifest_parser.parse(bytes(raw), media_type).stored_blobs}
            recorded = {
                row[0]
                for row in db.execute(
                    "SELECT blob_digest FROM image_blobs"
                    " WHERE repository_id = ? AND image_digest = ?",
                    (repository_id, digest),
                )
            }
            assert recorded == wanted, (digest, recorded, wanted)
        children = set(db.execute("SELECT repository_id, child_digest FROM image_children"))
        assert children <= images, f"index children that are not images: {children - images}"
        rows = {upload_id: size for upload_id, size in db.execute("SELECT id, size FROM uploads")}
    finally:
        db.close()
    files = {path.name: path.stat().st_size for path in (root / "uploads").iterdir()}
    assert set(files) <= set(rows), f"upload files without an upload: {set(files) - set(rows)}"
    for upload_id, size in rows.items():
        assert size <= files.get(upload_id, 0), (upload_id, size, files.get(upload_id))


@fuzz_settings(150)
@given(actions=st.lists(ACTIONS, min_size=1, max_size=12), lanes=st.sampled_from([1, 1, 2]))
def test_bursts_leave_metadata_and_blobs_consistent(
    burst: Burst, actions: list[Any], lanes: int
) -> None:
    # when a burst of pushes and deletes runs, in one lane or two at once
    if lanes == 1:
        for action in actions:
            action.run(burst)
    else:
        with ThreadPoolExecutor(lanes) as pool:
            futures = [
                pool.submit(lambda part: [a.run(burst) for a in part], actions[lane::lanes])
                for lane in range(lanes)
            ]
            for future in futures:
                future.result()

    # then the metadata and the blob store agree
    try:
        check_consistency(burst.server.data_dir)
    except AssertionError:
        # The server keeps its state, so every later example (and every shrink) fails
        # too: the burst that broke it is the first one, printed for the report.
        if not burst.broken_by:
            burst.broken_by = repr((lanes, actions))
            print(f"the first burst that broke consistency: {burst.broken_by}")
        raise


def test_the_checker_sees_a_missing_blob_file(burst: Burst, tmp_path: Path) -> None:
    # the control: a copy of the data dir with one linked blob file removed fails the check
    PushImage(REPOS[0], 4, (1,), "control", True, False, False).run(burst)
    for blob in (BLOBS[4], BLOBS[1]):
        RegistryUpload(REPOS[0], BLOBS.index(blob), "monolithic", True, False).run(burst)
    PushImage(REPOS[0], 4, (1,), "control", True, False, False).run(burst)
    copy = tmp_path / "data"
    shutil.copytree(burst.server.data_dir, copy)
    check_consistency(copy)
    hexpart = _digest(BLOBS[1]).split(":")[1]
    (copy / "blobs" / "blobs" / "sha256" / hexpart[:2] / hexpart).unlink()
    with pytest.raises(AssertionError, match="no blob file"):
        check_consistency(copy)
