"""``layerport admin`` round trips, and what key and user changes do to requests and tokens.

Keys are looked up through a cache of at most 5 seconds, so a deactivated or
deleted key (and every token issued for it) stops working within that bound;
the tests poll for up to 8 seconds.  Policies are read on each request, so a
token carries its principal's permissions as they are when it is used.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from layerport.auth.tokens import TokenSigner
from tests.access.support import (
    Who,
    admin,
    admin_in_process,
    allow,
    assert_denied,
    assert_v2_denied,
    code_of,
    new_key,
    new_user,
    policy,
    put_policy,
    repo_arn,
    server_admin,
    started,
    unique,
)
from tests.registry.http_support import V2, basic_credentials, errors_of
from tests.support import Server, push_image

#: The key cache's bound (5 s) plus slack.
WITHIN = 8.0
READ = policy(allow(["ecr:BatchGetImage", "ecr:Describe*", "ecr:GetAuthorizationToken"]))


@dataclass
class Setup:
    """The module's server (logging at DEBUG) and a repository holding ``latest``."""

    server: Server
    a: str
    repo: str


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """One server whose log shows everything it would ever write (DEBUG)."""
    with started(
        tmp_path_factory.mktemp("access-keys") / "data", LAYERPORT_LOG_LEVEL="DEBUG"
    ) as server:
        ecr = server.client()
        ecr.create_repository(repositoryName="keys/app")
        push_image(ecr, "keys/app", [b"keys layer"])
        yield Setup(server, server.account_id, "keys/app")


def eventually(check: Callable[[], bool], within: float = WITHIN) -> float:
    """Seconds until ``check()`` holds; fails when it does not within ``within`` seconds."""
    started_at = time.monotonic()
    while not check():
        assert time.monotonic() - started_at < within, f"not within {within} s"
        time.sleep(0.2)
    return time.monotonic() - started_at


def ecr_code(s: Setup, who: Who) -> str:
    """``OK``, or the error code of a DescribeRepositories call as ``who``."""
    try:
        who.ecr(s.server).describe_repositories(repositoryNames=[s.repo])
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "OK"


def pull_status(s: Setup, credentials: tuple[str, str]) -> int:
    """The status of a manifest GET on ``/v2/`` with these credentials."""
    return V2(s.server, credentials).get(f"/v2/{s.repo}/manifests/latest").status_code


def reader(s: Setup) -> tuple[str, Who]:
    """A new user with a read policy, and its key."""
    name = unique("reader-")
    return name, new_user(s.server, s.a, name, READ, run=admin_in_process)


# --- admin CLI round trips -----------------------------------------------------------------------
def test_accounts_round_trip(setup: Setup) -> None:
    # given
    server = setup.server
    account = "444444444444"

    # when an account is created, listed, created again, deleted, and deleted again
    created = admin(server, "create-account", "--account-id", account)
    listed = admin(server, "list-accounts")["Accounts"]
    again = admin(server, "create-account", "--account-id", account, check=False)
    admin(server, "delete-account", "--account-id", account)
    after = admin(server, "list-accounts")["Accounts"]
    missing = admin(server, "delete-account", "--account-id", account, check=False)
    malformed = admin(server, "create-account", "--account-id", "12345", check=False)

    # then
    assert created == {"Account": {"AccountId": account}}
    assert {"AccountId": account} in listed and {"AccountId": setup.a} in listed
    assert again.returncode == 1 and "already exists" in again.stderr
    assert {"AccountId": account} not in after
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    assert malformed.returncode == 2 and "12 digits" in malformed.stderr


def test_users_round_trip(setup: Setup) -> None:
    # given
    server = setup.server
    name = unique("someone-")

    # when a user is created, listed and deleted
    created = admin(server, "create-user", "--account-id", setup.a, "--user-name", name)
    listed = admin(server, "list-users", "--account-id", setup.a)["Users"]
    twice = admin(server, "create-user", "--account-id", setup.a, "--user-name", name, check=False)
    admin(server, "delete-user", "--account-id", setup.a, "--user-name", name)
    after = admin(server, "list-users", "--account-id", setup.a)["Users"]
    nowhere = admin(
        server, "create-user", "--account-id", "555555555555", "--user-name", "x", check=False
    )
    bad_name = admin(
        server, "create-user", "--account-id", setup.a, "--user-name", "a b", check=False
    )

    # then
    user = {"UserName": name, "Arn": f"arn:aws:iam::{setup.a}:user/{name}"}
    assert created == {"User": user}
    assert user in listed and user not in after
    assert twice.returncode == 1 and "already exists" in twice.stderr
    assert nowhere.returncode == 1
    assert bad_name.returncode == 2


