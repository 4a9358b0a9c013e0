"""Another account's registry on /v2/, addressed by host as ECR does (``<account>.…``).

One host serves every account; a request whose Host begins with a 12-digit label
addresses that account's registry.  Access then follows the same policies as
``--registry-id`` on the ECR API: the repository policy and the caller's identity
policy must both allow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.access.support import (
    admin_in_process,
    allow,
    assert_v2_denied,
    new_key,
    new_user,
    policy,
    server_admin,
    started,
    v2,
)
from tests.support import Server, push_image, sha256

B = "222222222222"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
LOGIN = "ecr:GetAuthorizationToken"
LAYER = b"cross-account layer bytes" * 100


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Account A's server with a shared and a private repository; account B's principals."""
    with started(tmp_path_factory.mktemp("cross") / "data") as server:
        a = server_admin(server)
        ecr = a.ecr(server)
        for name in ("shared/app", "private/app"):
            ecr.create_repository(repositoryName=name)
        image = push_image(ecr, "shared/app", [LAYER], tag="v1")
        push_image(ecr, "private/app", [LAYER], tag="v1")
        ecr.set_repository_policy(
            repositoryName="shared/app",
            policyText=policy({"Effect": "Allow", "Principal": {"AWS": B}, "Action": PULL}),
        )
        admin_in_process(server, "create-account", "--account-id", B)
        yield {
            "server": server,
            "image": image,
            "a_host": f"{server.account_id}.registry.test:{server.port}",
            "b_root": new_key(server, B, run=admin_in_process),
            "b_puller": new_user(
                server, B, "puller", policy(allow([*PULL, LOGIN])), run=admin_in_process
            ),
            # may log in, nothing more
            "b_nobody": new_user(server, B, "nobody", policy(allow(LOGIN)), run=admin_in_process),
        }


def pull(world: dict[str, Any], who: str, repository: str) -> tuple[Any, Any]:
    server: Server = world["server"]
    client = v2(server, world[who])
    headers = {"Host": world["a_host"]}
    manifest = client.get(f"/v2/{repository}/manifests/v1", headers=headers)
    blob = client.get(f"/v2/{repository}/blobs/{sha256(LAYER)}", headers=headers)
    return manifest, blob


@pytest.mark.parametrize("who", ["b_root", "b_puller"])
def test_a_repository_policy_lets_another_account_pull(world: dict[str, Any], who: str) -> None:
    # when B's root, or B's user allowed to pull, reads A's shared repository by A's host
    manifest, blob = pull(world, who, "shared/app")
    # then the manifest comes back and the blob redirects to its pre-signed URL
    assert manifest.status_code == 200, manifest.text
    assert manifest.headers["Docker-Content-Digest"] == world["image"].manifest_digest
    assert blob.status_code == 307
    fetched = v2(world["server"], None).session.get(blob.headers["Location"], timeout=30)
    assert fetched.content == LAYER


def test_identity_policy_is_needed_too(world: dict[str, Any]) -> None:
    # B's user without an identity policy is refused even where A's policy allows B
    manifest, blob = pull(world, "b_nobody", "shared/app")
    assert_v2_denied(manifest, "BatchGetImage")
    assert_v2_denied(blob, "GetDownloadUrlForLayer")


@pytest.mark.parametrize("who", ["b_root", "b_puller"])
def test_without_a_repository_policy_another_account_is_refused(
    world: dict[str, Any], who: str
) -> None:
    manifest, blob = pull(world, who, "private/app")
    assert_v2_denied(manifest, "BatchGetImage")
    assert_v2_denied(blob, "GetDownloadUrlForLayer")


def test_pushing_into_another_accounts_registry_is_refused(world: dict[str, Any]) -> None:
    # the policy grants pulls only: B's root may not start an upload in A's repository
    started_upload = v2(world["server"], world["b_root"]).post(
        "/v2/shared/app/blobs/uploads/", headers={"Host": world["a_host"]}
    )
    assert_v2_denied(started_upload, "InitiateLayerUpload")


def test_the_plain_host_still_addresses_the_callers_own_registry(
    world: dict[str, Any], tmp_path: Path
) -> None:
    # without A's host, B's root asks its own (empty) registry
    response = v2(world["server"], world["b_root"]).get("/v2/shared/app/manifests/v1")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"
