"""Assemble the server: open the stores, make the service, mount the three faces."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys

from aiohttp import web

from layerport.auth.principals import AccessKeys
from layerport.auth.ratelimit import RateLimiter
from layerport.auth.tokens import TokenSigner
from layerport.bootstrap import ensure_admin_key, presign_key, token_secret
from layerport.config import ConfigError, Settings
from layerport.faces.blob_api import BlobFace
from layerport.faces.ecr_api import MAX_BODY, EcrFace
from layerport.faces.middleware import last_resort, request_id
from layerport.faces.registry import RegistryFace
from layerport.faces.registry.auth import BasicAuth
from layerport.service import Service
from layerport.service.access import Access
from layerport.service.context import ServiceContext
from layerport.store.blobs import open_blob_store
from layerport.store.blobs.filesystem import FilesystemBlobStore
from layerport.store.metadata import migrate
from layerport.store.metadata.engine import create_engine
from layerport.store.metadata.sql import SqlMetadataStore

log = logging.getLogger(__name__)

SERVICE = web.AppKey("service", Service)


async def build_app(settings: Settings) -> web.Application:
    """A ready application: schema migrated, admin key in place, faces mounted."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await migrate.upgrade_database(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        metadata = SqlMetadataStore(engine)
        admin = await ensure_admin_key(settings, metadata)
        blob_key = await presign_key(metadata)
        tokens = TokenSigner(await token_secret(metadata))
    except Exception:
        await engine.dispose()
        raise
    resources = contextlib.AsyncExitStack()
    try:
        blobs = await resources.enter_async_context(
            open_blob_store(
                settings.store_url,
                public_url=settings.public_url,
                region=settings.region,
                key=blob_key,
            )
        )
    except BaseException:
        await engine.dispose()
        raise
    service = Service(
        ServiceContext(
            metadata=metadata,
            blobs=blobs,
            region=settings.region,
            registry_host=settings.registry_host,
            public_url=settings.public_url,
            presign_expires=settings.presign_expires,
            tokens=tokens,
            access=Access(metadata, settings.region),
            default_account=settings.account_id,
            create_on_push=settings.create_on_push,
            max_uploads=settings.max_uploads,
            max_parts=settings.max_parts,
        )
    )
    app = web.Application(client_max_size=MAX_BODY, middlewares=[request_id, last_resort])
    app[SERVICE] = service
    keys = AccessKeys(metadata)
    limiter = RateLimiter(settings.rate_limit)
    EcrFace(service, keys, settings.region, limiter).add_routes(app)
    registry_auth = BasicAuth(tokens, keys, settings.public_url, limiter)
    RegistryFace(service, service.registry, registry_auth).add_routes(app)
    if isinstance(blobs, FilesystemBlobStore):
        BlobFace(blobs, blob_key, settings.region).add_routes(app)

    async def close(_app: web.Application) -> None:
        await resources.aclose()
        metadata.close()
        await engine.dispose()

    app.on_cleanup.append(close)
    log.info(
        "account %s, admin key %s (credentials in %s)",
        settings.account_id,
        admin.access_key_id,
        settings.credentials_path,
    )
    return app


def run(settings: Settings) -> None:
    """Serve until interrupted; a start-up failure prints one line and exits non-zero.

    With ``workers`` > 1 the process forks that many servers sharing the port
    (SO_REUSEPORT); they share nothing but the stores, as replicas do.
    """
    try:
        asyncio.run(_checked(settings))
    except Exception as exc:  # any failure: one clear line instead of a traceback
        sys.exit(_start_failure(exc))
    if settings.workers == 1:
        try:
            _serve(settings, announce=True)
        except Exception as exc:  # the stores failed between the check and serving
            sys.exit(_start_failure(exc))
        return
    children = []
    for index in range(settings.workers):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            _die_with_parent()
            try:
                _serve(settings, announce=index == 0, reuse_port=True)
            except Exception as exc:
                os._exit(_start_failure(exc))
            os._exit(0)
        children.append(pid)

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        os.waitpid(child, 0)


def _start_failure(exc: Exception) -> int:
    """Print one line for a failure to start; the exit code (2: bad configuration)."""
    if isinstance(exc, ConfigError):
        print(f"layerport: {exc}", file=sys.stderr, flush=True)
        return 2
    first = next(iter(str(exc).splitlines()), "")  # driver errors append more lines
    print(f"layerport: cannot start: {type(exc).__name__}: {first}", file=sys.stderr, flush=True)
    return 1


def _serve(settings: Settings, *, announce: bool, reuse_port: bool = False) -> None:
    def show(_: str) -> None:
        if announce:
            print(
                f"layerport listening on http://{settings.host}:{settings.port} "
                f"(public URL {settings.public_url}, data in {settings.data_dir}, "
                f"{settings.workers} worker{'s' if settings.workers > 1 else ''})",
                flush=True,
            )

    web.run_app(
        build_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=show,
        reuse_port=reuse_port or None,
        loop=_new_loop(),
    )


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (it is a dependency on Linux and macOS), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - e.g. Windows
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Ask Linux to stop a worker when its parent dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


async def _checked(settings: Settings) -> None:
    """Open and close everything once, so bad configuration fails before listening."""
    app = await build_app(settings)
    for callback in app.on_cleanup:
        await callback(app)
