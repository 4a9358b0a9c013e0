"""OCI distribution spec, Push category, over raw HTTP: blob uploads, chunks, mounts."""

from __future__ import annotations

import hashlib
import re
import threading
from typing import Any

import pytest
import requests

from tests.registry.http_support import (
    V2,
    errors_of,
)
from tests.support import Server, registry_login, sha256

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.fixture
def v2(server: Server, registry_auth: tuple[str, str]) -> V2:
    return V2(server, registry_auth)


def _start(v2: V2, name: str) -> str:
    """POST an upload session; return its Location."""
    response = v2.post(f"/v2/{name}/blobs/uploads/", headers={"Content-Length": "0"})
    assert response.status_code == 202, response.text
    return response.headers["Location"]


def test_monolithic_single_post(v2: V2, repository: str) -> None:
    # given a blob and its digest
    data = b"monolithic blob"

    # when it is pushed in one POST with ?digest=
    response = v2.post(
        f"/v2/{repository}/blobs/uploads/", params={"digest": sha256(data)}, data=data
    )

    # then 201 with the blob's location and digest; the blob is there
    assert response.status_code == 201
    assert response.headers["Location"] == f"/v2/{repository}/blobs/{sha256(data)}"
    assert response.headers["Docker-Content-Digest"] == sha256(data)
    head = v2.head(response.headers["Location"])
    assert (head.status_code, head.headers["Content-Length"]) == (200, str(len(data)))
    again = v2.post(f"/v2/{repository}/blobs/uploads/", params={"digest": sha256(data)}, data=data)
    assert again.status_code == 201


def test_post_then_put(v2: V2, repository: str) -> None:
    # given an upload session
    response = v2.post(f"/v2/{repository}/blobs/uploads/")
    assert response.status_code == 202
    location = response.headers["Location"]
    assert location.startswith(f"/v2/{repository}/blobs/uploads/")
    assert response.headers["Docker-Upload-UUID"] in location
    assert re.search(UUID_PATTERN, location)

    # when the whole blob is PUT to the session with its digest
    data = b"post then put"
    put = v2.put(location, params={"digest": sha256(data)}, data=data, headers=OCTETS)

    # then 201 to the blob
    assert put.status_code == 201
    assert put.headers["Location"] == f"/v2/{repository}/blobs/{sha256(data)}"
    assert v2.head(put.headers["Location"]).headers["Content-Length"] == str(len(data))


@pytest.mark.parametrize("with_range", [True, False])
def test_chunked_upload(v2: V2, repository: str, with_range: bool) -> None:
    # given a session and a blob in three chunks
    location = _start(v2, repository)
    chunks = [b"first-", b"second-", b"third"]
    offset = 0

    # when each chunk is PATCHed (with or without Content-Range) and the session closed
    for chunk in chunks:
        headers = dict(OCTETS)
        if with_range:
            headers["Content-Range"] = f"{offset}-{offset + len(chunk) - 1}"
        response = v2.patch(location, data=chunk, headers=headers)
        offset += len(chunk)
        # then every chunk is 202 with the progress so far and where to go next
        assert response.status_code == 202, response.text
        assert response.headers["Range"] == f"0-{offset - 1}"
        location = response.headers["Location"]
    data = b"".join(chunks)
    done = v2.put(location, params={"digest": sha256(data)})

    # and the closing PUT commits the whole blob
    assert done.status_code == 201, done.text
    assert v2.head(f"/v2/{repository}/blobs/{sha256(data)}").headers["Content-Length"] == str(
        len(data)
    )


def test_a_streamed_chunk_without_content_length(v2: V2, repository: str) -> None:
    # given a session, and a chunk sent with chunked transfer encoding (as docker streams)
    location = _start(v2, repository)
    pieces = [b"streamed ", b"in ", b"pieces"]

    # when it is PATCHed, then the session closed
    response = v2.patch(location, data=iter(pieces), headers=OCTETS)
    data = b"".join(pieces)
    done = v2.put(response.headers["Location"], params={"digest": sha256(data)})

    # then every byte arrived
    assert response.status_code == 202, response.text
    assert response.headers["Range"] == f"0-{len(data) - 1}"
    assert done.status_code == 201


def test_a_finished_session_is_gone(v2: V2, repository: str) -> None:
    # given a session that was closed successfully
    location = _start(v2, repository)
    assert v2.put(location, params={"digest": sha256(b"done")}, data=b"done").status_code == 201

    # when it is used again
    responses = [v2.get(location), v2.patch(location, data=b"more", headers=OCTETS)]

    # then it is unknown
    for response in responses:
        assert response.status_code == 404
        assert errors_of(response) == ["BLOB_UPLOAD_UNKNOWN"]