def test_user_policies_round_trip(setup: Setup, tmp_path: Path) -> None:
    # given a user and a policy in a file
    server = setup.server
    name = unique("policied-")
    admin(server, "create-user", "--account-id", setup.a, "--user-name", name)
    document = policy(allow("ecr:List*", repo_arn(setup.a, "x/*")))
    path = tmp_path / "policy.json"
    path.write_text(document)
    user = ["--account-id", setup.a, "--user-name", name]

    # when policies are put (inline and from a file), read, listed, replaced and deleted
    admin(server, "put-user-policy", *user, "--policy-name", "one", "--policy-document", document)
    admin(
        server,
        "put-user-policy",
        *user,
        "--policy-name",
        "two",
        "--policy-document",
        f"file://{path}",
    )
    got = admin(server, "get-user-policy", *user, "--policy-name", "two")
    names = admin(server, "list-user-policies", *user)["PolicyNames"]
    admin(server, "put-user-policy", *user, "--policy-name", "two", "--policy-document", READ)
    replaced = admin(server, "get-user-policy", *user, "--policy-name", "two")
    admin(server, "delete-user-policy", *user, "--policy-name", "one")
    after = admin(server, "list-user-policies", *user)["PolicyNames"]
    gone = admin(server, "get-user-policy", *user, "--policy-name", "one", check=False)
    invalid = admin(
        server,
        "put-user-policy",
        *user,
        "--policy-name",
        "bad",
        "--policy-document",
        "{",
        check=False,
    )
    principal = admin(
        server,
        "put-user-policy",
        *user,
        "--policy-name",
        "bad",
        "--policy-document",
        policy(allow("ecr:*", Principal="*")),
        check=False,
    )

    # then
    assert got == {"UserName": name, "PolicyName": "two", "PolicyDocument": json.loads(document)}
    assert names == ["one", "two"]
    assert replaced["PolicyDocument"] == json.loads(READ)
    assert after == ["two"]
    assert gone.returncode == 1 and "no policy named one" in gone.stderr
    assert invalid.returncode == 2 and "not valid JSON" in invalid.stderr
    assert principal.returncode == 2 and "Principal" in principal.stderr


def test_access_keys_round_trip_and_the_secret_is_shown_once(setup: Setup) -> None:
    # given a user
    server = setup.server
    name = unique("keyed-")
    admin(server, "create-user", "--account-id", setup.a, "--user-name", name)

    # when a key is created, listed, deactivated, reactivated and deleted
    made = admin(
        server, "create-access-key", "--account-id", setup.a, "--user-name", name, check=False
    )
    key = json.loads(made.stdout)["AccessKey"]
    key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
    listed = admin(
        server, "list-access-keys", "--account-id", setup.a, "--user-name", name, check=False
    )
    admin(server, "update-access-key", "--access-key-id", key_id, "--status", "Inactive")
    inactive = admin(server, "list-access-keys", "--account-id", setup.a, "--user-name", name)
    admin(server, "update-access-key", "--access-key-id", key_id, "--status", "Active")
    everyone = admin(server, "list-access-keys", "--account-id", setup.a, check=False)
    admin(server, "delete-access-key", "--access-key-id", key_id)
    after = admin(server, "list-access-keys", "--account-id", setup.a, "--user-name", name)
    missing = admin(server, "delete-access-key", "--access-key-id", key_id, check=False)

    # then the secret was printed by create-access-key, and by nothing else
    assert key["Status"] == "Active" and key["UserName"] == name
    assert key["AccountId"] == setup.a and len(secret) >= 30
    assert secret not in made.stderr
    entries = json.loads(listed.stdout)["AccessKeyMetadata"]
    assert [(e["AccessKeyId"], e["UserName"], e["Status"]) for e in entries] == [
        (key_id, name, "Active")
    ]
    assert set(entries[0]) == {"AccessKeyId", "UserName", "Status", "CreateDate"}
    for output in (listed, everyone):
        assert secret not in output.stdout and secret not in output.stderr
    assert inactive["AccessKeyMetadata"][0]["Status"] == "Inactive"
    assert after == {"AccessKeyMetadata": []}
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_no_secret_or_token_reaches_the_server_log(setup: Setup) -> None:
    # given a key used on both faces, with successes and failures, while the server logs at DEBUG
    server = setup.server
    _, who = reader(setup)
    ecr = who.ecr(server)
    ecr.describe_repositories(repositoryNames=[setup.repo])
    with pytest.raises(ClientError):
        ecr.create_repository(repositoryName="keys/not-allowed")
    with pytest.raises(ClientError):
        server.client(aws_access_key_id=who.key_id, aws_secret_access_key="wrong").list_images(
            repositoryName=setup.repo
        )
    credentials = who.login(server)
    assert pull_status(setup, credentials) == 200
    assert V2(server, credentials).post(f"/v2/{setup.repo}/blobs/uploads/").status_code == 403
    assert V2(server, ("AWS", credentials[1] + "x")).get("/v2/").status_code == 401

    # when the server's log is read
    log = server.log_path.read_text()

    # then it shows requests (it is at DEBUG) but no secret and no token
    assert " 403 " in log and "/v2/" in log
    for secret in (who.secret, server.secret_access_key, credentials[1]):
        assert secret not in log


