"""Generated ``/v2/`` requests against a real server: paths, methods, headers, bodies, uploads.

Whatever a client sends (names with odd characters, ``..`` and
percent-encoding, references of every kind, Accept, Content-Type,
Content-Range, Range and Authorization variants, near-valid manifests, chunk
sequences in and out of order): no 5xx, every error body is the spec's
``{"errors": [{"code", "message"}]}`` with one of its codes, and a HEAD answer
has no body.  Uploads and manifest pushes are also checked against a model of
what the server must have received.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import documents
from tests.fuzz.support import basic, check_oci_response, fuzz_settings, raw_http, sha256
from tests.media_types import OCI_MANIFEST
from tests.registry.http_support import V2
from tests.support import Server, registry_login

FULL, EMPTY = "fuzzreg/full", "fuzzreg/empty"
LAYERS = [b"registry layer a" * 40, b"registry layer b" * 20]
NAME_PATTERN = re.compile(
    r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*"
)


class Registry:
    """The seeded repositories, the credentials, and a way to put the image back."""

    def __init__(self, server: Server, auth: tuple[str, str]) -> None:
        self.server = server
        self.auth = auth
        self.v2 = V2(server, auth)
        self.manifest = b""
        self.manifest_digest = ""
        self.config = b""

    def __repr__(self) -> str:  # short, for hypothesis' falsifying examples
        return f"Registry({self.server.url})"

    def restore(self) -> None:
        """Push the seeded image again (every step is idempotent)."""
        image = self.v2.push_image(FULL, "latest", LAYERS, variant="seed")
        self.manifest, self.manifest_digest = image.raw, image.digest


@pytest.fixture(scope="module")
def registry(fuzz_server: Server) -> Iterator[Registry]:
    """Two repositories, one holding a tagged OCI image of two layers."""
    ecr = fuzz_server.client()
    for name in (FULL, EMPTY):
        ecr.create_repository(repositoryName=name)
    auth = registry_login(fuzz_server)
    world = Registry(fuzz_server, auth)
    world.restore()
    world.config = json.dumps(
        {"architecture": "amd64", "os": "linux", "variant-label": "seed", "rootfs": {}}
    ).encode()
    yield world


# --- any request at all ------------------------------------------------------------------------
_PATH_CHARS = st.characters(codec="ascii", exclude_categories=("Cc",))
NAMES = st.one_of(
    st.sampled_from([FULL, EMPTY, "fuzzreg/missing", "fuzzreg"]),
    st.from_regex(NAME_PATTERN, fullmatch=True).filter(lambda n: len(n) <= 300),
    st.text(_PATH_CHARS, max_size=30),
    st.sampled_from(
        [
            "fuzzreg/../fuzzreg/full",
            "fuzzreg/./full",
            "fuzzreg//full",
            "fuzzreg/%2e%2e/full",
            "fuzzreg%2Ffull",
            "FUZZREG/FULL",
            "fuzzreg/full%00",
            "fuzzreg/%ff%fe",
            "fuzzreg/%C3%A9",
            "fuzzreg/full/",
            "-fuzzreg",
            "_catalog",
        ]
    ),
    st.integers(250, 3000).map(lambda n: "a" * n),
)
REFS = st.one_of(
    st.sampled_from(["latest", "LATEST", "v1", "..", ".", "%2e%2e", "a" * 400, ""]),
    documents.DIGESTS,
    st.uuids().map(str),
    st.text(_PATH_CHARS, max_size=20),
)
ROUTES = st.sampled_from(
    [
        "",
        "_catalog",
        "{name}/tags/list",
        "{name}/manifests/{ref}",
        "{name}/blobs/{ref}",
        "{name}/blobs/uploads/",
        "{name}/blobs/uploads/{ref}",
        "{name}/referrers/{ref}",
        "{name}/{ref}",
        "{ref}",
    ]
)
QUERY = st.dictionaries(
    st.sampled_from(["digest", "mount", "from", "n", "last", "artifactType", "x"]),
    st.one_of(
        documents.DIGESTS,
        st.sampled_from([FULL, "-1", "0", "1", "99999999999999999999", "%ff", ""]),
        st.text(_PATH_CHARS, max_size=12),
    ),
    max_size=3,
)


def _header_values(values: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(values),
        st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=40).filter(
            lambda t: t == t.strip()
        ),
    )


ACCEPTS = _header_values(
    [
        OCI_MANIFEST,
        documents.OCI_INDEX,
        documents.DOCKER_MANIFEST,
        "*/*",
        "application/*",
        "text/plain",
        ",,,;;",
        "application/vnd.oci.image.manifest.v1+json;q=0.5, */*;q=0.1",
    ]
)
CONTENT_TYPES = _header_values(
    [*documents.MEDIA_TYPES, "application/octet-stream", "multipart/form-data; boundary=x"]
)
RANGES = _header_values(
    ["0-0", "bytes 0-9/10", "bytes=0-", "5-2", "-1", "0-99999999999999999999", "a-b", "0-"]
)


@st.composite
def authorizations(draw: st.DrawFn, auth: tuple[str, str]) -> str | None:
    """Authorization header values: the right one mostly, and every kind of wrong one."""
    user, password = auth
    return draw(
        st.one_of(
            st.just(basic(user, password)),
            st.just(basic(user, password)),
            st.just(basic(user, password)),
            st.none(),
            st.sampled_from(
                [
                    "Bearer " + password,
                    "Basic",
                    "Basic !!!",
                    "Basic " + "QQ==",
                    basic("root", password),
                    basic(user, password[:-2]),
                    basic(user, password + "x"),
                    basic(user, ""),
                    "basic " + basic(user, password).split()[1],
                    "Basic " + "\u00e9\u00ff",
                    "AWS4-HMAC-SHA256 Credential=x",
                ]
            ),
            st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=60).filter(
                lambda t: t == t.strip()
            ),
        )
    )


@dataclass(frozen=True)
class Request:
    """One generated ``/v2/`` request."""

    method: str
    target: bytes
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def __repr__(self) -> str:
        body = self.body[:200]
        return f"Request({self.method} {self.target[:300]!r} {self.headers!r} body={body!r})"


@st.composite
def requests_(draw: st.DrawFn, world: Registry) -> Request:
    """A request anywhere under ``/v2``."""
    name, ref = draw(NAMES, label="name"), draw(REFS, label="ref")
    tail = draw(ROUTES, label="route").format(name=name, ref=ref)
    target = "/v2/" + quote(tail, safe="/%:@!$&'()*+,;=-._~")
    if draw(st.booleans()):
        target = "/v2" if tail == "" and draw(st.booleans()) else target
    query = draw(QUERY, label="query")
    if query:
        target += "?" + urlencode(query, safe="%")
    headers: list[tuple[str, str]] = []
    authorization = draw(authorizations(world.auth), label="authorization")
    if authorization is not None:
        headers.append(("Authorization", authorization))
    for header, values in (
        ("Accept", ACCEPTS),
        ("Content-Type", CONTENT_TYPES),
        ("Content-Range", RANGES),
        ("Range", RANGES),
    ):
        if draw(st.integers(0, 3)) == 0:
            headers.append((header, draw(values)))
    layers = [(sha256(layer), len(layer)) for layer in LAYERS]
    config = (sha256(world.config), len(world.config))
    body = draw(
        st.one_of(
            st.just(b""),
            st.just(b""),
            st.binary(max_size=300),
            documents.manifests(config, layers, [(world.manifest_digest, len(world.manifest))]).map(
                lambda text: text.encode("utf-8", "surrogatepass")
            ),
        ),
        label="body",
    )
    method = draw(st.sampled_from(["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"]))
    return Request(method, target.encode(), tuple(headers), body)


def _send(world: Registry, request: Request) -> tuple[int, Any, bytes]:
    status, headers, body = raw_http(
        world.server.port, request.method, request.target, request.headers, request.body
    )
    codes = check_oci_response(request.method, status, headers, body)
    if status == 401:
        assert headers.get("WWW-Authenticate", "").startswith("Basic "), headers
    if "UNAUTHORIZED" in codes or "DENIED" in codes:
        assert status in (401, 403), (status, codes)
    if request.method == "DELETE" and status == 202:
        world.restore()
    return status, headers, body


@fuzz_settings(800)
@given(data=st.data())
def test_any_request_keeps_the_error_contract(registry: Registry, data: st.DataObject) -> None:
    # given any request under /v2
    request = data.draw(requests_(registry), label="request")

    # when it is sent / then: no 5xx, the spec's error body, no body on HEAD
    _send(registry, request)


# --- uploads, chunk by chunk, against a model of what was received ------------------------------
@dataclass(frozen=True)
class Chunk:
    """One PATCH: its bytes and how its Content-Range is written."""

    data: bytes
    range_mode: str  # "right", "none", "wrong-start", "wrong-end", "garbage"


CHUNKS = st.lists(
    st.builds(
        Chunk,
        st.binary(max_size=3000),
        st.sampled_from(["right", "right", "none", "wrong-start", "wrong-end", "garbage"]),
    ),
    max_size=5,
)


def _content_range(chunk: Chunk, offset: int) -> str | None:
    end = offset + len(chunk.data) - 1
    return {
        "right": f"{offset}-{end}",
        "none": None,
        "wrong-start": f"{offset + 1}-{end + 1}",
        "wrong-end": f"{offset}-{end + 5}",
        "garbage": "bytes=x-y",
    }[chunk.range_mode]


@fuzz_settings(200)
@given(
    chunks=CHUNKS,
    final=st.binary(max_size=2000),
    digest_mode=st.sampled_from(["right", "right", "sha512", "wrong", "invalid", "missing"]),
    check_status=st.booleans(),
)
def test_upload_chunk_sequences(
    registry: Registry, chunks: list[Chunk], final: bytes, digest_mode: str, check_status: bool
) -> None:
    v2 = registry.v2
    # given an upload session
    started = v2.post(f"/v2/{EMPTY}/blobs/uploads/")
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    received = b""

    # when chunks are PATCHed, each with a right or wrong Content-Range
    for chunk in chunks:
        content_range = _content_range(chunk, len(received))
        headers = {"Content-Type": "application/octet-stream"}
        if content_range is not None:
            headers["Content-Range"] = content_range
        response = v2.patch(location, data=chunk.data, headers=headers)
        check_oci_response("PATCH", response.status_code, response.headers, response.content)
        in_order = chunk.range_mode == "none" or (chunk.range_mode == "right" and chunk.data)
        # then an in-order chunk is appended, anything else is 416 and changes nothing
        if in_order:
            assert response.status_code == 202, (response.status_code, response.text)
            received += chunk.data
        else:
            assert response.status_code == 416, (response.status_code, response.text)
        assert response.headers["Range"] == f"0-{max(len(received) - 1, 0)}"
        if check_status:
            status = v2.get(location)
            assert status.status_code == 204
            assert status.headers["Range"] == f"0-{max(len(received) - 1, 0)}"

    # when the upload is finished with a digest of the right, another or no kind
    blob = received + final
    digest = {
        "right": sha256(blob),
        "sha512": "sha512:" + hashlib.sha512(blob).hexdigest(),
        "wrong": sha256(blob + b"!"),
        "invalid": "sha256:" + "Z" * 64,
        "missing": None,
    }[digest_mode]
    params = {} if digest is None else {"digest": digest}
    response = v2.put(
        location, params=params, data=final, headers={"Content-Type": "application/octet-stream"}
    )
    codes = check_oci_response("PUT", response.status_code, response.headers, response.content)

    # then only the digest of exactly the bytes sent commits the blob, readable as sent
    if digest_mode in ("right", "sha512"):
        assert response.status_code == 201, (response.status_code, response.text)
        assert response.headers["Docker-Content-Digest"] == digest
        head = v2.head(f"/v2/{EMPTY}/blobs/{digest}")
        assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(blob)
    else:
        assert codes == ["DIGEST_INVALID"], (response.status_code, codes)


# --- manifest pushes ----------------------------------------------------------------------------
@st.composite
def manifest_pushes(draw: st.DrawFn, world: Registry) -> tuple[str, bytes, str | None, bool]:
    """(reference, body, Content-Type, whether the push must succeed)."""
    layers = [(sha256(layer), len(layer)) for layer in LAYERS]
    config = (sha256(world.config), len(world.config))
    valid_text = draw(
        st.one_of(
            st.builds(
                lambda ls, i: json.dumps(
                    {
                        "schemaVersion": 2,
                        "mediaType": OCI_MANIFEST,
                        "config": documents.descriptor(documents.OCI_CONFIG, *config),
                        "layers": [documents.descriptor(documents.OCI_LAYER, *x) for x in ls],
                    },
                    indent=i,
                ),
                st.lists(st.sampled_from(layers), max_size=2),
                st.sampled_from([None, 1, 4]),
            ),
        )
    )
    text = draw(
        st.one_of(
            st.just(valid_text),
            documents.manifests(config, layers, [(world.manifest_digest, len(world.manifest))]),
        )
    )
    body = text.encode("utf-8", "surrogatepass")
    reference = draw(
        st.one_of(
            st.sampled_from(["latest", "fuzz-tag", "v1.0"]),
            st.just(sha256(body)),
            documents.DIGESTS,
            st.text(_PATH_CHARS, min_size=1, max_size=10).filter(lambda r: "/" not in r),
        )
    )
    content_type = draw(st.one_of(st.just(OCI_MANIFEST), st.none(), CONTENT_TYPES))
    must_succeed = (
        text == valid_text
        and content_type in (OCI_MANIFEST, None)
        and (reference in ("latest", "fuzz-tag", "v1.0") or reference == sha256(body))
    )
    return reference, body, content_type, must_succeed


@fuzz_settings(250)
@given(data=st.data())
def test_manifest_pushes(registry: Registry, data: st.DataObject) -> None:
    # given a manifest near or far from valid, under a tag or a digest
    reference, body, content_type, must_succeed = data.draw(manifest_pushes(registry))
    headers = {"Content-Type": content_type} if content_type is not None else {}

    # when it is PUT
    response = registry.v2.put(
        f"/v2/{FULL}/manifests/{quote(reference, safe='')}", data=body, headers=headers
    )
    check_oci_response("PUT", response.status_code, response.headers, response.content)

    # then a valid manifest is stored byte for byte under the digest of those bytes
    if must_succeed:
        assert response.status_code == 201, (response.status_code, response.text)
    if response.status_code == 201:
        digest = response.headers["Docker-Content-Digest"]
        got = registry.v2.get(f"/v2/{FULL}/manifests/{digest}", headers={"Accept": "*/*"})
        assert got.status_code == 200 and got.content == body
        assert digest.split(":")[0] in ("sha256", "sha512")
        algorithm = digest.split(":")[0]
        assert digest == f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"


def test_the_seeded_image_can_be_pulled(registry: Registry) -> None:
    # the control for the tests above: the seeded image is where it should be (by digest:
    # generated pushes may legitimately move the "latest" tag to another manifest)
    got = registry.v2.get(
        f"/v2/{FULL}/manifests/{registry.manifest_digest}", headers={"Accept": OCI_MANIFEST}
    )
    assert got.status_code == 200 and got.content == registry.manifest
    blob = registry.v2.get(f"/v2/{FULL}/blobs/{sha256(LAYERS[0])}")
    assert blob.status_code == 307
    assert requests.get(blob.headers["Location"], timeout=30).content == LAYERS[0]
