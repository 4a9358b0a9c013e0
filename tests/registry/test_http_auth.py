"""Registry-face authentication as ECR does it: Basic, user ``AWS``, a token as password."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from layerport.auth.tokens import TokenSigner
from tests.registry.http_support import V2, basic_credentials, errors_of
from tests.support import Server, registry_login, sha256

CHALLENGE = 'Basic realm="{url}/",service="ecr.amazonaws.com"'
SECOND_KEY = "AKIASECONDKEY0000001"
SECOND_SECRET = "second-secret-0123456789abcdefghijklmno"


def _assert_challenged(server: Server, response: Any) -> None:
    """401 with ECR's Basic challenge and an UNAUTHORIZED body."""
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == CHALLENGE.format(url=server.url)
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert errors_of(response) == ["UNAUTHORIZED"]


def _password(fields: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(fields, separators=(",", ":")).encode()).decode()


@pytest.mark.parametrize(
    "path", ["/v2/", "/v2/some/repo/manifests/latest", "/v2/_catalog", "/v2/x/y/z"]
)
def test_no_credentials_get_the_basic_challenge(server: Server, path: str) -> None:
    # when a request comes without credentials
    response = V2(server, None).get(path)

    # then 401 with the challenge, before anything about the path is revealed
    _assert_challenged(server, response)


def test_the_token_from_get_authorization_token_is_accepted(
    server: Server, registry_auth: tuple[str, str]
) -> None:
    # given the credentials `aws ecr get-login-password` gives docker
    user, password = registry_auth

    # when they are used
    response = V2(server, (user, password)).get("/v2/")

    # then the registry lets the caller in
    assert user == "AWS"
    assert response.status_code == 200


def test_a_wrong_password_is_refused(server: Server, registry_auth: tuple[str, str]) -> None:
    # given the right user and passwords that are not a valid token
    user, password = registry_auth
    body = json.loads(base64.b64decode(password))
    body["signature"] = "0" * 64
    wrong = [
        "hunter2",
        password[:-8],
        _password(body),
        _password({"payload": body["payload"]}),
        base64.b64encode(b"\xff\xfe").decode(),
    ]

    # when each is used, then each is refused with the challenge
    for candidate in wrong:
        _assert_challenged(server, V2(server, (user, candidate)).get("/v2/"))


@pytest.mark.parametrize("user", ["aws", "admin", "", "AWS "])
def test_a_wrong_user_name_is_refused(
    server: Server, registry_auth: tuple[str, str], user: str
) -> None:
    # given a valid token under a user name other than AWS
    _, password = registry_auth

    # when it is used
    response = V2(server, (user, password)).get("/v2/")

    # then 401
    _assert_challenged(server, response)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer {password}",
        "bearer {password}",
        "Basic",
        "Basic not-base64!",
        "Basic {no_colon}",
        "Digest username=AWS",
        "{password}",
    ],
)
def test_other_schemes_and_malformed_headers_get_the_basic_challenge(
    server: Server, registry_auth: tuple[str, str], header: str
) -> None:
    # given a header that is not Basic AWS:<token>
    _, password = registry_auth
    no_colon = base64.b64encode(b"AWS" + password.encode()).decode()
    value = header.format(password=password, no_colon=no_colon)

    # when it is sent
    response = V2(server, None).get("/v2/", headers={"Authorization": value})

    # then the registry asks for Basic (clients that only speak Bearer must see why)
    _assert_challenged(server, response)


def test_a_token_whose_expiry_was_edited_is_refused_as_forged(
    server: Server, registry_auth: tuple[str, str]
) -> None:
    # given a real token whose expiration was pushed a day later (its signature unchanged)
    user, password = registry_auth
    body = json.loads(base64.b64decode(password))
    body["expiration"] = int(body["expiration"]) + 86400

    # when it is used
    response = V2(server, (user, _password(body))).get("/v2/")

    # then it is refused as not valid
    _assert_challenged(server, response)


