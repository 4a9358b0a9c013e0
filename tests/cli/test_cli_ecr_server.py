"""``layerport ecr`` against a real ``layerport serve``, side by side with ``aws ecr``.

Each test runs the same command through both programs and compares stdout,
stderr and exit code.  Pre-signed download URLs carry a signing time, so where
one is printed the URL is compared after the rest, by downloading it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.cli.ecr_cli_support import Pair, Run, Runner, assert_same
from tests.support import Server, push_image, sha256

pytestmark = pytest.mark.interop

LAYERS = [b"layer one: " + bytes(range(256)) * 64, b"layer two"]


@pytest.fixture
def env(server: Server, tmp_path: Path) -> dict[str, str]:
    """The server's client environment, with no layerport defaults to fall back on."""
    env = server.env()
    env["LAYERPORT_DATA_DIR"] = str(tmp_path / "no-data")
    env.pop("LAYERPORT_ENDPOINT_URL", None)
    return env


@pytest.fixture
def both(pair: Pair, server: Server, env: dict[str, str]) -> Pair:
    """Run one command through aws and layerport against the server: (theirs, ours)."""

    def run(*args: str) -> tuple[Run, Run]:
        return pair(*args, "--endpoint-url", server.url, env=env)

    return run


def _without_url(run: Run) -> tuple[int, str, str]:
    """The run with its pre-signed URL replaced: the signature changes every second."""
    data = json.loads(run.out)
    data["downloadUrl"] = "<url>"
    return run.rc, json.dumps(data, indent=4) + "\n", run.err


def _download(url: str) -> bytes:
    response = requests.get(url, timeout=30)
    response.raise_for_status()
    return response.content


def test_get_download_url_for_layer_returns_a_url_of_exactly_the_layer(
    layerport: Runner, server: Server, env: dict[str, str], ecr: Any, repository: str
) -> None:
    # given
    pushed = push_image(ecr, repository, LAYERS)
    digest = pushed.layer_digests[0]

    # when: global options after the operation, as the aws CLI allows
    ours = layerport(
        "get-download-url-for-layer",
        "--repository-name",
        repository,
        "--layer-digest",
        digest,
        "--endpoint-url",
        server.url,
        "--region",
        server.region,
        env=env,
    )

    # then
    assert (ours.rc, ours.err) == (0, "")
    data = json.loads(ours.out)
    assert list(data) == ["downloadUrl", "layerDigest"]
    assert data["layerDigest"] == digest
    assert ours.out == json.dumps(data, indent=4) + "\n"
    body = _download(data["downloadUrl"])
    assert sha256(body) == digest
    assert body == LAYERS[0]


def test_get_download_url_for_layer_prints_what_aws_prints(
    both: Pair, ecr: Any, repository: str
) -> None:
    # given
    pushed = push_image(ecr, repository, LAYERS)
    digest = pushed.layer_digests[1]

    # when
    theirs, ours = both(
        "get-download-url-for-layer", "--repository-name", repository, "--layer-digest", digest
    )

    # then
    assert theirs.rc == 0
    assert _without_url(ours) == _without_url(theirs)
    assert _download(json.loads(ours.out)["downloadUrl"]) == LAYERS[1]
    assert _download(json.loads(theirs.out)["downloadUrl"]) == LAYERS[1]


@pytest.mark.parametrize(
    ("missing", "expected_code"),
    [("repository", "RepositoryNotFoundException"), ("layer", "LayersNotFoundException")],
)
def test_service_errors_print_and_exit_like_aws(
    both: Pair, repository: str, missing: str, expected_code: str
) -> None:
    # given
    name = f"{repository}-absent" if missing == "repository" else repository
    digest = sha256(b"never pushed")

    # when
    theirs, ours = both(
        "get-download-url-for-layer", "--repository-name", name, "--layer-digest", digest
    )

    # then
    assert ours.rc == 255
    assert ours.out == ""
    assert ours.err.startswith(
        f"\nAn error occurred ({expected_code}) when calling the GetDownloadUrlForLayer operation: "
    )
    assert_same(ours, theirs)


