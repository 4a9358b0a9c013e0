"""Who may do what: principals by operations on both faces, each cell allowed or denied.

One server of this module's own holds two accounts set up with ``layerport
admin`` as an operator would: account A (the server's default) with its root
(the bootstrap admin key), a read-only user and a push-only user; account B
with its root and a user whose identity policy allows ECR on A's repositories.
A's repositories: ``matrix/private`` (no policy), ``matrix/shared`` (a policy
letting B's root pull and B's user also push) and ``matrix/public`` (a policy
letting ``"*"`` pull).  Every cell sets up what it needs as A's root, then
makes one call as its principal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.access.support import (
    Who,
    admin,
    admin_in_process,
    allow,
    assert_denied,
    assert_v2_denied,
    new_key,
    new_user,
    policy,
    put_policy,
    repo_arn,
    server_admin,
    started,
    unique,
)
from tests.media_types import DOCKER_MANIFEST
from tests.registry.http_support import V2, errors_of
from tests.support import (
    PushedImage,
    Server,
    image_config,
    image_manifest,
    sha256,
    upload_blob,
)

B = "222222222222"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
PUSH = [
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchCheckLayerAvailability",
]
READER_POLICY = policy(
    allow([*PULL, "ecr:Describe*", "ecr:List*", "ecr:GetAuthorizationToken"]),
)
PUSHER_POLICY = policy(allow([*PUSH, "ecr:GetAuthorizationToken"]))
BUILDER = "builder"


def shared_policy(a: str) -> str:
    """A's ``matrix/shared``: B (any principal of it) may pull; B's builder may also push."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountBPulls",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                    "Action": [
                        *PULL,
                        "ecr:DescribeImages",
                        "ecr:ListImages",
                        "ecr:DescribeRepositories",
                    ],
                },
                {
                    "Sid": "BuilderPushes",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{B}:user/{BUILDER}"},
                    "Action": PUSH[:4],
                },
            ],
        }
    )


PUBLIC_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AnyonePulls", "Effect": "Allow", "Principal": "*", "Action": PULL}],
    }
)

# --- the expected matrix ---------------------------------------------------------------------
ECR_OPS = (
    "DescribeRepositories",
    "CreateRepository",
    "ListImages",
    "DescribeImages",
    "BatchGetImage",
    "GetDownloadUrlForLayer",
    "BatchCheckLayerAvailability",
    "InitiateLayerUpload",
    "UploadLayerPart",
    "CompleteLayerUpload",
    "PutImage",
    "BatchDeleteImage",
    "DeleteRepository",
    "SetRepositoryPolicy",
    "GetAuthorizationToken",
)
READS = frozenset(
    {
        "DescribeRepositories",
        "ListImages",
        "DescribeImages",
        "BatchGetImage",
        "GetDownloadUrlForLayer",
        "BatchCheckLayerAvailability",
        "GetAuthorizationToken",
    }
)
PUSHES = frozenset(
    {
        "BatchCheckLayerAvailability",
        "InitiateLayerUpload",
        "UploadLayerPart",
        "CompleteLayerUpload",
        "PutImage",
        "GetAuthorizationToken",
    }
)

#: Each /v2/ route and the ECR action it needs (as ECR documents its registry API).
V2_ACTIONS = {
    "manifest GET": "BatchGetImage",
    "manifest HEAD": "BatchGetImage",
    "blob HEAD": "BatchCheckLayerAvailability",
    "blob GET": "GetDownloadUrlForLayer",
    "tags list": "ListImages",
    "catalog": "DescribeRepositories",
    "upload POST": "InitiateLayerUpload",
    "upload PATCH": "UploadLayerPart",
    "upload PUT": "CompleteLayerUpload",
    "manifest PUT": "PutImage",
    "manifest DELETE": "BatchDeleteImage",
}
#: The /v2/ routes an anonymous caller may try at all (reads of one repository).
ANONYMOUS_TRIES = {"manifest GET", "manifest HEAD", "blob HEAD", "blob GET", "tags list"}


