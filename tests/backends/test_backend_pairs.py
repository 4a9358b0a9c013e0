"""One end-to-end story on each backend pair: SQLite or PostgreSQL, filesystem or S3."""

from __future__ import annotations

import os
import signal

import pytest
import requests

from tests.conftest import BACKENDS
from tests.support import Server, image_config, image_manifest, registry_login, sha256, upload_blob

pytestmark = pytest.mark.parametrize("backend_urls", BACKENDS, indirect=True)


def test_push_then_download_through_the_pre_signed_url(backend_server: Server) -> None:
    # given a layer bigger than one S3 part, uploaded in uneven ECR parts
    ecr = backend_server.client()
    ecr.create_repository(repositoryName="pairs/app")
    layer = os.urandom(9 * 1024 * 1024 + 12345)
    digest = upload_blob(ecr, "pairs/app", layer, part_size=3 * 1024 * 1024 + 7)
    config = image_config([layer])
    upload_blob(ecr, "pairs/app", config)
    ecr.put_image(
        repositoryName="pairs/app", imageManifest=image_manifest(config, [layer]), imageTag="v1"
    )
    # when the layer's URL is fetched, whole and in a range
    url = ecr.get_download_url_for_layer(repositoryName="pairs/app", layerDigest=digest)
    whole = requests.get(url["downloadUrl"], timeout=60)
    part = requests.get(url["downloadUrl"], headers={"Range": "bytes=100-199"}, timeout=60)
    # then the bytes are the layer's
    assert whole.status_code == 200 and sha256(whole.content) == digest
    assert part.status_code == 206 and part.content == layer[100:200]
    assert "X-Amz-Signature=" in url["downloadUrl"]


def test_an_upload_continues_after_a_crash(backend_server: Server) -> None:
    # given an upload with one part received
    ecr = backend_server.client()
    ecr.create_repository(repositoryName="pairs/crash")
    data = os.urandom(6 * 1024 * 1024)
    upload_id = ecr.initiate_layer_upload(repositoryName="pairs/crash")["uploadId"]
    ecr.upload_layer_part(
        repositoryName="pairs/crash",
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=4 * 1024 * 1024 - 1,
        layerPartBlob=data[: 4 * 1024 * 1024],
    )
    # when the server is killed and started again
    backend_server.stop(signal.SIGKILL)
    backend_server.start()
    ecr = backend_server.client()
    ecr.upload_layer_part(
        repositoryName="pairs/crash",
        uploadId=upload_id,
        partFirstByte=4 * 1024 * 1024,
        partLastByte=len(data) - 1,
        layerPartBlob=data[4 * 1024 * 1024 :],
    )
    done = ecr.complete_layer_upload(
        repositoryName="pairs/crash", uploadId=upload_id, layerDigests=[sha256(data)]
    )
    # then the digest is computed from every byte, before and after the crash
    assert done["layerDigest"] == sha256(data)
    check = ecr.batch_check_layer_availability(
        repositoryName="pairs/crash", layerDigests=[sha256(data)]
    )
    assert check["layers"][0]["layerSize"] == len(data)


def test_registry_face_push_and_pull(backend_server: Server) -> None:
    # given a blob pushed over /v2/ in two chunks
    ecr = backend_server.client()
    ecr.create_repository(repositoryName="pairs/oci")
    auth = registry_login(backend_server)
    base = f"{backend_server.url}/v2/pairs/oci"
    blob = os.urandom(3 * 1024 * 1024)
    started = requests.post(f"{base}/blobs/uploads/", auth=auth, timeout=30)
    assert started.status_code == 202
    location = started.headers["Location"]
    for start in (0, len(blob) // 2):
        end = len(blob) // 2 if start == 0 else len(blob)
        chunk = requests.patch(
            f"{backend_server.url}{location}",
            data=blob[start:end],
            headers={"Content-Range": f"{start}-{end - 1}"},
            auth=auth,
            timeout=30,
        )
        assert chunk.status_code == 202, chunk.text
        location = chunk.headers["Location"]
    done = requests.put(
        f"{backend_server.url}{location}", params={"digest": sha256(blob)}, auth=auth, timeout=30
    )
    assert done.status_code == 201, done.text
    config = image_config([blob])
    upload_blob(ecr, "pairs/oci", config)
    pushed = requests.put(
        f"{base}/manifests/v1",
        data=image_manifest(config, [blob]),
        headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
        auth=auth,
        timeout=30,
    )
    assert pushed.status_code == 201, pushed.text
    # when it is pulled: HEAD from metadata, GET redirected to the store
    head = requests.head(f"{base}/blobs/{sha256(blob)}", auth=auth, timeout=30)
    got = requests.get(f"{base}/blobs/{sha256(blob)}", auth=auth, timeout=60)
    # then the bytes come back whole
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(blob))
    assert got.status_code == 200 and sha256(got.content) == sha256(blob)
    assert got.history and got.history[0].status_code == 307
