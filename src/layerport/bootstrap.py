"""First-start set-up: the default account, its admin access key, the server's own secrets.

Secrets that every replica must share (the token key, the presign key) live in
the metadata store; the first replica to start creates them.
"""

from __future__ import annotations

import configparser
import os
import secrets
import string
from pathlib import Path

from layerport.auth.presign import PresignKey
from layerport.config import ADMIN_PROFILE, Settings
from layerport.store.metadata import AccessKey, MetadataStore

_KEY_ALPHABET = string.ascii_uppercase + string.digits


def new_access_key_id(prefix: str = "LPAK") -> str:
    """A random access key id shaped like AWS's (20 upper-case letters and digits)."""
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(20 - len(prefix)))


def new_secret() -> str:
    """A random 40-character secret access key."""
    return secrets.token_urlsafe(30)[:40]


async def ensure_admin_key(settings: Settings, metadata: MetadataStore) -> AccessKey:
    """The default account's admin key: from the environment, the credentials file, or new.

    The key is (re)written to ``<data-dir>/credentials`` (profile ``layerport``,
    mode 0600) so the CLI and the aws CLI can use it with no set-up.
    """
    await metadata.ensure_account(settings.account_id)
    if settings.admin_access_key_id and settings.admin_secret_access_key:
        key = AccessKey(
            settings.admin_access_key_id,
            settings.admin_secret_access_key,
            settings.account_id,
            True,
        )
        await metadata.put_access_key(key)
    else:
        existing = _read_credentials(settings.credentials_path)
        stored = await metadata.get_access_key(existing) if existing else None
        if stored is not None and stored.account_id == settings.account_id:
            key = stored
        else:
            key = AccessKey(new_access_key_id(), new_secret(), settings.account_id, True)
            await metadata.put_access_key(key)
    _write_credentials(settings.credentials_path, key, settings.region)
    return key


async def presign_key(metadata: MetadataStore) -> PresignKey:
    """The credential that signs blob URLs, shared by all replicas."""
    key_id = await metadata.server_secret("presign_key_id", new_access_key_id("LPBL"))
    secret = await metadata.server_secret("presign_secret", new_secret())
    return PresignKey(key_id, secret)


async def token_secret(metadata: MetadataStore) -> bytes:
    """The HMAC key of authorization tokens, shared by all replicas."""
    return bytes.fromhex(await metadata.server_secret("token_key", secrets.token_hex(32)))


def _read_credentials(path: Path) -> str | None:
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        return None
    return parser.get(ADMIN_PROFILE, "aws_access_key_id", fallback=None)


def _write_credentials(path: Path, key: AccessKey, region: str) -> None:
    parser = configparser.ConfigParser()
    parser[ADMIN_PROFILE] = {
        "aws_access_key_id": key.access_key_id,
        "aws_secret_access_key": key.secret_access_key,
        "region": region,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        parser.write(handle)
