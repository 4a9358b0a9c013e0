"""Helpers for the access-control tests: the admin CLI, principals, and how denials look.

Accounts, users, keys and policies are made with ``layerport admin … --data-dir``
against the running server's database, as an operator would; the server reads
them on each request (keys through a cache of a few seconds).
"""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.registry.http_support import V2, errors_of
from tests.support import BIN, Server

REGION = "us-east-1"
_serial = itertools.count()


def unique(stem: str) -> str:
    """A name no other test in this process uses."""
    return f"{stem}{next(_serial)}"


def admin(server: Server, *args: str, check: bool = True) -> Any:
    """Run ``layerport admin <args> --data-dir <server's>`` as a process; its JSON output.

    With ``check=False`` the finished process is returned instead (exit code, stdout, stderr).
    """
    done = subprocess.run(
        [str(BIN / "layerport"), "admin", *args, "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if not check:
        return done
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return json.loads(done.stdout) if done.stdout.strip() else None


def admin_in_process(server: Server, *args: str) -> Any:
    """The same command run in this process (~100 times faster), for set-up steps."""
    from click.testing import CliRunner

    from layerport.cli.admin import admin as group

    result = CliRunner().invoke(group, [*args, "--data-dir", str(server.data_dir)])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return json.loads(result.output) if result.output.strip() else None


def policy(*statements: dict[str, Any]) -> str:
    """A policy document with these statements."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(
    actions: list[str] | str, resource: str | list[str] = "*", **extra: Any
) -> dict[str, Any]:
    """An identity-policy Allow statement."""
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


def repo_arn(account: str, name: str) -> str:
    """The ARN of a repository in this test region."""
    return f"arn:aws:ecr:{REGION}:{account}:repository/{name}"


@dataclass(frozen=True)
class Who:
    """A caller: an access key of an account root or of a user."""

    account: str
    key_id: str
    secret: str
    user: str | None = None

    @property
    def arn(self) -> str:
        """The IAM ARN the server names in its messages."""
        return f"arn:aws:iam::{self.account}:" + (f"user/{self.user}" if self.user else "root")

    def ecr(self, server: Server) -> Any:
        """A boto3 ECR client signing with this key."""
        return server.client(aws_access_key_id=self.key_id, aws_secret_access_key=self.secret)

    def login(self, server: Server) -> tuple[str, str]:
        """``/v2/`` Basic credentials from this caller's own GetAuthorizationToken."""
        data = self.ecr(server).get_authorization_token()["authorizationData"][0]
        user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        return user, password


def server_admin(server: Server) -> Who:
    """The server's bootstrap admin key: the root of its default account."""
    return Who(server.account_id, server.access_key_id, server.secret_access_key)


Run = Callable[..., Any]


def new_key(server: Server, account: str, user: str | None = None, run: Run = admin) -> Who:
    """A new access key (root when ``user`` is None), made with the admin CLI."""
    args = ["create-access-key", "--account-id", account]
    if user is not None:
        args += ["--user-name", user]
    created = run(server, *args)["AccessKey"]
    return Who(account, created["AccessKeyId"], created["SecretAccessKey"], user)


def new_user(
    server: Server, account: str, name: str, document: str | None = None, run: Run = admin
) -> Who:
    """A user with an optional inline policy and one access key."""
    run(server, "create-user", "--account-id", account, "--user-name", name)
    if document is not None:
        put_policy(server, account, name, document, run=run)
    return new_key(server, account, name, run=run)


def put_policy(
    server: Server, account: str, user: str, document: str, name: str = "p", run: Run = admin
) -> None:
    """Attach (or replace) a user's inline policy."""
    run(
        server,
        "put-user-policy",
        "--account-id",
        account,
        "--user-name",
        user,
        "--policy-name",
        name,
        "--policy-document",
        document,
    )


@contextmanager
def started(path: Path, **env: str) -> Iterator[Server]:
    """A server of a module's own in ``path`` (yielded, then stopped)."""
    instance = Server(path, extra_env=dict(env)).start()
    try:
        yield instance
    finally:
        instance.stop()


# --- what a denial looks like on each face ------------------------------------------------
def assert_denied(excinfo: pytest.ExceptionInfo[ClientError], action: str, resource: str) -> None:
    """AccessDeniedException whose message names the action and the resource, as IAM's do."""
    error = excinfo.value.response["Error"]
    assert error["Code"] == "AccessDeniedException", error
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert f"perform: ecr:{action} on resource: {resource} " in error["Message"], error


def assert_v2_denied(response: Any, action: str | None = None) -> None:
    """403 DENIED in the spec's error JSON (HEAD answers carry no body)."""
    assert response.status_code == 403, (response.status_code, response.text)
    if response.request.method == "HEAD":
        return
    assert errors_of(response) == ["DENIED"]
    if action is not None:
        message = response.json()["errors"][0]["message"]
        assert f"ecr:{action}" in message, message


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    """The error code botocore parsed."""
    return str(excinfo.value.response["Error"]["Code"])


def v2(server: Server, who: Who | None) -> V2:
    """A ``/v2/`` client with the caller's token (anonymous when None)."""
    return V2(server, who.login(server) if who is not None else None)