# --- keys, users and their tokens ----------------------------------------------------------------
def test_a_deactivated_key_stops_working_on_both_faces_and_can_come_back(setup: Setup) -> None:
    # given a user's key that works, and a registry token issued with it
    _, who = reader(setup)
    credentials = who.login(setup.server)
    assert ecr_code(setup, who) == "OK"
    assert pull_status(setup, credentials) == 200

    # when the key is deactivated
    admin(setup.server, "update-access-key", "--access-key-id", who.key_id, "--status", "Inactive")

    # then within the cache bound its requests are unrecognized and its token refused
    eventually(lambda: ecr_code(setup, who) == "UnrecognizedClientException")
    eventually(lambda: pull_status(setup, credentials) == 401)
    with pytest.raises(ClientError) as excinfo:
        who.ecr(setup.server).get_authorization_token()
    assert code_of(excinfo) == "UnrecognizedClientException"

    # and when it is activated again, the key and the same token work again
    admin(setup.server, "update-access-key", "--access-key-id", who.key_id, "--status", "Active")
    eventually(lambda: ecr_code(setup, who) == "OK")
    eventually(lambda: pull_status(setup, credentials) == 200)


def test_a_deleted_key_stops_working_and_its_tokens_with_it(setup: Setup) -> None:
    # given
    _, who = reader(setup)
    credentials = who.login(setup.server)
    assert pull_status(setup, credentials) == 200

    # when
    admin(setup.server, "delete-access-key", "--access-key-id", who.key_id)

    # then
    eventually(lambda: ecr_code(setup, who) == "UnrecognizedClientException")
    eventually(lambda: pull_status(setup, credentials) == 401)
    response = V2(setup.server, credentials).get("/v2/")
    assert response.status_code == 401 and errors_of(response) == ["UNAUTHORIZED"]


def test_a_deleted_users_keys_and_tokens_stop_working(setup: Setup) -> None:
    # given a user with two keys, each with a token
    name, first = reader(setup)
    second = new_key(setup.server, setup.a, name, run=admin_in_process)
    tokens = [who.login(setup.server) for who in (first, second)]

    # when the user is deleted
    admin(setup.server, "delete-user", "--account-id", setup.a, "--user-name", name)

    # then all of it stops, and the keys are gone from the listing
    eventually(
        lambda: (
            [ecr_code(setup, who) for who in (first, second)] == ["UnrecognizedClientException"] * 2
        )
    )
    eventually(lambda: [pull_status(setup, credentials) for credentials in tokens] == [401, 401])
    listed = admin(setup.server, "list-access-keys", "--account-id", setup.a)["AccessKeyMetadata"]
    assert {first.key_id, second.key_id}.isdisjoint(k["AccessKeyId"] for k in listed)


def test_a_deleted_accounts_root_key_stops_working(setup: Setup) -> None:
    # given another account with a root key that works
    account = "666666666666"
    admin(setup.server, "create-account", "--account-id", account)
    root = new_key(setup.server, account)
    root.ecr(setup.server).create_repository(repositoryName="mine")
    credentials = root.login(setup.server)

    # when the account is deleted
    admin(setup.server, "delete-account", "--account-id", account)

    # then
    eventually(lambda: ecr_code(setup, root) == "UnrecognizedClientException")
    eventually(lambda: V2(setup.server, credentials).get("/v2/").status_code == 401)


