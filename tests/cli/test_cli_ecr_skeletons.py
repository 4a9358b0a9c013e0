"""``--generate-cli-skeleton [input|output]``: byte-identical to ``aws ecr``, and nothing sent.

No server is needed.  The endpoint points at a closed port, so a request that
should not have been sent would fail the command.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from layerport.cli.ecr import service_model
from tests.cli.ecr_cli_support import Pair, Runner, assert_same, assert_same_usage_error

pytestmark = pytest.mark.interop

NOWHERE = ("--endpoint-url", "http://127.0.0.1:9")
DIGEST = "sha256:" + "ab" * 32


def test_input_skeleton_of_get_download_url_for_layer_is_the_documented_json(
    layerport: Runner,
) -> None:
    # given / when
    ours = layerport("get-download-url-for-layer", "--generate-cli-skeleton", *NOWHERE)

    # then
    assert ours.rc == 0
    assert ours.out == (
        '{\n    "registryId": "",\n    "repositoryName": "",\n    "layerDigest": ""\n}\n'
    )
    assert ours.err == ""


@pytest.mark.parametrize(
    "operation",
    [
        "get-download-url-for-layer",
        "put-image",
        "batch-get-image",
        "upload-layer-part",
        "complete-layer-upload",
        "initiate-layer-upload",
        "get-authorization-token",
    ],
)
@pytest.mark.parametrize("value", [(), ("input",)])
def test_input_skeleton_matches_aws(pair: Pair, operation: str, value: tuple[str, ...]) -> None:
    # given
    args = (operation, "--generate-cli-skeleton", *value, *NOWHERE)

    # when
    theirs, ours = pair(*args)

    # then
    assert theirs.rc == 0
    assert_same(ours, theirs)


def _enum_free(value: Any, shape: Any) -> Any:
    """The skeleton with enum strings blanked: botocore picks them with random.choice."""
    if shape.type_name == "structure":
        return {k: _enum_free(v, shape.members[k]) for k, v in value.items()}
    if shape.type_name == "list":
        return [_enum_free(v, shape.member) for v in value]
    if shape.type_name == "string" and shape.enum:
        assert value in shape.enum
        return "<enum>"
    return value


@pytest.mark.parametrize(
    ("operation", "name"),
    [
        ("create-repository", "CreateRepository"),
        ("describe-images", "DescribeImages"),
        ("list-images", "ListImages"),
    ],
)
def test_input_skeleton_with_enums_matches_aws_up_to_the_random_enum_values(
    pair: Pair, operation: str, name: str
) -> None:
    # given
    shape = service_model().operation_model(name).input_shape

    # when
    theirs, ours = pair(operation, "--generate-cli-skeleton", *NOWHERE)

    # then
    assert (ours.rc, ours.err) == (theirs.rc, theirs.err) == (0, "")
    assert _enum_free(json.loads(ours.out), shape) == _enum_free(json.loads(theirs.out), shape)
    assert list(json.loads(ours.out)) == list(json.loads(theirs.out))


def test_input_skeleton_ignores_missing_required_arguments(layerport: Runner) -> None:
    # given: no --repository-name, no --layer-digest

    # when
    ours = layerport("get-download-url-for-layer", "--generate-cli-skeleton", "input", *NOWHERE)

    # then
    assert ours.rc == 0
    assert json.loads(ours.out) == {"registryId": "", "repositoryName": "", "layerDigest": ""}


@pytest.mark.parametrize("output", ["json", "text", "table"])
@pytest.mark.parametrize(
    "args",
    [
        ("get-download-url-for-layer", "--repository-name", "app", "--layer-digest", DIGEST),
        ("describe-repositories",),
        ("describe-images", "--repository-name", "app"),
        ("batch-get-image", "--repository-name", "app", "--image-ids", "imageTag=v1"),
        ("get-authorization-token",),
        ("create-repository", "--repository-name", "app", "--tags", "Key=a,Value=b"),
    ],
    ids=lambda args: args[0],
)
def test_output_skeleton_matches_aws(pair: Pair, args: tuple[str, ...], output: str) -> None:
    # given
    command = (*args, "--generate-cli-skeleton", "output", "--output", output, *NOWHERE)

    # when
    theirs, ours = pair(*command)

    # then: exit 0 proves nothing was sent to the closed port
    assert theirs.rc == 0
    assert_same(ours, theirs)


def test_output_skeleton_of_get_download_url_for_layer_is_the_sample_response(
    layerport: Runner,
) -> None:
    # given
    args = ("--repository-name", "app", "--layer-digest", DIGEST, *NOWHERE)

    # when
    ours = layerport("get-download-url-for-layer", "--generate-cli-skeleton", "output", *args)

    # then
    assert ours.rc == 0
    assert json.loads(ours.out) == {"downloadUrl": "downloadUrl", "layerDigest": "layerDigest"}


def test_output_skeleton_in_colour_matches_aws(pair: Pair) -> None:
    # given: nested sections, so that both cell and border colours appear
    command = (
        "describe-images",
        "--repository-name",
        "app",
        "--generate-cli-skeleton",
        "output",
        "--output",
        "table",
        "--color",
        "on",
        *NOWHERE,
    )

    # when
    theirs, ours = pair(*command)

    # then
    assert "\x1b[" in theirs.out
    assert_same(ours, theirs)


def test_output_skeleton_with_query_matches_aws(pair: Pair) -> None:
    # given
    command = (
        "get-authorization-token",
        "--generate-cli-skeleton",
        "output",
        "--query",
        "authorizationData[0].[proxyEndpoint, expiresAt]",
        *NOWHERE,
    )

    # when
    theirs, ours = pair(*command)

    # then
    assert theirs.rc == 0
    assert_same(ours, theirs)


def test_output_skeleton_still_requires_the_required_arguments(pair: Pair) -> None:
    # given
    command = ("get-download-url-for-layer", "--generate-cli-skeleton", "output", *NOWHERE)

    # when
    theirs, ours = pair(*command)

    # then
    assert_same_usage_error(ours, theirs, rc=2)
    assert ours.last_err_line == (
        "layerport: error: the following arguments are required: --repository-name, --layer-digest"
    )


def test_output_skeleton_validates_parameters_like_aws(pair: Pair) -> None:
    # given: a repository name below the model's minimum length
    command = (
        "get-download-url-for-layer",
        "--repository-name",
        "x",
        "--layer-digest",
        DIGEST,
        "--generate-cli-skeleton",
        "output",
        *NOWHERE,
    )

    # when
    theirs, ours = pair(*command)

    # then
    assert theirs.rc == 255
    assert ours.err.startswith("\nParameter validation failed:\n")
    assert_same(ours, theirs)


def test_output_skeleton_validates_the_cli_input_json_too(pair: Pair) -> None:
    # given
    command = (
        "get-download-url-for-layer",
        "--cli-input-json",
        json.dumps({"repositoryName": "app", "layerDigest": DIGEST, "bogus": 1}),
        "--generate-cli-skeleton",
        "output",
        *NOWHERE,
    )

    # when
    theirs, ours = pair(*command)

    # then
    assert 'Unknown parameter in input: "bogus"' in ours.err
    assert_same(ours, theirs)
