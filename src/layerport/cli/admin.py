"""``layerport admin``: accounts, users, access keys and user policies.

Works on the metadata database directly (``--database`` / ``--data-dir``, as
``serve`` takes them), so it needs no running server.  Output is JSON shaped
like the IAM API's.  A secret access key is printed once, when it is created,
and never again.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from layerport.config import ConfigError, load_settings

P = ParamSpec("P")
T = TypeVar("T")

_ACCOUNT = re.compile(r"\d{12}")
_USER = re.compile(r"[\w+=,.@-]{1,64}")


def _emit(payload: Any) -> None:
    if payload is not None:
        click.echo(json.dumps(payload, indent=4))


def database_options(command: Callable[P, T]) -> Callable[P, T]:
    """Add ``--database`` and ``--data-dir``, as ``layerport serve`` has them."""
    command = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Data directory whose SQLite file to use when no --database is given.",
    )(command)
    return click.option(
        "--database", "database_url", help="Database URL.  [env LAYERPORT_DATABASE]"
    )(command)


def run_with_accounts(
    work: Callable[..., Awaitable[Any]],
) -> Callable[..., None]:
    """Run ``work(accounts, **options)`` on the configured database and print its result."""

    @functools.wraps(work)
    def command(database_url: str | None, data_dir: Path | None, **options: Any) -> None:
        from layerport.store.metadata import migrate
        from layerport.store.metadata.accounts import AdminError, SqlAccounts
        from layerport.store.metadata.engine import create_engine

        try:
            settings = load_settings(database_url=database_url, data_dir=data_dir)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None

        async def go() -> Any:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            await migrate.upgrade_database(settings.database_url)
            engine = create_engine(settings.database_url)
            try:
                return await work(SqlAccounts(engine), **options)
            finally:
                await engine.dispose()

        try:
            _emit(asyncio.run(go()))
        except (AdminError, ConfigError) as exc:
            click.echo(f"layerport: {exc}", err=True)
            sys.exit(1)

    return command


def _account(value: str) -> str:
    if not _ACCOUNT.fullmatch(value):
        raise click.BadParameter("must be 12 digits")
    return value


def _user(value: str | None) -> str | None:
    if value is not None and not _USER.fullmatch(value):
        raise click.BadParameter("1-64 letters, digits and +=,.@_-")
    return value


account_option = click.option(
    "--account-id", required=True, callback=lambda _c, _p, v: _account(v), help="12 digits."
)
user_option = click.option(
    "--user-name", required=True, callback=lambda _c, _p, v: _user(v), help="The user."
)


@click.group()
def admin() -> None:
    """Manage accounts, users, access keys and user policies."""


@admin.command("create-account")
@database_options
@account_option
@run_with_accounts
async def create_account(accounts: Any, account_id: str) -> Any:
    """Create an account (a registry id)."""
    await accounts.create_account(account_id)
    return {"Account": {"AccountId": account_id}}


@admin.command("list-accounts")
@database_options
@run_with_accounts
async def list_accounts(accounts: Any) -> Any:
    """List accounts."""
    return {"Accounts": [{"AccountId": a} for a in await accounts.list_accounts()]}


@admin.command("delete-account")
@database_options
@account_option
@run_with_accounts
async def delete_account(accounts: Any, account_id: str) -> Any:
    """Delete an account and everything in it."""
    await accounts.delete_account(account_id)


@admin.command("create-user")
@database_options
@account_option
@user_option
@run_with_accounts
async def create_user(accounts: Any, account_id: str, user_name: str) -> Any:
    """Create a user."""
    await accounts.create_user(account_id, user_name)
    return {"User": {"UserName": user_name, "Arn": f"arn:aws:iam::{account_id}:user/{user_name}"}}


@admin.command("list-users")
@database_options
@account_option
@run_with_accounts
async def list_users(accounts: Any, account_id: str) -> Any:
    """List an account's users."""
    return {
        "Users": [
            {"UserName": name, "Arn": f"arn:aws:iam::{account_id}:user/{name}"}
            for name in await accounts.list_users(account_id)
        ]
    }


@admin.command("delete-user")
@database_options
@account_option
@user_option
@run_with_accounts
async def delete_user(accounts: Any, account_id: str, user_name: str) -> Any:
    """Delete a user with its keys and policies."""
    await accounts.delete_user(account_id, user_name)