def _database(server: Server) -> sqlite3.Connection:
    return sqlite3.connect(server.data_dir / "layerport.db")


def _signer(server: Server) -> TokenSigner:
    """The fresh server's own token signer (its key is in its metadata store)."""
    with _database(server) as db:
        (value,) = db.execute(
            "SELECT value FROM server_secrets WHERE name = 'token_key'"
        ).fetchone()
    return TokenSigner(bytes.fromhex(value))


def _add_key(server: Server, active: bool) -> None:
    with _database(server) as db:
        db.execute(
            "INSERT INTO access_keys (access_key_id, account_id, secret_access_key, active, "
            "created_ms) VALUES (?, ?, ?, ?, ?)",
            (SECOND_KEY, server.account_id, SECOND_SECRET, active, int(time.time() * 1000)),
        )


def test_an_expired_token_is_denied_as_ecr_does(fresh_server: Any) -> None:
    # given a token, genuinely signed by the server, that expired a minute ago
    server = fresh_server()
    issued_at = datetime.now(UTC) - timedelta(hours=12, minutes=1)
    token, _ = _signer(server).issue(server.access_key_id, server.account_id, issued_at)

    # when it is used
    response = V2(server, basic_credentials(token)).get("/v2/")

    # then ECR's expiry answer: 403 DENIED, telling the client to log in again
    assert response.status_code == 403
    assert errors_of(response) == ["DENIED"]
    assert "expired" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("key", ["inactive", "deleted"])
def test_a_token_of_an_inactive_or_deleted_key_is_refused(fresh_server: Any, key: str) -> None:
    # given a correctly signed token whose access key is inactive (or not there at all)
    server = fresh_server()
    if key == "inactive":
        _add_key(server, active=False)
    token, _ = _signer(server).issue(SECOND_KEY, server.account_id, datetime.now(UTC))

    # when it is used
    response = V2(server, basic_credentials(token)).get("/v2/")

    # then 401
    _assert_challenged(server, response)


def test_deactivating_a_key_stops_its_tokens(fresh_server: Any) -> None:
    # given a second key, and a token obtained with it that works
    server = fresh_server()
    _add_key(server, active=True)
    client = server.client(aws_access_key_id=SECOND_KEY, aws_secret_access_key=SECOND_SECRET)
    token = client.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    v2 = V2(server, basic_credentials(token))
    assert v2.get("/v2/").status_code == 200

    # when the key is deactivated
    with _database(server) as db:
        db.execute("UPDATE access_keys SET active = 0 WHERE access_key_id = ?", (SECOND_KEY,))

    # then its token stops working within the key cache's few seconds
    deadline = time.monotonic() + 15
    while (response := v2.get("/v2/")).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.25)
    _assert_challenged(server, response)
    assert V2(server, registry_login(server)).get("/v2/").status_code == 200


def test_a_token_of_another_server_is_refused(fresh_server: Any) -> None:
    # given two servers with the same admin key, and a token from the first
    first, second = fresh_server(), fresh_server()
    credentials = registry_login(first)

    # when the token is used on the second
    response = V2(second, credentials).get("/v2/")

    # then it does not pass there (each server signs with its own secret)
    _assert_challenged(second, response)


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"])
def test_every_response_carries_the_api_version(
    server: Server, registry_auth: tuple[str, str], method: str
) -> None:
    # given requests of every method, with and without credentials, to real and bogus paths
    paths = [
        "/v2/",
        "/v2/no-such-repo/manifests/x",
        f"/v2/r/blobs/{sha256(b'')}",
        "/v2/A/tags/list",
    ]

    # when they are sent, then every answer names the API version
    for auth in (registry_auth, None, ("AWS", "bogus")):
        for path in paths:
            response = V2(server, auth).request(method, path)
            assert response.headers.get("Docker-Distribution-API-Version") == "registry/2.0", (
                method,
                path,
                auth is None,
                response.status_code,
            )