@pytest.mark.parametrize("output", ["json", "text", "table"])
def test_describe_repositories_prints_like_aws(both: Pair, repository: str, output: str) -> None:
    # given: the repository exists (its createdAt prints as the wire's epoch seconds)

    # when
    theirs, ours = both(
        "describe-repositories", "--repository-names", repository, "--output", output
    )

    # then
    assert theirs.rc == 0
    assert repository in ours.out
    assert_same(ours, theirs)


def test_created_at_prints_as_epoch_seconds_like_aws_v1(
    layerport: Runner, server: Server, env: dict[str, str], repository: str
) -> None:
    # when
    ours = layerport(
        "describe-repositories",
        "--repository-names",
        repository,
        "--query",
        "repositories[0].createdAt",
        "--endpoint-url",
        server.url,
        env=env,
    )

    # then
    assert ours.rc == 0
    assert isinstance(json.loads(ours.out), float | int)


@pytest.mark.parametrize(
    "args",
    [
        ("describe-images", "--output", "json"),
        ("describe-images", "--output", "text"),
        ("describe-images", "--output", "table"),
        ("list-images", "--query", "sort(imageIds[].imageTag)"),
        ("list-images", "--output", "text", "--query", "imageIds[].imageDigest"),
        ("list-images", "--max-items", "1"),
        ("list-images", "--page-size", "1", "--output", "text"),
        ("list-images", "--no-paginate", "--max-results", "1"),
        ("describe-images", "--image-ids", "imageTag=v2", "--query", "imageDetails[0].imageTags"),
        (
            "describe-images",
            "--output",
            "table",
            "--query",
            "imageDetails[].[imageTags[0], imageDigest]",
        ),
    ],
    ids=lambda args: "-".join(a.strip("-") for a in args[1:3]),
)
def test_image_listings_print_like_aws(
    both: Pair, ecr: Any, repository: str, args: tuple[str, ...]
) -> None:
    # given
    push_image(ecr, repository, LAYERS[:1], tag="v1")
    push_image(ecr, repository, LAYERS[1:], tag="v2")

    # when
    theirs, ours = both(args[0], "--repository-name", repository, *args[1:])

    # then
    assert theirs.rc == 0
    assert ours.out
    assert_same(ours, theirs)


def test_an_unedited_skeleton_sends_an_empty_registry_id_like_aws(
    both: Pair, layerport: Runner, env: dict[str, str], ecr: Any, repository: str
) -> None:
    # given: the printed skeleton, with only the required members filled in
    pushed = push_image(ecr, repository, LAYERS)
    skeleton = json.loads(layerport("get-download-url-for-layer", "--generate-cli-skeleton").out)
    skeleton.update(repositoryName=repository, layerDigest=pushed.layer_digests[0])
    assert skeleton["registryId"] == ""

    # when
    theirs, ours = both("get-download-url-for-layer", "--cli-input-json", json.dumps(skeleton))

    # then: whatever the server makes of "registryId": "", both clients see the same
    if theirs.rc == 0:
        assert _without_url(ours) == _without_url(theirs)
    else:
        assert_same(ours, theirs)


def test_cli_input_json_from_a_file_with_command_line_values_winning(
    both: Pair, ecr: Any, repository: str, tmp_path: Path
) -> None:
    # given: the file names another repository; the command line names the right one
    pushed = push_image(ecr, repository, LAYERS)
    digest = pushed.layer_digests[1]
    path = tmp_path / "input.json"
    path.write_text(json.dumps({"repositoryName": f"{repository}-other", "layerDigest": digest}))

    # when
    theirs, ours = both(
        "get-download-url-for-layer",
        "--cli-input-json",
        f"file://{path}",
        "--repository-name",
        repository,
    )

    # then
    assert ours.rc == 0, ours.err
    assert json.loads(ours.out)["layerDigest"] == digest
    assert _without_url(ours) == _without_url(theirs)
    assert _download(json.loads(ours.out)["downloadUrl"]) == LAYERS[1]


