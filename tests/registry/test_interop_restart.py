"""A chunked ``/v2/`` push survives the server being killed between two chunks.

Clients keep the upload's ``Location`` and carry on after a network error; the
session and the bytes received so far must outlive the process (DESIGN.md:
"an upload can resume after a client or server restart").
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from urllib.parse import urljoin

import pytest
import requests

from tests.support import Server, registry_login, sha256

pytestmark = pytest.mark.interop

CHUNK = 2 * 1024 * 1024


def test_a_chunked_upload_continues_after_the_server_is_killed(
    fresh_server: Callable[..., Server],
) -> None:
    # given a chunked upload over /v2/ whose first chunk the server acknowledged
    server = fresh_server()
    server.client().create_repository(repositoryName="team/app")
    auth = registry_login(server)
    data = os.urandom(CHUNK + 123_457)
    first, rest = data[:CHUNK], data[CHUNK:]
    started = requests.post(f"{server.url}/v2/team/app/blobs/uploads/", auth=auth, timeout=30)
    assert started.status_code == 202, started.text
    patched = requests.patch(
        urljoin(server.url, started.headers["Location"]),
        data=first,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": f"0-{len(first) - 1}",
        },
        auth=auth,
        timeout=30,
    )
    assert patched.status_code == 202, patched.text
    assert patched.headers["Range"] == f"0-{len(first) - 1}"
    location = urljoin(server.url, patched.headers["Location"])

    # when the server is killed and started again on the same data and port
    server.stop(signal.SIGKILL)
    server.start()

    # then the session still knows its progress, takes the next chunk where it stopped
    status = requests.get(location, auth=auth, timeout=30)
    assert status.status_code == 204
    assert status.headers["Range"] == f"0-{len(first) - 1}"
    resumed = requests.patch(
        location,
        data=rest,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{len(first)}-{len(data) - 1}",
        },
        auth=auth,
        timeout=30,
    )
    assert resumed.status_code == 202, resumed.text
    assert resumed.headers["Range"] == f"0-{len(data) - 1}"
    # and commits the whole blob under the digest of all the bytes
    done = requests.put(
        urljoin(server.url, resumed.headers["Location"]),
        params={"digest": sha256(data)},
        auth=auth,
        timeout=30,
    )
    assert done.status_code == 201, done.text
    assert done.headers["Docker-Content-Digest"] == sha256(data)
    head = requests.head(f"{server.url}/v2/team/app/blobs/{sha256(data)}", auth=auth, timeout=30)
    assert head.status_code == 200
    assert int(head.headers["Content-Length"]) == len(data)
    # and, once an image references it, the layer downloads with exactly those bytes
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    posted = requests.post(
        f"{server.url}/v2/team/app/blobs/uploads/",
        params={"digest": sha256(config)},
        data=config,
        headers={"Content-Type": "application/octet-stream"},
        auth=auth,
        timeout=30,
    )
    assert posted.status_code == 201, posted.text
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": sha256(data),
                "size": len(data),
            }
        ],
    }
    put = requests.put(
        f"{server.url}/v2/team/app/manifests/resumed",
        data=json.dumps(manifest).encode(),
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        auth=auth,
        timeout=30,
    )
    assert put.status_code == 201, put.text
    blob = requests.get(f"{server.url}/v2/team/app/blobs/{sha256(data)}", auth=auth, timeout=30)
    assert blob.status_code == 200
    assert [hop.status_code for hop in blob.history] == [307]
    assert blob.content == data