@dataclass(frozen=True)
class Row:
    """One principal in one situation.

    key: which principal of the world calls.
    target: the repository in account A it addresses.
    cross_account: whether it passes ``registryId`` A (it belongs to account B).
    allowed: the ECR actions it may perform on the target (and GetAuthorizationToken).
    """

    name: str
    key: str | None
    target: str
    cross_account: bool
    allowed: frozenset[str]


ROWS = (
    Row("admin", "admin", "private", False, frozenset(ECR_OPS)),
    Row("read-only-user", "reader", "private", False, READS),
    Row("push-only-user", "pusher", "private", False, PUSHES),
    Row("other-account-no-policy", "b_root", "private", True, frozenset({"GetAuthorizationToken"})),
    Row("other-account-with-policy", "b_root", "shared", True, READS),
    Row("other-user-with-policy", "b_user", "shared", True, READS | PUSHES),
)
ANONYMOUS_ROWS = (
    Row("anonymous-public-repo", None, "public", False, frozenset(a[4:] for a in PULL)),
    Row("anonymous-private-repo", None, "private", False, frozenset()),
)


def v2_expectation(row: Row, route: str) -> str:
    """What a /v2/ cell answers: ok, listed/hidden (catalog), denied, unknown, challenge."""
    action = V2_ACTIONS[route]
    if row.key is None:
        ok = route in ANONYMOUS_TRIES and action in row.allowed
        return "ok" if ok else "challenge"
    if row.cross_account:
        # The registry face addresses the caller's own registry (one host serves every
        # account), so B's token never reaches A's repositories there: B's root finds no
        # such repository in B; B's user is allowed nothing in B.
        if route == "catalog":
            return "hidden"
        return "unknown" if row.key == "b_root" else "denied"
    if route == "catalog":
        return "listed" if action in row.allowed else "hidden"
    return "ok" if action in row.allowed else "denied"


ECR_CELLS = [(row, op) for row in ROWS for op in ECR_OPS]
V2_CELLS = [
    (row, route, v2_expectation(row, route))
    for row in (*ROWS, *ANONYMOUS_ROWS)
    for route in V2_ACTIONS
]