def test_a_session_belongs_to_its_repository(v2: V2, ecr: Any, repository: str) -> None:
    # given a session opened in one repository, and another repository
    location = _start(v2, repository)
    other = f"{repository}-other"
    ecr.create_repository(repositoryName=other)

    # when the session is used through the other repository's path
    moved = location.replace(f"/v2/{repository}/", f"/v2/{other}/")
    response = v2.patch(moved, data=b"smuggled", headers=OCTETS)

    # then it is unknown there, and untouched where it belongs
    assert response.status_code == 404
    assert errors_of(response) == ["BLOB_UPLOAD_UNKNOWN"]
    assert v2.get(location).headers["Range"] == "0-0"


def test_final_chunk_in_the_closing_put(v2: V2, repository: str) -> None:
    # given a session with one chunk sent
    location = _start(v2, repository)
    location = v2.patch(location, data=b"head+", headers=OCTETS).headers["Location"]

    # when the last chunk comes with the PUT
    response = v2.put(
        location,
        params={"digest": sha256(b"head+tail")},
        data=b"tail",
        headers={**OCTETS, "Content-Range": "5-8"},
    )

    # then the blob is both chunks
    assert response.status_code == 201, response.text
    assert response.headers["Docker-Content-Digest"] == sha256(b"head+tail")


@pytest.mark.parametrize("bad_range", ["0-3", "10-13", "4-2"])
def test_an_out_of_order_chunk_is_416_with_range_and_location(
    v2: V2, repository: str, bad_range: str
) -> None:
    # given a session holding 4 bytes
    location = _start(v2, repository)
    location = v2.patch(location, data=b"abcd", headers=OCTETS).headers["Location"]

    # when a chunk claims to start anywhere but byte 4
    response = v2.patch(location, data=b"efgh", headers={**OCTETS, "Content-Range": bad_range})

    # then 416, saying what the registry has and where to continue; the session survives
    assert response.status_code == 416
    assert response.headers["Range"] == "0-3"
    assert response.headers["Location"] == location
    follow = v2.patch(location, data=b"efgh", headers={**OCTETS, "Content-Range": "4-7"})
    assert follow.status_code == 202
    assert follow.headers["Range"] == "0-7"


def test_upload_status(v2: V2, repository: str) -> None:
    # given a session that has received 10 bytes
    location = _start(v2, repository)
    empty = v2.get(location)
    location = v2.patch(location, data=b"0123456789", headers=OCTETS).headers["Location"]

    # when its status is asked for
    response = v2.get(location)

    # then 204 with the inclusive range received and the location to continue at
    assert empty.status_code == 204
    assert empty.headers["Range"] == "0-0"
    assert response.status_code == 204
    assert response.headers["Range"] == "0-9"
    assert response.headers["Location"] == location
    assert response.content == b""


def test_cancelled_upload_is_gone(v2: V2, repository: str) -> None:
    # given a session with some bytes
    location = _start(v2, repository)
    location = v2.patch(location, data=b"to be cancelled", headers=OCTETS).headers["Location"]

    # when it is cancelled
    cancelled = v2.delete(location)

    # then 204, and the session is unknown from then on
    assert cancelled.status_code == 204
    for response in (v2.get(location), v2.patch(location, data=b"more"), v2.delete(location)):
        assert response.status_code == 404
        assert errors_of(response) == ["BLOB_UPLOAD_UNKNOWN"]


@pytest.mark.parametrize("session_id", ["not-a-uuid", "00000000-0000-4000-8000-000000000000"])
def test_an_unknown_session_is_404_blob_upload_unknown(
    v2: V2, repository: str, session_id: str
) -> None:
    # when a session that was never opened is used
    response = v2.get(f"/v2/{repository}/blobs/uploads/{session_id}")

    # then 404 BLOB_UPLOAD_UNKNOWN
    assert response.status_code == 404
    assert errors_of(response) == ["BLOB_UPLOAD_UNKNOWN"]


