"""State survives the server: an upload continues after a crash, images after a restart."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import Server, image_config, image_manifest, sha256, upload_blob


def test_an_upload_resumes_after_the_server_is_killed(tmp_path: Path) -> None:
    # given an upload with its first part received
    server = Server(tmp_path / "data").start()
    try:
        ecr = server.client()
        ecr.create_repository(repositoryName="resume/me")
        data = os.urandom(6 * 1024 * 1024 + 123)
        first, second = data[: 5 * 1024 * 1024], data[5 * 1024 * 1024 :]
        upload_id = ecr.initiate_layer_upload(repositoryName="resume/me")["uploadId"]
        ecr.upload_layer_part(
            repositoryName="resume/me",
            uploadId=upload_id,
            partFirstByte=0,
            partLastByte=len(first) - 1,
            layerPartBlob=first,
        )
        # when the server is killed and started again on the same data
        server.stop(signal.SIGKILL)
        server.start()
        ecr = server.client()
        # then the upload continues where it was and completes with the right digest
        reply = ecr.upload_layer_part(
            repositoryName="resume/me",
            uploadId=upload_id,
            partFirstByte=len(first),
            partLastByte=len(data) - 1,
            layerPartBlob=second,
        )
        assert reply["lastByteReceived"] == len(data) - 1
        done = ecr.complete_layer_upload(
            repositoryName="resume/me", uploadId=upload_id, layerDigests=[sha256(data)]
        )
        assert done["layerDigest"] == sha256(data)
        config = image_config([data])
        upload_blob(ecr, "resume/me", config)
        ecr.put_image(
            repositoryName="resume/me", imageManifest=image_manifest(config, [data]), imageTag="v1"
        )
        url = ecr.get_download_url_for_layer(repositoryName="resume/me", layerDigest=sha256(data))
        assert sha256(requests.get(url["downloadUrl"], timeout=30).content) == sha256(data)
    finally:
        server.stop()


def test_a_resumed_part_must_continue_where_the_upload_stands(tmp_path: Path) -> None:
    # given an upload interrupted after one part
    server = Server(tmp_path / "data").start()
    try:
        ecr: Any = server.client()
        ecr.create_repository(repositoryName="resume/strict")
        upload_id = ecr.initiate_layer_upload(repositoryName="resume/strict")["uploadId"]
        ecr.upload_layer_part(
            repositoryName="resume/strict",
            uploadId=upload_id,
            partFirstByte=0,
            partLastByte=9,
            layerPartBlob=b"0123456789",
        )
        server.stop(signal.SIGKILL)
        server.start()
        ecr = server.client()
        # when the client re-sends the first part, then ECR's error says where to go on from
        with pytest.raises(ecr.exceptions.InvalidLayerPartException) as caught:
            ecr.upload_layer_part(
                repositoryName="resume/strict",
                uploadId=upload_id,
                partFirstByte=0,
                partLastByte=9,
                layerPartBlob=b"0123456789",
            )
        assert caught.value.response["lastValidByteReceived"] == 9
    finally:
        server.stop()


def test_images_and_urls_survive_a_restart(tmp_path: Path) -> None:
    server = Server(tmp_path / "data").start()
    try:
        ecr = server.client()
        ecr.create_repository(repositoryName="keep/me")
        layer = os.urandom(4096)
        config = image_config([layer])
        for blob in (layer, config):
            upload_blob(ecr, "keep/me", blob)
        ecr.put_image(
            repositoryName="keep/me", imageManifest=image_manifest(config, [layer]), imageTag="v1"
        )
        url = ecr.get_download_url_for_layer(repositoryName="keep/me", layerDigest=sha256(layer))
        server.stop()
        server.start()
        # the URL minted before the restart still works: the presign key is persistent
        assert requests.get(url["downloadUrl"], timeout=10).content == layer
        images = server.client().describe_images(repositoryName="keep/me")["imageDetails"]
        assert [(i["imageTags"], i["imageSizeInBytes"]) for i in images] == [(["v1"], 4096)]
    finally:
        server.stop()