# --- the world -------------------------------------------------------------------------------
@dataclass
class World:
    """The server, its principals and A's repositories."""

    server: Server
    a: str
    who: dict[str, Who]
    repos: dict[str, str]
    policies: dict[str, str | None]
    image: PushedImage
    _logins: dict[str, tuple[str, str]]

    @property
    def root(self) -> Any:
        """A's root, which sets cells up."""
        return self.who["admin"].ecr(self.server)

    def client(self, row: Row) -> Any:
        assert row.key is not None
        return self.who[row.key].ecr(self.server)

    def v2(self, key: str | None) -> V2:
        """A /v2/ client for a principal (anonymous for None), its token fetched once."""
        if key is None:
            return V2(self.server, None)
        if key not in self._logins:
            self._logins[key] = self.who[key].login(self.server)
        return V2(self.server, self._logins[key])

    def scratch(self, row: Row) -> str:
        """A new repository in A with the same policy as the row's target."""
        name = unique(f"matrix/scratch-{row.target}-")
        self.root.create_repository(repositoryName=name)
        text = self.policies[row.target]
        if text is not None:
            self.root.set_repository_policy(repositoryName=name, policyText=text)
        return name

    def uploaded_part(self, repo: str, data: bytes) -> str:
        """An upload in ``repo`` that A's root started and sent ``data`` to; its id."""
        upload_id: str = self.root.initiate_layer_upload(repositoryName=repo)["uploadId"]
        self.root.upload_layer_part(
            repositoryName=repo,
            uploadId=upload_id,
            partFirstByte=0,
            partLastByte=len(data) - 1,
            layerPartBlob=data,
        )
        return upload_id

    def tagged(self, repo: str) -> str:
        """A new tag on the base image in ``repo``, put there by A's root."""
        tag = unique("t")
        self.root.put_image(repositoryName=repo, imageManifest=self.image.manifest, imageTag=tag)
        return tag


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The server and everything the cells share, made once for the module."""
    with started(tmp_path_factory.mktemp("access-matrix") / "data") as server:
        a = server.account_id
        root = server_admin(server)
        admin(server, "create-account", "--account-id", B)
        who = {
            "admin": root,
            "reader": new_user(server, a, "reader", READER_POLICY),
            "pusher": new_user(server, a, "pusher", PUSHER_POLICY),
            "b_root": new_key(server, B),
            "b_user": new_user(server, B, BUILDER),
        }
        put_policy(
            server,
            B,
            BUILDER,
            policy(
                allow("ecr:*", f"arn:aws:ecr:*:{a}:repository/*"),
                allow("ecr:GetAuthorizationToken"),
            ),
        )
        policies: dict[str, str | None] = {
            "private": None,
            "shared": shared_policy(a),
            "public": PUBLIC_POLICY,
        }
        ecr = root.ecr(server)
        repos = {target: f"matrix/{target}" for target in policies}
        for target, text in policies.items():
            ecr.create_repository(repositoryName=repos[target])
            if text is not None:
                ecr.set_repository_policy(repositoryName=repos[target], policyText=text)
        yield World(server, a, who, repos, policies, _same_image(ecr, list(repos.values())), {})


def _same_image(ecr: Any, repos: list[str]) -> PushedImage:
    """One image (the same manifest bytes) pushed as ``base`` into each repository."""
    layer = b"matrix layer"
    config = image_config([layer], variant="matrix")
    manifest = image_manifest(config, [layer])
    for repo in repos:
        upload_blob(ecr, repo, layer)
        upload_blob(ecr, repo, config)
        ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag="base")
    return PushedImage(sha256(manifest.encode()), [sha256(layer)], sha256(config), manifest)


# --- ECR face ----------------------------------------------------------------------------------
@dataclass
class Attempt:
    """One call as a principal, and the resource a denial must name."""

    resource: str
    call: Callable[[], None]


EcrOp = Callable[[World, Row, Any, dict[str, str], str], Attempt]


def _describe_repositories(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    def call() -> None:
        found = c.describe_repositories(repositoryNames=[repo], **reg)["repositories"]
        assert [r["repositoryName"] for r in found] == [repo]

    return Attempt(repo_arn(w.a, repo), call)


def _create_repository(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    name = unique("matrix/created-")

    def call() -> None:
        made = c.create_repository(repositoryName=name, **reg)["repository"]
        assert made["registryId"] == w.a

    return Attempt(repo_arn(w.a, name), call)


def _list_images(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    def call() -> None:
        ids = c.list_images(repositoryName=repo, **reg)["imageIds"]
        assert "base" in {i.get("imageTag") for i in ids}

    return Attempt(repo_arn(w.a, repo), call)


def _describe_images(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    def call() -> None:
        details = c.describe_images(repositoryName=repo, imageIds=[{"imageTag": "base"}], **reg)
        assert details["imageDetails"][0]["imageDigest"] == w.image.manifest_digest

    return Attempt(repo_arn(w.a, repo), call)


def _batch_get_image(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    def call() -> None:
        got = c.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "base"}], **reg)
        assert [i["imageManifest"] for i in got["images"]] == [w.image.manifest]

    return Attempt(repo_arn(w.a, repo), call)


def _get_download_url(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    digest = w.image.layer_digests[0]

    def call() -> None:
        url = c.get_download_url_for_layer(repositoryName=repo, layerDigest=digest, **reg)
        assert requests.get(url["downloadUrl"], timeout=30).content == b"matrix layer"

    return Attempt(repo_arn(w.a, repo), call)


def _check_layers(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    def call() -> None:
        layers = c.batch_check_layer_availability(
            repositoryName=repo, layerDigests=w.image.layer_digests, **reg
        )["layers"]
        assert [layer["layerAvailability"] for layer in layers] == ["AVAILABLE"]

    return Attempt(repo_arn(w.a, repo), call)


def _initiate(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    def call() -> None:
        assert c.initiate_layer_upload(repositoryName=repo, **reg)["uploadId"]

    return Attempt(repo_arn(w.a, repo), call)


def _upload_part(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    upload_id = w.root.initiate_layer_upload(repositoryName=repo)["uploadId"]

    def call() -> None:
        part = c.upload_layer_part(
            repositoryName=repo,
            uploadId=upload_id,
            partFirstByte=0,
            partLastByte=9,
            layerPartBlob=b"0123456789",
            **reg,
        )
        assert part["lastByteReceived"] == 9

    return Attempt(repo_arn(w.a, repo), call)


def _complete(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    data = unique("a layer completed by someone else ").encode()
    upload_id = w.uploaded_part(repo, data)

    def call() -> None:
        done = c.complete_layer_upload(
            repositoryName=repo, uploadId=upload_id, layerDigests=[sha256(data)], **reg
        )
        assert done["layerDigest"] == sha256(data)

    return Attempt(repo_arn(w.a, repo), call)


def _put_image(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    tag = unique("put")

    def call() -> None:
        image = c.put_image(
            repositoryName=repo, imageManifest=w.image.manifest, imageTag=tag, **reg
        )
        assert image["image"]["imageId"] == {
            "imageDigest": w.image.manifest_digest,
            "imageTag": tag,
        }

    return Attempt(repo_arn(w.a, repo), call)


def _batch_delete(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    tag = w.tagged(repo)

    def call() -> None:
        gone = c.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": tag}], **reg)
        assert gone["failures"] == []
        assert gone["imageIds"][0]["imageTag"] == tag

    return Attempt(repo_arn(w.a, repo), call)


def _delete_repository(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    scratch = w.scratch(row)

    def call() -> None:
        assert c.delete_repository(repositoryName=scratch, **reg)["repository"]["registryId"] == w.a

    return Attempt(repo_arn(w.a, scratch), call)


def _set_policy(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    scratch = w.scratch(row)
    text = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
            "Action": "ecr:ListImages",
        }
    )

    def call() -> None:
        done = c.set_repository_policy(repositoryName=scratch, policyText=text, force=True, **reg)
        assert json.loads(done["policyText"]) == json.loads(text)

    return Attempt(repo_arn(w.a, scratch), call)


def _get_token(w: World, row: Row, c: Any, reg: dict[str, str], repo: str) -> Attempt:
    def call() -> None:
        assert c.get_authorization_token()["authorizationData"][0]["authorizationToken"]

    return Attempt("*", call)


ECR_CALLS: dict[str, EcrOp] = {
    "DescribeRepositories": _describe_repositories,
    "CreateRepository": _create_repository,
    "ListImages": _list_images,
    "DescribeImages": _describe_images,
    "BatchGetImage": _batch_get_image,
    "GetDownloadUrlForLayer": _get_download_url,
    "BatchCheckLayerAvailability": _check_layers,
    "InitiateLayerUpload": _initiate,
    "UploadLayerPart": _upload_part,
    "CompleteLayerUpload": _complete,
    "PutImage": _put_image,
    "BatchDeleteImage": _batch_delete,
    "DeleteRepository": _delete_repository,
    "SetRepositoryPolicy": _set_policy,
    "GetAuthorizationToken": _get_token,
}


@pytest.mark.parametrize(
    ("row", "op"),
    ECR_CELLS,
    ids=[
        f"{row.name}-{op}-{'allowed' if op in row.allowed else 'denied'}" for row, op in ECR_CELLS
    ],
)
def test_ecr_face(world: World, row: Row, op: str) -> None:
    # given the principal's client, and what the cell needs set up by A's root
    client = world.client(row)
    registry = {"registryId": world.a} if row.cross_account else {}
    attempt = ECR_CALLS[op](world, row, client, registry, world.repos[row.target])

    # when the principal calls, then it succeeds or is denied as the policies say
    if op in row.allowed:
        attempt.call()
    else:
        with pytest.raises(ClientError) as excinfo:
            attempt.call()
        assert_denied(excinfo, op, attempt.resource)
        assert world.who[str(row.key)].arn in str(excinfo.value)


# --- registry face -----------------------------------------------------------------------------
@dataclass
class Request:
    """One /v2/ request, and the status it gets when allowed."""

    method: str
    path: str
    ok: int
    kwargs: dict[str, Any]


def _v2_request(w: World, route: str, repo: str) -> Request:
    """Set up what ``route`` needs in ``repo`` (as A's root); the request to make."""
    layer = w.image.layer_digests[0]
    accept = {"Accept": DOCKER_MANIFEST}
    if route in ("manifest GET", "manifest HEAD"):
        return Request(route.split()[1], f"/v2/{repo}/manifests/base", 200, {"headers": accept})
    if route in ("blob HEAD", "blob GET"):
        return Request(
            route.split()[1], f"/v2/{repo}/blobs/{layer}", 307 if "GET" in route else 200, {}
        )
    if route == "tags list":
        return Request("GET", f"/v2/{repo}/tags/list", 200, {})
    if route == "catalog":
        return Request("GET", "/v2/_catalog", 200, {})
    if route == "upload POST":
        return Request("POST", f"/v2/{repo}/blobs/uploads/", 202, {})
    if route == "manifest PUT":
        headers = {"Content-Type": DOCKER_MANIFEST}
        return Request(
            "PUT",
            f"/v2/{repo}/manifests/{unique('v2put')}",
            201,
            {"headers": headers, "data": w.image.manifest},
        )
    if route == "manifest DELETE":
        return Request("DELETE", f"/v2/{repo}/manifests/{w.tagged(repo)}", 202, {})
    # the two upload steps continue a session A's root opened through /v2/
    admin_v2 = w.v2("admin")
    opened = admin_v2.post(f"/v2/{repo}/blobs/uploads/")
    assert opened.status_code == 202, opened.text
    location = opened.headers["Location"]
    octets = {"Content-Type": "application/octet-stream"}
    if route == "upload PATCH":
        return Request("PATCH", location, 202, {"data": b"chunk", "headers": octets})
    data = unique("a blob finished by someone else ").encode()
    sent = admin_v2.patch(location, data=data, headers=octets)
    assert sent.status_code == 202, sent.text
    return Request("PUT", location, 201, {"params": {"digest": sha256(data)}})


@pytest.mark.parametrize(
    ("row", "route", "expected"),
    V2_CELLS,
    ids=[f"{row.name}-{route.replace(' ', '-')}-{expected}" for row, route, expected in V2_CELLS],
)
def test_registry_face(world: World, row: Row, route: str, expected: str) -> None:
    # given the principal's token (none when anonymous) and the request's set-up
    client = world.v2(row.key)
    repo = world.repos[row.target]
    request = _v2_request(world, route, repo)

    # when the principal sends it
    response = client.request(request.method, request.path, **request.kwargs)

    # then
    action = V2_ACTIONS[route]
    if expected in ("ok", "listed", "hidden"):
        assert response.status_code == request.ok, (response.status_code, response.text)
    if expected in ("listed", "hidden"):
        listed = repo in response.json()["repositories"]
        assert listed == (expected == "listed"), response.json()
    elif expected == "denied":
        assert_v2_denied(response, action)
    elif expected == "challenge":
        assert response.status_code == 401, (response.status_code, response.text)
        assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
        if request.method != "HEAD":
            assert errors_of(response) == ["UNAUTHORIZED"]
    elif expected == "unknown":
        assert response.status_code == 404, (response.status_code, response.text)
        if request.method != "HEAD":
            assert errors_of(response) == ["NAME_UNKNOWN"]
            assert f"registry with id '{B}'" in response.json()["errors"][0]["message"]
    if route == "blob GET" and expected == "ok":
        blob = requests.get(response.headers["Location"], timeout=30)
        assert blob.content == b"matrix layer"


# --- the mapping of each /v2/ route to exactly one ECR action -----------------------------------
@pytest.fixture(scope="module")
def mapper(world: World) -> Who:
    """A user of A whose one policy each test below replaces."""
    return new_user(
        world.server,
        world.a,
        "mapper",
        policy(allow("ecr:GetAuthorizationToken")),
        run=admin_in_process,
    )


@pytest.mark.parametrize("route", list(V2_ACTIONS))
def test_each_registry_route_needs_exactly_its_ecr_action(
    world: World, mapper: Who, route: str
) -> None:
    # given a user (and its token) allowed only the route's action
    action = V2_ACTIONS[route]
    repo = world.repos["private"]
    client = V2(world.server, mapper.login(world.server))
    put_policy(
        world.server,
        world.a,
        "mapper",
        policy(allow([f"ecr:{action}", "ecr:GetAuthorizationToken"])),
        run=admin_in_process,
    )

    # when it makes the request, then it passes
    request = _v2_request(world, route, repo)
    response = client.request(request.method, request.path, **request.kwargs)
    assert response.status_code == request.ok, (response.status_code, response.text)
    if route == "catalog":
        assert repo in response.json()["repositories"]

    # when it is then allowed everything but that action (NotAction), the same request fails
    put_policy(
        world.server,
        world.a,
        "mapper",
        policy({"Effect": "Allow", "NotAction": f"ecr:{action}", "Resource": "*"}),
        run=admin_in_process,
    )
    request = _v2_request(world, route, repo)
    response = client.request(request.method, request.path, **request.kwargs)
    if route == "catalog":
        assert response.status_code == 200
        assert repo not in response.json()["repositories"]
    else:
        assert_v2_denied(response, action)


@pytest.mark.parametrize(
    "cells", [len(ECR_CELLS) + len(V2_CELLS)], ids=lambda n: f"{n}-cells-on-two-faces"
)
def test_the_matrix_covers_every_principal_operation_and_face(cells: int) -> None:
    # given the cells collected above
    assert cells == 90 + 88
    principals = {row.key or "anonymous" for row in (*ROWS, *ANONYMOUS_ROWS)}
    ecr_ops = {op for _, op in ECR_CELLS}
    routes = {route for _, route, _ in V2_CELLS}

    # then every principal meets every operation on its faces, with both answers present
    assert len(ECR_CELLS) == len(ROWS) * len(ECR_OPS) == 6 * 15
    assert len(V2_CELLS) == (len(ROWS) + len(ANONYMOUS_ROWS)) * len(V2_ACTIONS) == 8 * 11
    assert principals == {"admin", "reader", "pusher", "b_root", "b_user", "anonymous"}
    assert ecr_ops == set(ECR_OPS) and routes == set(V2_ACTIONS)
    for op in ECR_OPS:
        answers = {op in row.allowed for row in ROWS}
        assert answers == {True, False} or op == "GetAuthorizationToken", op
    for route in V2_ACTIONS:
        assert {"ok", "listed"} & {e for _, r, e in V2_CELLS if r == route}, route
    print(
        f"access matrix: {len(ECR_CELLS)} ECR cells ({len(ROWS)} principals x {len(ECR_OPS)} "
        f"operations) + {len(V2_CELLS)} /v2/ cells ({len(ROWS) + len(ANONYMOUS_ROWS)} principals "
        f"x {len(V2_ACTIONS)} routes) = {len(ECR_CELLS) + len(V2_CELLS)}"
    )