def test_a_layer_uploaded_with_the_cli_is_available(
    both: Pair,
    layerport: Runner,
    server: Server,
    env: dict[str, str],
    repository: str,
    tmp_path: Path,
) -> None:
    # given
    def ours(*args: str) -> dict[str, Any]:
        done = layerport(
            *args, "--repository-name", repository, "--endpoint-url", server.url, env=env
        )
        assert done.rc == 0, done.err
        return dict(json.loads(done.out))

    layer = b"\x00\xff uploaded through layerport ecr"
    part = tmp_path / "part.bin"
    part.write_bytes(layer)
    upload_id = ours("initiate-layer-upload")["uploadId"]

    # when
    ours(
        "upload-layer-part",
        "--upload-id",
        upload_id,
        "--part-first-byte",
        "0",
        "--part-last-byte",
        str(len(layer) - 1),
        "--layer-part-blob",
        f"fileb://{part}",
    )
    completed = ours(
        "complete-layer-upload", "--upload-id", upload_id, "--layer-digests", sha256(layer)
    )
    theirs, checked = both(
        "batch-check-layer-availability",
        "--repository-name",
        repository,
        "--layer-digests",
        sha256(layer),
        sha256(b"absent"),
    )

    # then
    assert completed["layerDigest"] == sha256(layer)
    assert json.loads(checked.out)["layers"][0]["layerAvailability"] == "AVAILABLE"
    assert_same(checked, theirs)


def test_put_image_from_a_file_and_batch_get_image_with_shorthand(
    both: Pair,
    layerport: Runner,
    server: Server,
    env: dict[str, str],
    ecr: Any,
    repository: str,
    tmp_path: Path,
) -> None:
    # given: an image's blobs, and its manifest in a file
    pushed = push_image(ecr, repository, LAYERS, tag=None)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(pushed.manifest)

    # when
    put = layerport(
        "put-image",
        "--repository-name",
        repository,
        "--image-manifest",
        f"file://{manifest}",
        "--image-tag",
        "from-cli",
        "--endpoint-url",
        server.url,
        env=env,
    )
    theirs, ours = both(
        "batch-get-image", "--repository-name", repository, "--image-ids", "imageTag=from-cli"
    )

    # then
    assert put.rc == 0, put.err
    assert json.loads(put.out)["image"]["imageId"]["imageDigest"] == pushed.manifest_digest
    assert json.loads(ours.out)["images"][0]["imageManifest"] == pushed.manifest
    assert_same(ours, theirs)


def test_local_defaults_need_no_aws_configuration(
    layerport: Runner, server: Server, repository: str, cli_env: dict[str, str]
) -> None:
    # given: no AWS credentials or endpoint, only the server's data dir and URL
    env = {
        k: v for k, v in cli_env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    env.update(LAYERPORT_DATA_DIR=str(server.data_dir), LAYERPORT_ENDPOINT_URL=server.url)

    # when
    ours = layerport("describe-repositories", "--repository-names", repository, env=env)

    # then: signed with the admin key from <data-dir>/credentials
    assert ours.rc == 0, ours.err
    assert json.loads(ours.out)["repositories"][0]["repositoryName"] == repository


def test_aws_endpoint_variables_win_over_layerport_endpoint_url(
    layerport: Runner, server: Server, env: dict[str, str], repository: str
) -> None:
    # given
    env = {
        **env,
        "AWS_ENDPOINT_URL_ECR": server.url,
        "LAYERPORT_ENDPOINT_URL": "http://127.0.0.1:9",
    }

    # when
    ours = layerport("describe-repositories", "--repository-names", repository, env=env)

    # then
    assert ours.rc == 0, ours.err
