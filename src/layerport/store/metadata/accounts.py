"""Accounts, users, access keys and user policies: what ``layerport admin`` manages.

Kept apart from :mod:`layerport.store.metadata.sql` (what the service asks on
every request): these are the operator's writes, each one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from layerport.store.metadata import AccessKey, now_ms
from layerport.store.metadata.tables import access_keys, accounts, user_policies, users


class AdminError(ValueError):
    """The change cannot be made; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """An access key as listed: never its secret."""

    access_key_id: str
    account_id: str
    user_name: str | None
    active: bool
    created_ms: int


class SqlAccounts:
    """Operator-side account management on the metadata database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create_account(self, account_id: str) -> None:
        """Create an account (a registry id)."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    accounts.insert().values(account_id=account_id, created_ms=now_ms())
                )
        except IntegrityError:
            raise AdminError(f"account {account_id} already exists") from None

    async def list_accounts(self) -> list[str]:
        """Every account id."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(accounts.c.account_id).order_by(accounts.c.account_id))
            return [row.account_id for row in rows]

    async def delete_account(self, account_id: str) -> None:
        """Delete an account with its users, keys and repositories."""
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(accounts).where(accounts.c.account_id == account_id))
        if not result.rowcount:
            raise AdminError(f"account {account_id} does not exist")

    async def create_user(self, account_id: str, user_name: str) -> None:
        """Create a user in an account."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    users.insert().values(
                        account_id=account_id, user_name=user_name, created_ms=now_ms()
                    )
                )
        except IntegrityError:
            raise AdminError(
                f"user {user_name} already exists in account {account_id}, or the account "
                f"does not exist"
            ) from None

    async def list_users(self, account_id: str) -> list[str]:
        """The users of an account."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(users.c.user_name)
                .where(users.c.account_id == account_id)
                .order_by(users.c.user_name)
            )
            return [row.user_name for row in rows]

    async def delete_user(self, account_id: str, user_name: str) -> None:
        """Delete a user with its keys and policies (its tokens stop working)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(users).where(
                    users.c.account_id == account_id, users.c.user_name == user_name
                )
            )
        if not result.rowcount:
            raise AdminError(f"user {user_name} does not exist in account {account_id}")

    async def create_access_key(self, key: AccessKey) -> None:
        """Store a new key for an account root (user None) or a user."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    access_keys.insert().values(
                        access_key_id=key.access_key_id,
                        account_id=key.account_id,
                        user_name=key.user_name,
                        secret_access_key=key.secret_access_key,
                        active=key.active,
                        created_ms=now_ms(),
                    )
                )
        except IntegrityError:
            raise AdminError(
                f"cannot create the key: account {key.account_id}"
                + (f" or user {key.user_name}" if key.user_name else "")
                + " does not exist"
            ) from None

    async def list_access_keys(self, account_id: str, user_name: str | None) -> list[KeyInfo]:
        """Keys of an account (or of one user), without secrets."""
        query = select(access_keys).where(access_keys.c.account_id == account_id)
        if user_name is not None:
            query = query.where(access_keys.c.user_name == user_name)
        async with self.engine.connect() as conn:
            rows = await conn.execute(query.order_by(access_keys.c.created_ms))
            return [
                KeyInfo(
                    row.access_key_id,
                    row.account_id,
                    row.user_name,
                    bool(row.active),
                    int(row.created_ms),
                )
                for row in rows
            ]

    async def set_key_active(self, access_key_id: str, active: bool) -> None:
        """Activate or deactivate a key."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(access_keys)
                .where(access_keys.c.access_key_id == access_key_id)
                .values(active=active)
            )
        if not result.rowcount:
            raise AdminError(f"access key {access_key_id} does not exist")

    async def delete_access_key(self, access_key_id: str) -> None:
        """Delete a key."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(access_keys).where(access_keys.c.access_key_id == access_key_id)
            )
        if not result.rowcount:
            raise AdminError(f"access key {access_key_id} does not exist")

    async def put_user_policy(
        self, account_id: str, user_name: str, policy_name: str, document: str
    ) -> None:
        """Attach (or replace) a named inline policy on a user."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    delete(user_policies).where(
                        user_policies.c.account_id == account_id,
                        user_policies.c.user_name == user_name,
                        user_policies.c.policy_name == policy_name,
                    )
                )
                await conn.execute(
                    user_policies.insert().values(
                        account_id=account_id,
                        user_name=user_name,
                        policy_name=policy_name,
                        document=document,
                    )
                )
        except IntegrityError:
            raise AdminError(f"user {user_name} does not exist in account {account_id}") from None

    async def get_user_policy(self, account_id: str, user_name: str, policy_name: str) -> str:
        """A user's policy document."""
        async with self.engine.connect() as conn:
            document = await conn.scalar(
                select(user_policies.c.document).where(
                    user_policies.c.account_id == account_id,
                    user_policies.c.user_name == user_name,
                    user_policies.c.policy_name == policy_name,
                )
            )
        if document is None:
            raise AdminError(f"user {user_name} has no policy named {policy_name}")
        return str(document)

    async def list_user_policies(self, account_id: str, user_name: str) -> list[str]:
        """Names of a user's policies."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(user_policies.c.policy_name)
                .where(
                    user_policies.c.account_id == account_id,
                    user_policies.c.user_name == user_name,
                )
                .order_by(user_policies.c.policy_name)
            )
            return [row.policy_name for row in rows]

    async def delete_user_policy(self, account_id: str, user_name: str, policy_name: str) -> None:
        """Detach a user's policy."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(user_policies).where(
                    user_policies.c.account_id == account_id,
                    user_policies.c.user_name == user_name,
                    user_policies.c.policy_name == policy_name,
                )
            )
        if not result.rowcount:
            raise AdminError(f"user {user_name} has no policy named {policy_name}")
