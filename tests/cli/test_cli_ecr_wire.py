"""What ``layerport ecr`` sends: the same request bodies as ``aws ecr`` for the same command line.

A recording endpoint stands in for the server, so the comparison is of the
JSON each client puts on the wire, call by call (pagination included).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.ecr_cli_support import Recorder, Runner, assert_same

pytestmark = pytest.mark.interop

DIGEST = "sha256:" + "cd" * 32
REPOSITORIES = [f"team/app-{n}" for n in range(3)]


def _replies(operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Canned ECR answers: one repository per DescribeRepositories page, then the end."""
    if operation == "DescribeRepositories":
        start = int(body.get("nextToken", "0"))
        page: dict[str, Any] = {
            "repositories": [
                {
                    "repositoryName": REPOSITORIES[start],
                    "registryId": "000000000000",
                    "createdAt": 1700000000.25 + start,
                    "imageScanningConfiguration": {"scanOnPush": False},
                }
            ]
        }
        if start + 1 < len(REPOSITORIES):
            page["nextToken"] = str(start + 1)
        return 200, page
    if operation == "GetDownloadUrlForLayer":
        if body["repositoryName"] == "absent":
            message = "The repository with name 'absent' does not exist in the registry"
            return 400, {"__type": "RepositoryNotFoundException", "message": message}
        return 200, {"downloadUrl": "http://127.0.0.1/blob", "layerDigest": body["layerDigest"]}
    return 200, {}


def _sent(run: Runner, recorder: Recorder, *args: str) -> tuple[Any, list[tuple[str, Any]]]:
    recorder.requests.clear()
    done = run(*args, "--endpoint-url", recorder.url)
    return done, list(recorder.requests)


SKELETON = {"registryId": "", "repositoryName": "", "layerDigest": ""}


@pytest.mark.parametrize(
    "args",
    [
        (
            "get-download-url-for-layer",
            "--cli-input-json",
            json.dumps({**SKELETON, "repositoryName": "team/app", "layerDigest": DIGEST}),
        ),
        (
            "get-download-url-for-layer",
            "--cli-input-json",
            json.dumps({**SKELETON, "repositoryName": "from-json", "layerDigest": DIGEST}),
            "--repository-name",
            "from-cli",
        ),
        (
            "create-repository",
            "--repository-name",
            "team/app",
            "--tags",
            "Key=team,Value=platform",
            "Key=env,Value=",
            "--image-scanning-configuration",
            "scanOnPush=true",
            "--encryption-configuration",
            '{"encryptionType": "KMS", "kmsKey": "alias/x"}',
            "--image-tag-mutability",
            "IMMUTABLE",
        ),
        ("delete-repository", "--repository-name", "team/app", "--force"),
        ("delete-repository", "--repository-name", "team/app", "--no-force"),
        (
            "upload-layer-part",
            "--repository-name",
            "team/app",
            "--upload-id",
            "u-1",
            "--part-first-byte",
            "0",
            "--part-last-byte",
            "4",
            "--layer-part-blob",
            "hello",
        ),
        (
            "complete-layer-upload",
            "--repository-name",
            "r1",
            "--upload-id",
            "u",
            "--layer-digests",
            DIGEST,
            DIGEST,
        ),
        (
            "batch-delete-image",
            "--repository-name",
            "r1",
            "--image-ids",
            "imageTag=v1",
            f"imageDigest={DIGEST}",
        ),
        (
            "list-images",
            "--repository-name",
            "r1",
            "--filter",
            "tagStatus=TAGGED",
            "--page-size",
            "5",
        ),
        ("describe-repositories", "--page-size", "1"),
        ("describe-repositories", "--max-items", "2"),
        ("describe-repositories", "--no-paginate"),
        ("describe-repositories", "--max-results", "1", "--next-token", "1"),
        ("get-authorization-token", "--registry-ids", "123456789012"),
    ],
    ids=lambda args: args[0],
)
def test_same_requests_and_output_as_aws(
    aws: Runner, layerport: Runner, recorder: Recorder, args: tuple[str, ...]
) -> None:
    # given
    recorder.replies = _replies

    # when
    theirs, theirs_sent = _sent(aws, recorder, *args)
    ours, ours_sent = _sent(layerport, recorder, *args)

    # then
    assert theirs_sent
    assert ours_sent == theirs_sent
    assert_same(ours, theirs)


def test_an_unedited_skeleton_sends_registry_id_empty_verbatim(
    layerport: Runner, recorder: Recorder
) -> None:
    # given
    recorder.replies = _replies
    given = {**SKELETON, "repositoryName": "team/app", "layerDigest": DIGEST}

    # when
    _, sent = _sent(
        layerport, recorder, "get-download-url-for-layer", "--cli-input-json", json.dumps(given)
    )

    # then
    assert sent == [("GetDownloadUrlForLayer", given)]


def test_layer_part_blob_sends_a_files_bytes(
    aws: Runner, layerport: Runner, recorder: Recorder, tmp_path: Path
) -> None:
    # given
    blob = tmp_path / "part.bin"
    blob.write_bytes(bytes(range(256)))
    args = ("upload-layer-part", "--repository-name", "team/app", "--upload-id", "u")
    args += (
        "--part-first-byte",
        "0",
        "--part-last-byte",
        "255",
        "--layer-part-blob",
        f"fileb://{blob}",
    )

    # when
    _, theirs_sent = _sent(aws, recorder, *args)
    ours, ours_sent = _sent(layerport, recorder, *args)

    # then: base64 of the file's bytes, as the JSON protocol carries blobs
    assert ours.rc == 0, ours.err
    assert ours_sent == theirs_sent
    assert ours_sent[0][1]["layerPartBlob"] == base64.b64encode(bytes(range(256))).decode()


@pytest.mark.parametrize("output", ["json", "text", "table"])
def test_paginated_output_prints_like_aws(
    aws: Runner, layerport: Runner, recorder: Recorder, output: str
) -> None:
    # given: three pages of one repository each
    recorder.replies = _replies
    args = ("describe-repositories", "--output", output)

    # when
    theirs, _ = _sent(aws, recorder, *args)
    ours, sent = _sent(layerport, recorder, *args)

    # then
    assert len(sent) == 3
    assert all(name in ours.out for name in REPOSITORIES)
    assert_same(ours, theirs)


def test_a_service_error_prints_like_aws(
    aws: Runner, layerport: Runner, recorder: Recorder
) -> None:
    # given
    recorder.replies = _replies
    args = ("get-download-url-for-layer", "--repository-name", "absent", "--layer-digest", DIGEST)

    # when
    theirs, _ = _sent(aws, recorder, *args)
    ours, _ = _sent(layerport, recorder, *args)

    # then
    assert ours.err == (
        "\nAn error occurred (RepositoryNotFoundException) when calling the "
        "GetDownloadUrlForLayer operation: The repository with name 'absent' does not exist "
        "in the registry\n"
    )
    assert ours.rc == 255
    assert_same(ours, theirs)
