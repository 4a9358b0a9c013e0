"""Tampered pre-signed layer URLs: any change to what was signed is refused, never served.

A URL from GetDownloadUrlForLayer is taken apart and one thing is changed: a
query parameter's value (replaced, one character flipped, emptied, removed,
given twice, its name's case changed), an extra parameter, or the path (another
digest, another algorithm, an extra segment).  The server must answer 400 or
403 in S3's XML (404 where the path no longer names a blob route), and never
the layer's bytes.  Changes that leave the signed request the same (parameter
order, percent-encoding of an unreserved character) must still be served,
which shows the refusals are about the tampering and not about the client.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import fuzz_settings, raw_http
from tests.support import Server, push_image

REPO = "fuzzurl/layers"
LAYER = b"the layer a pre-signed URL hands out" * 64
PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
_TEXT = st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=30)


class Signed:
    """A pre-signed URL, split into what a mutation changes."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.path = parts.path
        self.pairs = [tuple(pair.split("=", 1)) for pair in parts.query.split("&")]
        assert [name for name, _ in self.pairs] == list(PARAMS), self.pairs

    def url(self, path: str, pairs: list[tuple[str, str]]) -> str:
        return f"{self.origin}{path}?" + "&".join(f"{k}={v}" for k, v in pairs)

    def __repr__(self) -> str:  # short, for hypothesis' falsifying examples
        return f"Signed({self.path})"


@pytest.fixture(scope="module")
def signed(fuzz_server: Server) -> Iterator[Signed]:
    """A fresh URL for a layer an image references."""
    ecr = fuzz_server.client()
    ecr.create_repository(repositoryName=REPO)
    pushed = push_image(ecr, REPO, [LAYER])
    answer = ecr.get_download_url_for_layer(
        repositoryName=REPO, layerDigest=pushed.layer_digests[0]
    )
    yield Signed(answer["downloadUrl"])


def _differs(original: str) -> st.SearchStrategy[str]:
    return _TEXT.map(lambda t: quote(t, safe="")).filter(lambda t: t != original)


@st.composite
def tampered(draw: st.DrawFn, signed: Signed) -> tuple[str, str]:
    """(URL, what was changed) with one change to what was signed."""
    pairs = list(signed.pairs)
    path = signed.path
    kind = draw(
        st.sampled_from(
            ["replace", "flip", "empty", "remove", "twice", "case", "extra", "path", "algorithm"]
        )
    )
    at = draw(st.integers(0, len(pairs) - 1))
    name, value = pairs[at]
    if kind == "replace":
        pairs[at] = (name, draw(_differs(value)))
    elif kind == "flip":
        index = draw(st.integers(0, len(value) - 1))
        new = draw(st.sampled_from("0aZ-_.~%").filter(lambda c: c != value[index]))
        pairs[at] = (name, value[:index] + new + value[index + 1 :])
    elif kind == "empty":
        pairs[at] = (name, "")
    elif kind == "remove":
        del pairs[at]
    elif kind == "twice":
        pairs.insert(draw(st.integers(0, len(pairs))), (name, draw(_differs(value))))
    elif kind == "case":
        pairs[at] = (draw(st.sampled_from([name.lower(), name.upper(), name.swapcase()])), value)
    elif kind == "extra":
        extra = draw(_TEXT.filter(bool).map(lambda t: quote(t, safe="")))
        pairs.insert(draw(st.integers(0, len(pairs))), (extra, draw(_differs("\0"))))
    elif kind == "path":
        hexpart = path.rsplit("/", 1)[1]
        index = draw(st.integers(0, len(hexpart) - 1))
        new = draw(st.sampled_from("0123456789abcdef").filter(lambda c: c != hexpart[index]))
        path = path[: -len(hexpart)] + hexpart[:index] + new + hexpart[index + 1 :]
    else:  # another algorithm, or the same path with a segment added, doubled or walked
        path = draw(
            st.sampled_from(
                [
                    path.replace("sha256", "sha512") + "0" * 64,
                    path + "/",
                    path.replace("/_blob/", "/_blob//"),
                    path.replace("/_blob/", "/_blob/x/../"),
                    path.replace("sha256/", "sha256/./"),
                    path.upper(),
                ]
            )
        )
    return signed.url(path, pairs), f"{kind} {name}"


@st.composite
def equivalent(draw: st.DrawFn, signed: Signed) -> tuple[str, str]:
    """(URL, what was changed) with a change that leaves the signed request the same."""
    pairs = draw(st.permutations(signed.pairs))
    path = signed.path
    kind = draw(st.sampled_from(["reorder", "escape-query", "escape-path"]))
    if kind == "escape-query":
        at = draw(st.integers(0, len(pairs) - 1))
        name, value = pairs[at]
        pairs[at] = (
            name,
            "%41" + value[1:] if value.startswith("A") else value.replace("%2F", "%2f"),
        )
    elif kind == "escape-path":
        path = path.replace("/sha256/", "/%73ha256/")
    return signed.url(path, pairs), kind


@fuzz_settings(300)
@given(data=st.data(), method=st.sampled_from(["GET", "HEAD"]))
def test_a_tampered_url_is_refused(signed: Signed, data: st.DataObject, method: str) -> None:
    # given the URL with one change to what was signed
    url, change = data.draw(tampered(signed), label="tampered")

    # when it is used, byte for byte (no client tidies the path or the query)
    parts = urlsplit(url)
    target = f"{parts.path}?{parts.query}".encode()
    status, headers, body = raw_http(parts.port or 80, method, target)

    # then it is refused in S3's words, and the bytes never leave
    assert LAYER not in body
    if status == 404 and change.startswith(("path", "algorithm")):
        return  # the path no longer names a blob route (e.g. a trailing segment)
    assert status in (400, 403), (change, status, body)
    if method == "GET":
        assert headers["Content-Type"].startswith("application/xml"), change
        assert b"<Error><Code>" in body, change


@fuzz_settings(50)
@given(data=st.data(), method=st.sampled_from(["GET", "HEAD"]))
def test_an_equivalent_url_is_served(signed: Signed, data: st.DataObject, method: str) -> None:
    # given the URL changed only in ways that leave the signed request the same
    url, change = data.draw(equivalent(signed), label="equivalent")

    # when it is used / then it is served like the original
    response = requests.request(method, url, timeout=30)
    assert response.status_code == 200, (change, response.text)
    assert response.content == (LAYER if method == "GET" else b"")


def test_the_untouched_url_is_served(signed: Signed) -> None:
    url = signed.url(signed.path, list(signed.pairs))
    got = requests.get(url, timeout=30)
    assert got.status_code == 200 and got.content == LAYER
    head = requests.head(url, timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["Content-Length"]) == len(LAYER)
