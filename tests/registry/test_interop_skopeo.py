"""skopeo against the registry face: login from ``aws ecr get-login-password``, push, pull, more.

Every test drives the real skopeo binary over plain HTTP, as a user on a
laptop would, and compares what comes back byte for byte with what went in.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.media_types import DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST
from tests.registry.interop import LayoutReader, Skopeo
from tests.registry.oci_layout import Blob, Layout, layer
from tests.support import Server, image_manifest, sha256, upload_blob

pytestmark = pytest.mark.interop


@pytest.fixture
def skopeo(server: Server, tmp_path: Path) -> Skopeo:
    """skopeo logged in to the session server with a token from the aws CLI."""
    client = Skopeo(server, tmp_path / "skopeo")
    client.login()
    return client


def two_layer_image(root: Path, tag: str = "latest") -> tuple[Layout, Blob, list[Blob]]:
    """An OCI layout holding one linux/amd64 image of two real tar.gz layers, tagged ``tag``."""
    layout = Layout(root)
    manifest, layers = layout.image(
        [{"etc/motd": b"hello from layerport\n"}, {"app/data.bin": os.urandom(256 * 1024)}]
    )
    layout.tag(manifest, tag)
    return layout, manifest, layers


def test_an_image_pushed_with_skopeo_pulls_back_byte_for_byte(
    skopeo: Skopeo, repository: str, tmp_path: Path
) -> None:
    # given an OCI layout with a two-layer image
    layout, manifest, _ = two_layer_image(tmp_path / "source")

    # when skopeo pushes it and pulls it into another layout
    skopeo.push(layout.root, "latest", f"{repository}:1.0")
    skopeo.pull(f"{repository}:1.0", f"oci:{tmp_path / 'pulled'}:1.0")

    # then the manifest keeps its digest and bytes, and every blob comes back unchanged
    pulled = LayoutReader(tmp_path / "pulled")
    assert pulled.tagged("1.0")["digest"] == manifest.digest
    assert pulled.blob(manifest.digest) == manifest.data
    original = LayoutReader(layout.root).image_blobs(manifest.digest)
    assert pulled.image_blobs(manifest.digest) == original
    assert len(original) == 3


def multi_arch_image(root: Path) -> tuple[Layout, Blob, dict[str, Blob]]:
    """An OCI layout holding an index over linux/amd64 and linux/arm64, tagged ``latest``."""
    layout = Layout(root)
    images = {
        arch: layout.image([{"arch.txt": arch.encode()}, {"lib.bin": os.urandom(4096)}], arch)[0]
        for arch in ("amd64", "arm64")
    }
    index = layout.multi_arch(images)
    layout.tag(index, "latest")
    return layout, index, images


def test_a_multi_arch_index_is_copied_with_all_its_images(
    skopeo: Skopeo, repository: str, tmp_path: Path
) -> None:
    # given an image index over linux/amd64 and linux/arm64
    layout, index, images = multi_arch_image(tmp_path / "source")

    # when skopeo pushes and pulls every image of the list
    skopeo.push(layout.root, "latest", f"{repository}:multi", "--multi-arch", "all")
    skopeo.pull(f"{repository}:multi", f"oci:{tmp_path / 'pulled'}:multi", "--multi-arch", "all")

    # then the index and both images arrive unchanged, with all their blobs
    pulled = LayoutReader(tmp_path / "pulled")
    original = LayoutReader(layout.root)
    assert pulled.tagged("multi")["digest"] == index.digest
    assert pulled.blob(index.digest) == index.data
    for image in images.values():
        assert pulled.blob(image.digest) == image.data
        assert pulled.image_blobs(image.digest) == original.image_blobs(image.digest)
    raw = skopeo.registry("inspect", f"{repository}:multi", "--raw")
    assert raw.returncode == 0, raw.stderr
    assert raw.stdout.encode() == index.data


def test_skopeo_picks_one_platform_from_a_pushed_index(
    skopeo: Skopeo, repository: str, tmp_path: Path
) -> None:
    # given a two-platform index pushed with skopeo
    layout, _, images = multi_arch_image(tmp_path / "source")
    skopeo.push(layout.root, "latest", f"{repository}:multi", "--multi-arch", "all")

    # when skopeo, told it runs on arm64, inspects and copies the tag
    on_arm = replace(skopeo, overrides=("--override-arch", "arm64"))
    inspected = on_arm.registry("inspect", f"{repository}:multi")
    on_arm.pull(f"{repository}:multi", f"dir:{tmp_path / 'arm'}")

    # then it resolves the index to the arm64 image, fetched by digest unchanged
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["Architecture"] == "arm64"
    arm = images["arm64"]
    assert (tmp_path / "arm" / "manifest.json").read_bytes() == arm.data
    for digest, data in LayoutReader(layout.root).image_blobs(arm.digest).items():
        assert (tmp_path / "arm" / digest.split(":", 1)[1]).read_bytes() == data


def test_skopeo_can_convert_to_docker_schema_2_on_push(
    skopeo: Skopeo, ecr: Any, repository: str, tmp_path: Path
) -> None:
    # given an OCI image
    layout, manifest, layers = two_layer_image(tmp_path / "source")

    # when skopeo pushes it converted to a Docker schema 2 manifest, and pulls it back
    skopeo.push(layout.root, "latest", f"{repository}:docker", "--format", "v2s2")
    skopeo.pull(f"{repository}:docker", f"dir:{tmp_path / 'pulled'}")

    # then the registry stored the Docker manifest, over the same layer bytes
    stored = json.loads((tmp_path / "pulled" / "manifest.json").read_bytes())
    assert stored["mediaType"] == DOCKER_MANIFEST
    assert [each["digest"] for each in stored["layers"]] == [blob.digest for blob in layers]
    for blob in layers:
        assert (tmp_path / "pulled" / blob.digest.split(":", 1)[1]).read_bytes() == blob.data
    details = ecr.describe_images(repositoryName=repository)["imageDetails"]
    assert [d["imageManifestMediaType"] for d in details] == [DOCKER_MANIFEST]
    assert details[0]["imageDigest"] == sha256((tmp_path / "pulled" / "manifest.json").read_bytes())
    assert details[0]["imageDigest"] != manifest.digest


def test_skopeo_inspect_and_list_tags_describe_the_pushed_image(
    skopeo: Skopeo, repository: str, tmp_path: Path
) -> None:
    # given one image pushed under two tags
    layout, manifest, layers = two_layer_image(tmp_path / "source")
    skopeo.push(layout.root, "latest", f"{repository}:1.0")
    skopeo.push(layout.root, "latest", f"{repository}:stable")

    # when skopeo inspects it and lists the repository's tags
    inspected = skopeo.registry("inspect", f"{repository}:1.0")
    raw = skopeo.registry("inspect", f"{repository}:stable", "--raw")
    config = skopeo.registry("inspect", f"{repository}:1.0", "--config", "--raw")
    tags = skopeo.registry("list-tags", repository)

    # then each answer describes exactly what was pushed
    for done in (inspected, raw, config, tags):
        assert done.returncode == 0, done.stderr
    details = json.loads(inspected.stdout)
    assert details["Digest"] == manifest.digest
    assert (details["Architecture"], details["Os"]) == ("amd64", "linux")
    assert details["Layers"] == [blob.digest for blob in layers]
    assert sorted(details["RepoTags"]) == ["1.0", "stable"]
    assert raw.stdout.encode() == manifest.data
    pushed_config = json.loads(manifest.data)["config"]
    assert sha256(config.stdout.encode()) == pushed_config["digest"]
    assert json.loads(tags.stdout) == {
        "Repository": f"{skopeo.host}/{repository}",
        "Tags": ["1.0", "stable"],
    }


def test_skopeo_delete_removes_the_image(
    skopeo: Skopeo, ecr: Any, repository: str, tmp_path: Path
) -> None:
    # given an image pushed with skopeo
    layout, manifest, _ = two_layer_image(tmp_path / "source")
    skopeo.push(layout.root, "latest", f"{repository}:1.0")

    # when skopeo deletes it by tag
    deleted = skopeo.registry("delete", f"{repository}:1.0")

    # then neither the registry nor the ECR API knows the image any more
    assert deleted.returncode == 0, deleted.stderr
    gone = skopeo.registry("inspect", f"{repository}@{manifest.digest}", "--raw")
    assert gone.returncode != 0
    assert "manifest unknown" in gone.stderr.lower()
    assert ecr.list_images(repositoryName=repository)["imageIds"] == []


def test_copy_between_repositories_mounts_the_blobs_instead_of_uploading(
    skopeo: Skopeo, ecr: Any, repository: str, tmp_path: Path
) -> None:
    # given an image pushed into one repository, and a second, empty repository
    layout, manifest, layers = two_layer_image(tmp_path / "source")
    skopeo.push(layout.root, "latest", f"{repository}:1.0")
    target = f"{repository}-copy"
    ecr.create_repository(repositoryName=target)

    # when skopeo copies the image from one repository to the other
    copied = skopeo.ok(
        "copy",
        "--authfile",
        str(skopeo.authfile),
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        skopeo.ref(f"{repository}:1.0"),
        skopeo.ref(f"{target}:1.0"),
    )

    # then every layer was mounted, not uploaded again (skopeo re-sends only the small config)
    layer_digests = [blob.digest for blob in layers]
    mounted = re.findall(
        rf"POST http://{re.escape(skopeo.host)}/v2/{re.escape(target)}/blobs/uploads/"
        r"\?from=[^&\s]+&mount=(sha256%3A[0-9a-f]{64})",
        copied.stderr,
    )
    assert sorted(mount.replace("%3A", ":") for mount in mounted) == sorted(layer_digests)
    assert "mount OK" in copied.stderr
    for digest in layer_digests:
        assert f"Upload of layer {digest} complete" not in copied.stderr
    skopeo.pull(f"{target}:1.0", f"oci:{tmp_path / 'pulled'}:1.0")
    blobs = LayoutReader(layout.root).image_blobs(manifest.digest)
    assert LayoutReader(tmp_path / "pulled").image_blobs(manifest.digest) == blobs


def test_pulling_without_login_fails_with_an_auth_error(
    skopeo: Skopeo, server: Server, repository: str, tmp_path: Path
) -> None:
    # given an image in the registry, and a skopeo that never logged in
    layout, _, _ = two_layer_image(tmp_path / "source")
    skopeo.push(layout.root, "latest", f"{repository}:1.0")
    anonymous = Skopeo(server, tmp_path / "anonymous")

    # when the anonymous skopeo tries to pull and to inspect it
    pull = anonymous.run(
        "copy",
        "--authfile",
        str(anonymous.authfile),
        "--src-tls-verify=false",
        anonymous.ref(f"{repository}:1.0"),
        f"oci:{tmp_path / 'pulled'}:1.0",
    )
    inspect = anonymous.registry("inspect", f"{repository}:1.0", "--raw")

    # then both fail on authentication, and nothing was written
    for done in (pull, inspect):
        assert done.returncode != 0
        assert re.search(r"unauthorized|authentication required", done.stderr, re.I), done.stderr
    assert not (tmp_path / "pulled" / "index.json").exists()


def test_an_image_pushed_with_skopeo_is_visible_through_the_ecr_api(
    skopeo: Skopeo, ecr: Any, repository: str, tmp_path: Path
) -> None:
    # given an image pushed with skopeo
    layout, manifest, layers = two_layer_image(tmp_path / "source")
    skopeo.push(layout.root, "latest", f"{repository}:1.0")
    blobs = LayoutReader(layout.root).image_blobs(manifest.digest)

    # when the ECR API lists, describes and fetches it
    listed = ecr.list_images(repositoryName=repository)["imageIds"]
    described = ecr.describe_images(repositoryName=repository)["imageDetails"]
    got = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": "1.0"}])
    urls = {
        digest: ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=digest)
        for digest in blobs
    }

    # then it is the same image, and every layer URL serves the layer's bytes
    assert listed == [{"imageDigest": manifest.digest, "imageTag": "1.0"}]
    assert len(described) == 1
    assert described[0]["imageDigest"] == manifest.digest
    assert described[0]["imageTags"] == ["1.0"]
    assert described[0]["imageManifestMediaType"] == OCI_MANIFEST
    assert described[0]["artifactMediaType"] == OCI_CONFIG
    assert described[0]["imageSizeInBytes"] == sum(len(blob.data) for blob in layers)
    assert got["images"][0]["imageManifest"].encode() == manifest.data
    assert got["failures"] == []
    for digest, reply in urls.items():
        assert reply["layerDigest"] == digest
        download = requests.get(reply["downloadUrl"], timeout=30)
        assert download.status_code == 200
        assert sha256(download.content) == digest
        assert download.content == blobs[digest]


def test_an_image_pushed_with_the_ecr_api_pulls_with_skopeo(
    skopeo: Skopeo, ecr: Any, repository: str, tmp_path: Path
) -> None:
    # given a Docker schema 2 image of real tar.gz layers, pushed through the ECR API
    built = [layer({"hello.txt": b"hello\n"}), layer({"blob.bin": os.urandom(64 * 1024)})]
    layers = [blob.data for blob, _ in built]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [diff for _, diff in built]},
        }
    ).encode()
    for data in [*layers, config]:
        upload_blob(ecr, repository, data)
    manifest = image_manifest(config, layers).encode()
    ecr.put_image(repositoryName=repository, imageManifest=manifest.decode(), imageTag="ecr")

    # when skopeo pulls it into a plain directory (which keeps the manifest as it is)
    skopeo.pull(f"{repository}:ecr", f"dir:{tmp_path / 'pulled'}")

    # then the manifest and every blob are byte-identical to what the ECR API stored
    pulled = tmp_path / "pulled"
    assert (pulled / "manifest.json").read_bytes() == manifest
    for data in [*layers, config]:
        assert (pulled / sha256(data).split(":", 1)[1]).read_bytes() == data
    inspected = skopeo.registry("inspect", f"{repository}:ecr")
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["Digest"] == sha256(manifest)


def test_an_index_pushed_with_skopeo_is_one_image_in_the_ecr_api(
    skopeo: Skopeo, ecr: Any, repository: str, tmp_path: Path
) -> None:
    # given a two-platform index pushed with skopeo
    layout = Layout(tmp_path / "source")
    images = {arch: layout.image([{"a": arch.encode()}], arch)[0] for arch in ("amd64", "arm64")}
    index = layout.multi_arch(images)
    layout.tag(index, "latest")
    skopeo.push(layout.root, "latest", f"{repository}:multi", "--multi-arch", "all")

    # when the ECR API fetches the tag
    got = ecr.batch_get_image(
        repositoryName=repository,
        imageIds=[{"imageTag": "multi"}],
        acceptedMediaTypes=[OCI_INDEX],
    )

    # then it is the index as pushed, and its children are untagged images of the repository
    assert got["images"][0]["imageManifest"].encode() == index.data
    assert got["images"][0]["imageId"]["imageDigest"] == index.digest
    listed = ecr.list_images(repositoryName=repository)["imageIds"]
    assert {entry["imageDigest"] for entry in listed} == {
        index.digest,
        *(image.digest for image in images.values()),
    }