@admin.command("create-access-key")
@database_options
@account_option
@click.option(
    "--user-name",
    callback=lambda _c, _p, v: _user(v),
    help="The user; without it, a root key of the account.",
)
@run_with_accounts
async def create_access_key(accounts: Any, account_id: str, user_name: str | None) -> Any:
    """Create a key; its secret is shown now and never again."""
    from layerport.bootstrap import new_access_key_id, new_secret
    from layerport.store.metadata import AccessKey

    key = AccessKey(new_access_key_id(), new_secret(), account_id, True, user_name)
    await accounts.create_access_key(key)
    return {
        "AccessKey": {
            "AccountId": account_id,
            "UserName": user_name,
            "AccessKeyId": key.access_key_id,
            "SecretAccessKey": key.secret_access_key,
            "Status": "Active",
        }
    }


@admin.command("list-access-keys")
@database_options
@account_option
@click.option("--user-name", callback=lambda _c, _p, v: _user(v), help="Only this user's keys.")
@run_with_accounts
async def list_access_keys(accounts: Any, account_id: str, user_name: str | None) -> Any:
    """List keys (never their secrets)."""
    return {
        "AccessKeyMetadata": [
            {
                "AccessKeyId": key.access_key_id,
                "UserName": key.user_name,
                "Status": "Active" if key.active else "Inactive",
                "CreateDate": key.created_ms // 1000,
            }
            for key in await accounts.list_access_keys(account_id, user_name)
        ]
    }


@admin.command("update-access-key")
@database_options
@click.option("--access-key-id", required=True)
@click.option("--status", type=click.Choice(["Active", "Inactive"]), required=True)
@run_with_accounts
async def update_access_key(accounts: Any, access_key_id: str, status: str) -> Any:
    """Activate or deactivate a key (its tokens follow within seconds)."""
    await accounts.set_key_active(access_key_id, status == "Active")


@admin.command("delete-access-key")
@database_options
@click.option("--access-key-id", required=True)
@run_with_accounts
async def delete_access_key(accounts: Any, access_key_id: str) -> Any:
    """Delete a key (its tokens stop working within seconds)."""
    await accounts.delete_access_key(access_key_id)


def _document(value: str) -> str:
    """A policy from the command line: JSON text or file://path, validated."""
    from layerport.auth.policy import Policy, PolicyError

    text = Path(value[7:]).read_text() if value.startswith("file://") else value
    try:
        Policy.parse(text)
    except PolicyError as exc:
        raise click.BadParameter(str(exc)) from None
    return text


@admin.command("put-user-policy")
@database_options
@account_option
@user_option
@click.option("--policy-name", required=True)
@click.option(
    "--policy-document",
    required=True,
    callback=lambda _c, _p, v: _document(v),
    help="JSON, or file://path.",
)
@run_with_accounts
async def put_user_policy(
    accounts: Any, account_id: str, user_name: str, policy_name: str, policy_document: str
) -> Any:
    """Attach an inline identity policy to a user."""
    await accounts.put_user_policy(account_id, user_name, policy_name, policy_document)


@admin.command("get-user-policy")
@database_options
@account_option
@user_option
@click.option("--policy-name", required=True)
@run_with_accounts
async def get_user_policy(accounts: Any, account_id: str, user_name: str, policy_name: str) -> Any:
    """Show a user's policy."""
    document = await accounts.get_user_policy(account_id, user_name, policy_name)
    return {
        "UserName": user_name,
        "PolicyName": policy_name,
        "PolicyDocument": json.loads(document),
    }


@admin.command("list-user-policies")
@database_options
@account_option
@user_option
@run_with_accounts
async def list_user_policies(accounts: Any, account_id: str, user_name: str) -> Any:
    """List a user's policy names."""
    return {"PolicyNames": await accounts.list_user_policies(account_id, user_name)}


@admin.command("delete-user-policy")
@database_options
@account_option
@user_option
@click.option("--policy-name", required=True)
@run_with_accounts
async def delete_user_policy(
    accounts: Any, account_id: str, user_name: str, policy_name: str
) -> Any:
    """Detach a user's policy."""
    await accounts.delete_user_policy(account_id, user_name, policy_name)