def test_several_keys_per_user_each_on_its_own(setup: Setup) -> None:
    # given a user with three keys
    name, first = reader(setup)
    others = [new_key(setup.server, setup.a, name, run=admin_in_process) for _ in range(2)]
    keys = [first, *others]
    tokens = [who.login(setup.server) for who in keys]

    # when every key is used, then one is deleted and one deactivated
    assert [ecr_code(setup, who) for who in keys] == ["OK"] * 3
    assert [pull_status(setup, t) for t in tokens] == [200] * 3
    admin(setup.server, "delete-access-key", "--access-key-id", keys[0].key_id)
    admin(
        setup.server, "update-access-key", "--access-key-id", keys[1].key_id, "--status", "Inactive"
    )

    # then those two stop, and the third key and its token keep working
    eventually(lambda: [pull_status(setup, t) for t in tokens] == [401, 401, 200])
    assert [ecr_code(setup, who) for who in keys] == [
        "UnrecognizedClientException",
        "UnrecognizedClientException",
        "OK",
    ]
    listed = admin(setup.server, "list-access-keys", "--account-id", setup.a, "--user-name", name)
    assert {(k["AccessKeyId"], k["Status"]) for k in listed["AccessKeyMetadata"]} == {
        (keys[1].key_id, "Inactive"),
        (keys[2].key_id, "Active"),
    }


def test_a_token_carries_the_permissions_its_user_has_when_it_is_used(setup: Setup) -> None:
    # given a reader's token that pulls
    name, who = reader(setup)
    credentials = who.login(setup.server)
    assert pull_status(setup, credentials) == 200

    # when the user's policy is removed after the token was issued
    admin(
        setup.server,
        "delete-user-policy",
        "--account-id",
        setup.a,
        "--user-name",
        name,
        "--policy-name",
        "p",
    )

    # then the same token is denied at once, on /v2/ and for the key on the ECR face
    response = V2(setup.server, credentials).get(f"/v2/{setup.repo}/manifests/latest")
    assert_v2_denied(response, "BatchGetImage")
    assert repo_arn(setup.a, setup.repo) in response.json()["errors"][0]["message"]
    with pytest.raises(ClientError) as excinfo:
        who.ecr(setup.server).batch_get_image(
            repositoryName=setup.repo, imageIds=[{"imageTag": "latest"}]
        )
    assert_denied(excinfo, "BatchGetImage", repo_arn(setup.a, setup.repo))

    # and when a wider policy is put, the same token may do more than when it was issued
    put_policy(setup.server, setup.a, name, policy(allow("ecr:*")))
    assert pull_status(setup, credentials) == 200
    started_upload = V2(setup.server, credentials).post(f"/v2/{setup.repo}/blobs/uploads/")
    assert started_upload.status_code == 202, started_upload.text


def test_a_token_is_bound_to_the_principal_that_asked_for_it(setup: Setup) -> None:
    # given tokens of the account root and of a reader
    _, who = reader(setup)
    reader_token = who.login(setup.server)
    root_token = server_admin(setup.server).login(setup.server)

    # when both try to start a push
    as_reader = V2(setup.server, reader_token).post(f"/v2/{setup.repo}/blobs/uploads/")
    as_root = V2(setup.server, root_token).post(f"/v2/{setup.repo}/blobs/uploads/")

    # then each acts as its own principal
    assert_v2_denied(as_reader, "InitiateLayerUpload")
    assert who.arn in as_reader.json()["errors"][0]["message"]
    assert as_root.status_code == 202


def test_a_users_token_expires_after_12_hours(setup: Setup) -> None:
    # given a user's token, and one signed by the server for the same key but issued 12 h ago
    _, who = reader(setup)
    data = who.ecr(setup.server).get_authorization_token()["authorizationData"][0]
    with sqlite3.connect(setup.server.data_dir / "layerport.db") as db:
        (secret,) = db.execute(
            "SELECT value FROM server_secrets WHERE name = 'token_key'"
        ).fetchone()
    stale, _ = TokenSigner(bytes.fromhex(secret)).issue(
        who.key_id, setup.a, datetime.now(UTC) - timedelta(hours=12, seconds=5)
    )

    # when the stale token is used
    response = V2(setup.server, basic_credentials(stale)).get(f"/v2/{setup.repo}/manifests/latest")

    # then the fresh token lasts 12 hours and the stale one is denied as expired
    lifetime = data["expiresAt"] - datetime.now(UTC)
    assert timedelta(hours=11, minutes=59) < lifetime <= timedelta(hours=12)
    assert response.status_code == 403 and errors_of(response) == ["DENIED"]
    assert "expired" in response.json()["errors"][0]["message"]
    assert pull_status(setup, basic_credentials(data["authorizationToken"])) == 200