@pytest.mark.parametrize("how", ["single-post", "post-put"])
def test_a_digest_mismatch_is_400_digest_invalid(v2: V2, repository: str, how: str) -> None:
    # given bytes and the digest of other bytes
    wrong = sha256(b"other bytes")

    # when the upload is finished with that digest
    if how == "single-post":
        url = f"/v2/{repository}/blobs/uploads/"
        response = v2.post(url, params={"digest": wrong}, data=b"these bytes")
    else:
        url = _start(v2, repository)
        response = v2.put(url, params={"digest": wrong}, data=b"these bytes", headers=OCTETS)

    # then 400 DIGEST_INVALID, and nothing under either digest
    assert response.status_code == 400
    assert errors_of(response) == ["DIGEST_INVALID"]
    assert v2.head(f"/v2/{repository}/blobs/{wrong}").status_code == 404
    assert v2.head(f"/v2/{repository}/blobs/{sha256(b'these bytes')}").status_code == 404


def test_put_without_a_digest_is_refused(v2: V2, repository: str) -> None:
    # when a session is closed without ?digest=
    response = v2.put(_start(v2, repository), data=b"bytes", headers=OCTETS)

    # then 400 DIGEST_INVALID
    assert response.status_code == 400
    assert errors_of(response) == ["DIGEST_INVALID"]


def test_zero_length_blob(v2: V2, repository: str) -> None:
    # when an empty blob is pushed
    digest = v2.push_blob(repository, b"")

    # then it exists with size 0, and an image can use it and pull it
    head = v2.head(f"/v2/{repository}/blobs/{digest}")
    assert (head.status_code, head.headers["Content-Length"]) == (200, "0")
    image = v2.push_image(repository, "empty-layer", [b""])
    pulled = v2.get(f"/v2/{repository}/blobs/{image.layer_digests[0]}", allow_redirects=True)
    assert (pulled.status_code, pulled.content) == (200, b"")


def test_sha512_blob(v2: V2, repository: str) -> None:
    # when a blob is pushed under a sha512 digest
    data = b"hashed with sha512"
    digest = v2.push_blob(repository, data, algorithm="sha512")

    # then it is stored and found under that digest
    assert digest == "sha512:" + hashlib.sha512(data).hexdigest()
    head = v2.head(f"/v2/{repository}/blobs/{digest}")
    assert head.status_code == 200
    assert head.headers["Docker-Content-Digest"] == digest


def test_cross_repository_mount(v2: V2, ecr: Any, repository: str) -> None:
    # given a blob in another repository of the same registry
    source = f"{repository}-source"
    ecr.create_repository(repositoryName=source)
    digest = v2.push_blob(source, b"shared base layer")

    # when the target mounts it from there
    response = v2.post(f"/v2/{repository}/blobs/uploads/", params={"mount": digest, "from": source})

    # then 201: the target has it without any upload
    assert response.status_code == 201
    assert response.headers["Location"] == f"/v2/{repository}/blobs/{digest}"
    assert response.headers["Docker-Content-Digest"] == digest
    assert v2.head(f"/v2/{repository}/blobs/{digest}").status_code == 200


@pytest.mark.parametrize("source", ["has-not", "no-such-repository"])
def test_a_mount_that_cannot_happen_falls_back_to_an_upload(
    v2: V2, ecr: Any, repository: str, source: str
) -> None:
    # given a source that lacks the blob (or does not exist)
    if source == "has-not":
        source = f"{repository}-empty"
        ecr.create_repository(repositoryName=source)
    digest = sha256(b"not mounted")

    # when the target asks to mount it
    response = v2.post(f"/v2/{repository}/blobs/uploads/", params={"mount": digest, "from": source})

    # then 202: an upload session to push the bytes into instead
    assert response.status_code == 202
    put = v2.put(response.headers["Location"], params={"digest": digest}, data=b"not mounted")
    assert put.status_code == 201


def test_two_clients_pushing_the_same_layer_at_once(server: Server, repository: str) -> None:
    # given two clients with their own sessions, and one large layer
    layer = bytes(range(256)) * 8192
    digest = sha256(layer)
    clients = [V2(server, registry_login(server)) for _ in range(2)]
    results: list[requests.Response] = []
    start = threading.Barrier(len(clients))

    def push(client: V2) -> None:
        location = _start(client, repository)
        start.wait()
        response = client.put(location, params={"digest": digest}, data=layer, headers=OCTETS)
        results.append(response)

    # when both push it at the same moment
    threads = [threading.Thread(target=push, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then both succeed, and the store keeps one copy
    assert [response.status_code for response in results] == [201, 201]
    assert {response.headers["Docker-Content-Digest"] for response in results} == {digest}
    hex_digest = digest.split(":")[1]
    copies = list((server.data_dir / "blobs" / "blobs").rglob(f"*{hex_digest}*"))
    assert len(copies) == 1, copies
