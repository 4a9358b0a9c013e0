"""``SqlMetadataStore``: the metadata store on SQLAlchemy Core, for SQLite and PostgreSQL.

One SQL text serves both databases; the dialect differences, "insert unless
present" and "insert or replace", sit in :func:`_insert_ignore` and
:func:`_insert_or_replace`.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from sqlalchemy import Insert, Table, and_, bindparam, delete, exists, func, literal, select, update
from sqlalchemy import tuple_ as tuple_expr
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from layerport.errors import RepositoryNotFoundException
from layerport.store.metadata import (
    AccessKey,
    Image,
    LayerAccess,
    NewImage,
    Repository,
    Upload,
    now_ms,
)
from layerport.store.metadata.tables import (
    access_keys,
    accounts,
    blobs,
    image_blobs,
    image_children,
    image_tags,
    images,
    repositories,
    repository_blobs,
    repository_tags,
    server_secrets,
    uploads,
    user_policies,
)


def _insert_ignore(conn: AsyncConnection, table: Table) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def _insert_or_replace(conn: AsyncConnection, table: Table, values: dict[str, Any]) -> Insert:
    """``INSERT … ON CONFLICT (primary key) DO UPDATE``: a replace concurrent callers survive."""
    keys = [column.name for column in table.primary_key.columns]
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table).values(**values)
        return pg.on_conflict_do_update(
            index_elements=keys, set_={k: pg.excluded[k] for k in values if k not in keys}
        )
    lite = sqlite.insert(table).values(**values)
    return lite.on_conflict_do_update(
        index_elements=keys, set_={k: lite.excluded[k] for k in values if k not in keys}
    )


def _bytewise(engine: AsyncEngine, column: Any) -> Any:
    """The column compared byte by byte: tags and names page in lexical order (the OCI
    spec's), which PostgreSQL's default collation does not give; SQLite's BINARY does."""
    return column.collate("C") if engine.dialect.name == "postgresql" else column


# The hot path of GetDownloadUrlForLayer, built once: one indexed query.
_LAYER_ACCESS = select(
    exists()
    .where(
        repository_blobs.c.repository_id == repositories.c.id,
        repository_blobs.c.digest == bindparam("digest"),
    )
    .label("linked"),
    exists()
    .where(
        image_blobs.c.repository_id == repositories.c.id,
        image_blobs.c.blob_digest == bindparam("digest"),
    )
    .label("referenced"),
).where(
    repositories.c.registry_id == bindparam("registry_id"),
    repositories.c.name == bindparam("name"),
)


# The registry face's pull path, one indexed query each.  Outer joins tell "no such
# repository" (no row) from "no such blob or manifest" (a row of NULLs).
_BLOB_IN_REPOSITORY = (
    select(repositories.c.id, blobs.c.size)
    .select_from(
        repositories.outerjoin(
            repository_blobs,
            and_(
                repository_blobs.c.repository_id == repositories.c.id,
                repository_blobs.c.digest == bindparam("digest"),
            ),
        ).outerjoin(blobs, blobs.c.digest == repository_blobs.c.digest)
    )
    .where(
        repositories.c.registry_id == bindparam("registry_id"),
        repositories.c.name == bindparam("name"),
    )
)

_MANIFEST_BY_DIGEST = (
    select(repositories.c.id, images.c.digest, images.c.manifest, images.c.media_type)
    .select_from(
        repositories.outerjoin(
            images,
            and_(
                images.c.repository_id == repositories.c.id,
                images.c.digest == bindparam("digest"),
            ),
        )
    )
    .where(
        repositories.c.registry_id == bindparam("registry_id"),
        repositories.c.name == bindparam("name"),
    )
)

_MANIFEST_BY_TAG = (
    select(repositories.c.id, images.c.digest, images.c.manifest, images.c.media_type)
    .select_from(
        repositories.outerjoin(
            image_tags,
            and_(
                image_tags.c.repository_id == repositories.c.id,
                image_tags.c.tag == bindparam("tag"),
            ),
        ).outerjoin(
            images,
            and_(
                images.c.repository_id == repositories.c.id,
                images.c.digest == image_tags.c.image_digest,
            ),
        )
    )
    .where(
        repositories.c.registry_id == bindparam("registry_id"),
        repositories.c.name == bindparam("name"),
    )
)

_HOT = {
    "layer_access": _LAYER_ACCESS,
    "blob_in_repository": _BLOB_IN_REPOSITORY,
    "manifest_by_digest": _MANIFEST_BY_DIGEST,
    "manifest_by_tag": _MANIFEST_BY_TAG,
}


def _repository(row: Any) -> Repository:
    return Repository(
        id=row.id,
        registry_id=row.registry_id,
        name=row.name,
        created_ms=row.created_ms,
        tag_mutability=row.tag_mutability,
        tag_mutability_exclusions=row.tag_mutability_exclusions,
        scan_on_push=bool(row.scan_on_push),
        encryption_type=row.encryption_type,
        kms_key=row.kms_key,
        policy=row.policy,
    )


class _SqliteHotReader:
    """The pull path's point queries on a plain read-only sqlite3 connection.

    Through aiosqlite a query costs several hand-offs to a worker thread; an
    indexed SQLite lookup costs tens of microseconds, so on the hot paths
    (GetDownloadUrlForLayer, blob HEAD, manifest GET) it runs inline.  WAL
    readers never wait for the writer, and autocommit makes every query see the
    latest committed state.  The statements are the same SQLAlchemy ones the
    PostgreSQL path runs, compiled once.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._compiled: dict[str, tuple[str, tuple[str, ...]]] = {}
        for name, statement in _HOT.items():
            compiled = statement.compile(dialect=engine.dialect)
            self._compiled[name] = (compiled.string, tuple(compiled.positiontup or ()))
        path = engine.url.database or ""
        self._conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA busy_timeout=5000")

    def fetchone(self, name: str, values: dict[str, str]) -> tuple[Any, ...] | None:
        sql, order = self._compiled[name]
        row = self._conn.execute(sql, [values[key] for key in order]).fetchone()
        return None if row is None else tuple(row)

    def close(self) -> None:
        self._conn.close()


class SqlMetadataStore:
    """:class:`~layerport.store.metadata.MetadataStore` on an ``AsyncEngine``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        file_backed = engine.url.database not in (None, "", ":memory:")
        self._hot = (
            _SqliteHotReader(engine) if engine.dialect.name == "sqlite" and file_backed else None
        )

    def close(self) -> None:
        """Release what the store holds outside the engine."""
        if self._hot is not None:
            self._hot.close()

    @contextlib.asynccontextmanager
    async def _repository_write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction writing rows that belong to a repository.

        The service looked the repository up first; if DeleteRepository commits in
        between, the rows' foreign key fails.  That is the repository being gone, not
        a fault: the caller gets RepositoryNotFoundException.
        """
        try:
            async with self.engine.begin() as conn:
                yield conn
        except IntegrityError as exc:
            if "foreign key" not in str(exc.orig).lower():
                raise
            raise RepositoryNotFoundException(
                "The repository was deleted while this request was in progress"
            ) from None

    # --- accounts and keys ------------------------------------------------------------
    async def ensure_account(self, account_id: str) -> None:
        """Create the account if it does not exist."""
        async with self.engine.begin() as conn:
            await conn.execute(
                _insert_ignore(conn, accounts).values(account_id=account_id, created_ms=now_ms())
            )

    async def put_access_key(self, key: AccessKey) -> None:
        """Create or replace an access key."""
        # One upsert, not delete + insert: replicas starting together with the same
        # configured admin key would otherwise collide on the primary key.
        async with self.engine.begin() as conn:
            await conn.execute(
                _insert_or_replace(
                    conn,
                    access_keys,
                    {
                        "access_key_id": key.access_key_id,
                        "secret_access_key": key.secret_access_key,
                        "account_id": key.account_id,
                        "user_name": key.user_name,
                        "active": key.active,
                        "created_ms": now_ms(),
                    },
                )
            )

    async def get_access_key(self, access_key_id: str) -> AccessKey | None:
        """The key with that id, or None."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(access_keys).where(access_keys.c.access_key_id == access_key_id)
                )
            ).first()
        if row is None:
            return None
        return AccessKey(
            row.access_key_id,
            row.secret_access_key,
            row.account_id,
            bool(row.active),
            row.user_name,
        )

    async def user_policies(self, account_id: str, user_name: str) -> list[str]:
        """The policy documents attached to a user."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(user_policies.c.document).where(
                    user_policies.c.account_id == account_id,
                    user_policies.c.user_name == user_name,
                )
            )
            return [row.document for row in rows]

    async def server_secret(self, name: str, candidate: str) -> str:
        """The named server secret, storing ``candidate`` first if there is none."""
        async with self.engine.begin() as conn:
            await conn.execute(
                _insert_ignore(conn, server_secrets).values(name=name, value=candidate)
            )
            value = await conn.scalar(
                select(server_secrets.c.value).where(server_secrets.c.name == name)
            )
        return str(value)

    # --- repositories -----------------------------------------------------------------
    async def create_repository(
        self, repository: Repository, tags: Iterable[tuple[str, str]]
    ) -> Repository | None:
        """Insert the repository; None when the name is taken."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                _insert_ignore(conn, repositories)
                .values(
                    registry_id=repository.registry_id,
                    name=repository.name,
                    created_ms=repository.created_ms,
                    tag_mutability=repository.tag_mutability,
                    tag_mutability_exclusions=repository.tag_mutability_exclusions,
                    scan_on_push=repository.scan_on_push,
                    encryption_type=repository.encryption_type,
                    kms_key=repository.kms_key,
                )
                .returning(repositories)
            )
            row = result.first()
            if row is None:
                return None
            rows = [{"repository_id": row.id, "key": k, "value": v} for k, v in tags]
            if rows:
                await conn.execute(repository_tags.insert(), rows)
        return _repository(row)

    async def get_repository(self, registry_id: str, name: str) -> Repository | None:
        """The repository, or None."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(repositories).where(
                        repositories.c.registry_id == registry_id, repositories.c.name == name
                    )
                )
            ).first()
        return _repository(row) if row else None

    async def list_repositories(
        self, registry_id: str, names: Sequence[str] | None, after: str | None, limit: int
    ) -> list[Repository]:
        """Repositories by name, after ``after``, at most ``limit``."""
        query = select(repositories).where(repositories.c.registry_id == registry_id)
        if names is not None:
            query = query.where(repositories.c.name.in_(list(names)))
        name = _bytewise(self.engine, repositories.c.name)
        if after is not None:
            query = query.where(name > after)
        query = query.order_by(name).limit(limit)
        async with self.engine.connect() as conn:
            return [_repository(row) for row in await conn.execute(query)]

    async def delete_repository(self, repository_id: int) -> list[str]:
        """Delete the repository; its images, tags, links and uploads cascade."""
        async with self.engine.begin() as conn:
            gone = await conn.execute(
                delete(uploads)
                .where(uploads.c.repository_id == repository_id)
                .returning(uploads.c.id)
            )
            upload_ids = [row.id for row in gone]
            await conn.execute(delete(repositories).where(repositories.c.id == repository_id))
        return upload_ids

    async def set_repository_policy(self, repository_id: int, policy: str | None) -> None:
        """Attach or remove the repository policy."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(repositories).where(repositories.c.id == repository_id).values(policy=policy)
            )

    async def repository_tags(self, repository_id: int) -> dict[str, str]:
        """The repository's resource tags."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(repository_tags.c.key, repository_tags.c.value).where(
                    repository_tags.c.repository_id == repository_id
                )
            )
            return {row.key: row.value for row in rows}

    async def set_repository_tags(self, repository_id: int, tags: dict[str, str]) -> None:
        """Replace the repository's resource tags."""
        async with self._repository_write() as conn:
            await conn.execute(
                delete(repository_tags).where(repository_tags.c.repository_id == repository_id)
            )
            if tags:
                await conn.execute(
                    repository_tags.insert(),
                    [
                        {"repository_id": repository_id, "key": k, "value": v}
                        for k, v in tags.items()
                    ],
                )

    async def count_uploads(self, account_id: str) -> int:
        """Open uploads in all of the account's repositories."""
        async with self.engine.connect() as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(
                    uploads.join(repositories, repositories.c.id == uploads.c.repository_id)
                )
                .where(repositories.c.registry_id == account_id)
            )
        return int(count or 0)

    async def count_images(self, repository_id: int) -> int:
        """How many images the repository holds."""
        async with self.engine.connect() as conn:
            count = await conn.scalar(
                select(func.count()).where(images.c.repository_id == repository_id)
            )
        return int(count or 0)

    # --- layers -----------------------------------------------------------------------
    async def _hot_row(self, name: str, values: dict[str, str]) -> tuple[Any, ...] | None:
        """One of the hot point queries: inline on SQLite, through the engine elsewhere."""
        if self._hot is not None:
            return self._hot.fetchone(name, values)
        # Autocommit: a lone read needs no BEGIN and ROLLBACK round trips around it.
        async with self._autocommit.connect() as conn:
            row = (await conn.execute(_HOT[name], values)).first()
        return None if row is None else tuple(row)

    async def layer_access(self, registry_id: str, name: str, digest: str) -> LayerAccess:
        """One indexed query: repository, link and reference for a digest."""
        row = await self._hot_row(
            "layer_access", {"registry_id": registry_id, "name": name, "digest": digest}
        )
        if row is None:
            return LayerAccess(repository_exists=False, linked=False, referenced=False)
        return LayerAccess(True, bool(row[0]), bool(row[1]))

    async def blob_in_repository(
        self, registry_id: str, name: str, digest: str
    ) -> tuple[bool, int | None]:
        """(repository exists, size of the blob if linked into it) in one query."""
        row = await self._hot_row(
            "blob_in_repository", {"registry_id": registry_id, "name": name, "digest": digest}
        )
        if row is None:
            return False, None
        return True, None if row[1] is None else int(row[1])

    async def manifest_for(
        self, registry_id: str, name: str, *, digest: str | None = None, tag: str | None = None
    ) -> tuple[bool, tuple[str, bytes, str] | None]:
        """(repository exists, (digest, manifest, media type) if found) in one query."""
        values = {"registry_id": registry_id, "name": name}
        if digest is not None:
            row = await self._hot_row("manifest_by_digest", {**values, "digest": digest})
        else:
            row = await self._hot_row("manifest_by_tag", {**values, "tag": tag or ""})
        if row is None:
            return False, None
        if row[1] is None:
            return True, None
        return True, (str(row[1]), bytes(row[2]), str(row[3]))

    async def linked_blob_sizes(self, repository_id: int, digests: Iterable[str]) -> dict[str, int]:
        """Size of each of ``digests`` linked into the repository."""
        wanted = list(set(digests))
        if not wanted:
            return {}
        query = (
            select(blobs.c.digest, blobs.c.size)
            .join(repository_blobs, repository_blobs.c.digest == blobs.c.digest)
            .where(
                repository_blobs.c.repository_id == repository_id,
                repository_blobs.c.digest.in_(wanted),
            )
        )
        async with self.engine.connect() as conn:
            return {row.digest: int(row.size) for row in await conn.execute(query)}

    async def link_blob(self, repository_id: int, digest: str, size: int) -> bool:
        """Record the blob and link it; False when the repository already had it."""
        async with self._repository_write() as conn:
            return await self._link(conn, repository_id, digest, size)

    async def unlink_blob(self, repository_id: int, digest: str) -> None:
        """Remove the blob's link into the repository."""
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(repository_blobs).where(
                    repository_blobs.c.repository_id == repository_id,
                    repository_blobs.c.digest == digest,
                )
            )

    @staticmethod
    async def _link(conn: AsyncConnection, repository_id: int, digest: str, size: int) -> bool:
        stamp = now_ms()
        await conn.execute(
            _insert_ignore(conn, blobs).values(digest=digest, size=size, created_ms=stamp)
        )
        result = await conn.execute(
            _insert_ignore(conn, repository_blobs).values(
                repository_id=repository_id, digest=digest, created_ms=stamp
            )
        )
        return bool(result.rowcount)

    # --- images -----------------------------------------------------------------------
    async def get_image(self, repository_id: int, digest: str) -> Image | None:
        """The image with its tags, or None."""
        found = await self.describe_images(repository_id, [digest], "ANY", None, 1)
        return found[0] if found else None

    async def image_digest_for_tag(self, repository_id: int, tag: str) -> str | None:
        """The digest the tag points at, or None."""
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                select(image_tags.c.image_digest).where(
                    image_tags.c.repository_id == repository_id, image_tags.c.tag == tag
                )
            )
        return None if value is None else str(value)

    async def get_manifest(self, repository_id: int, digest: str) -> tuple[bytes, str] | None:
        """The manifest bytes and media type, or None."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(images.c.manifest, images.c.media_type).where(
                        images.c.repository_id == repository_id, images.c.digest == digest
                    )
                )
            ).first()
        return (bytes(row.manifest), row.media_type) if row else None

    async def existing_images(self, repository_id: int, digests: Iterable[str]) -> set[str]:
        """Which of ``digests`` are images in the repository."""
        wanted = list(set(digests))
        if not wanted:
            return set()
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(images.c.digest).where(
                    images.c.repository_id == repository_id, images.c.digest.in_(wanted)
                )
            )
            return {row.digest for row in rows}

    async def put_image(self, repository_id: int, image: NewImage, tag: str | None) -> None:
        """Record the image with its references if new, then point ``tag`` at it."""
        async with self._repository_write() as conn:
            result = await conn.execute(
                _insert_ignore(conn, images).values(
                    repository_id=repository_id,
                    digest=image.digest,
                    manifest=image.manifest,
                    media_type=image.media_type,
                    artifact_type=image.artifact_type,
                    size=image.size,
                    pushed_ms=now_ms(),
                    subject_digest=image.subject_digest,
                )
            )
            if result.rowcount:
                refs = {d: m for d, m in image.blobs}
                if refs:
                    await conn.execute(
                        image_blobs.insert(),
                        [
                            {
                                "repository_id": repository_id,
                                "image_digest": image.digest,
                                "blob_digest": d,
                                "media_type": m,
                            }
                            for d, m in refs.items()
                        ],
                    )
                if image.children:
                    await conn.execute(
                        image_children.insert(),
                        [
                            {
                                "repository_id": repository_id,
                                "image_digest": image.digest,
                                "child_digest": c,
                            }
                            for c in sorted(set(image.children))
                        ],
                    )
            if tag is not None:
                await conn.execute(
                    delete(image_tags).where(
                        image_tags.c.repository_id == repository_id, image_tags.c.tag == tag
                    )
                )
                await conn.execute(
                    image_tags.insert().values(
                        repository_id=repository_id, tag=tag, image_digest=image.digest
                    )
                )

    async def list_images(
        self, repository_id: int, tag_status: str, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[str, str | None]]:
        """(digest, tag) pairs ordered by digest then tag ('' for untagged), paged."""
        tagged = select(image_tags.c.image_digest.label("digest"), image_tags.c.tag.label("tag"))
        tagged = tagged.where(image_tags.c.repository_id == repository_id)
        untagged = select(images.c.digest.label("digest"), literal("").label("tag")).where(
            images.c.repository_id == repository_id,
            ~exists().where(
                image_tags.c.repository_id == images.c.repository_id,
                image_tags.c.image_digest == images.c.digest,
            ),
        )
        parts = {"TAGGED": [tagged], "UNTAGGED": [untagged]}.get(tag_status, [tagged, untagged])
        union = parts[0].union_all(*parts[1:]).subquery() if len(parts) > 1 else parts[0].subquery()
        query = select(union.c.digest, union.c.tag)
        if after is not None:
            query = query.where(tuple_expr(union.c.digest, union.c.tag) > tuple_expr(*after))
        query = query.order_by(union.c.digest, union.c.tag).limit(limit)
        async with self.engine.connect() as conn:
            return [(row.digest, row.tag or None) for row in await conn.execute(query)]

    async def describe_images(
        self,
        repository_id: int,
        digests: Sequence[str] | None,
        tag_status: str,
        after: str | None,
        limit: int,
    ) -> list[Image]:
        """Images with their tags, ordered by digest, paged."""
        has_tag = exists().where(
            image_tags.c.repository_id == images.c.repository_id,
            image_tags.c.image_digest == images.c.digest,
        )
        query = select(
            images.c.digest,
            images.c.media_type,
            images.c.artifact_type,
            images.c.size,
            images.c.pushed_ms,
            images.c.subject_digest,
        ).where(images.c.repository_id == repository_id)
        if digests is not None:
            query = query.where(images.c.digest.in_(list(digests)))
        if tag_status == "TAGGED":
            query = query.where(has_tag)
        elif tag_status == "UNTAGGED":
            query = query.where(~has_tag)
        if after is not None:
            query = query.where(images.c.digest > after)
        query = query.order_by(images.c.digest).limit(limit)
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(query))
            tags: dict[str, list[str]] = {row.digest: [] for row in rows}
            if rows:
                tag_rows = await conn.execute(
                    select(image_tags.c.image_digest, image_tags.c.tag)
                    .where(
                        image_tags.c.repository_id == repository_id,
                        image_tags.c.image_digest.in_(list(tags)),
                    )
                    .order_by(_bytewise(self.engine, image_tags.c.tag))
                )
                for tag_row in tag_rows:
                    tags[tag_row.image_digest].append(tag_row.tag)
        return [
            Image(
                digest=row.digest,
                media_type=row.media_type,
                artifact_type=row.artifact_type,
                size=int(row.size),
                pushed_ms=int(row.pushed_ms),
                subject_digest=row.subject_digest,
                tags=tuple(tags[row.digest]),
            )
            for row in rows
        ]

    async def parents_of(self, repository_id: int, digest: str) -> list[str]:
        """Indexes in the repository that list ``digest`` as a child."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(image_children.c.image_digest).where(
                    image_children.c.repository_id == repository_id,
                    image_children.c.child_digest == digest,
                )
            )
            return [row.image_digest for row in rows]

    async def list_tags(self, repository_id: int, after: str | None, limit: int) -> list[str]:
        """Tags in lexical (byte) order after ``after``."""
        tag = _bytewise(self.engine, image_tags.c.tag)
        query = select(image_tags.c.tag).where(image_tags.c.repository_id == repository_id)
        if after is not None:
            query = query.where(tag > after)
        query = query.order_by(tag).limit(limit)
        async with self.engine.connect() as conn:
            return [row.tag for row in await conn.execute(query)]

    async def referrers(
        self, repository_id: int, subject: str
    ) -> list[tuple[str, bytes, str, str | None]]:
        """Images whose subject is ``subject``, by digest."""
        query = (
            select(images.c.digest, images.c.manifest, images.c.media_type, images.c.artifact_type)
            .where(images.c.repository_id == repository_id, images.c.subject_digest == subject)
            .order_by(images.c.digest)
        )
        async with self.engine.connect() as conn:
            return [
                (row.digest, bytes(row.manifest), row.media_type, row.artifact_type)
                for row in await conn.execute(query)
            ]

    async def delete_image(self, repository_id: int, digest: str) -> None:
        """Delete the image; tags and references cascade."""
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(images).where(
                    images.c.repository_id == repository_id, images.c.digest == digest
                )
            )

    async def delete_tag(self, repository_id: int, tag: str) -> None:
        """Remove one tag."""
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(image_tags).where(
                    image_tags.c.repository_id == repository_id, image_tags.c.tag == tag
                )
            )

    # --- uploads ----------------------------------------------------------------------
    async def create_upload(self, upload_id: str, repository_id: int) -> None:
        """Start an upload session with no bytes."""
        stamp = now_ms()
        async with self._repository_write() as conn:
            await conn.execute(
                uploads.insert().values(
                    id=upload_id,
                    repository_id=repository_id,
                    size=0,
                    digest=None,
                    created_ms=stamp,
                    updated_ms=stamp,
                )
            )

    async def get_upload(self, repository_id: int, upload_id: str) -> Upload | None:
        """The upload in that repository, or None."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(uploads).where(
                        uploads.c.id == upload_id, uploads.c.repository_id == repository_id
                    )
                )
            ).first()
        if row is None:
            return None
        return Upload(row.id, row.repository_id, int(row.size), row.digest, int(row.parts))

    async def advance_upload(self, upload_id: str, old_size: int, new_size: int) -> bool:
        """Compare-and-set the upload's size."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(uploads)
                .where(
                    and_(
                        uploads.c.id == upload_id,
                        uploads.c.size == old_size,
                        uploads.c.digest.is_(None),
                    )
                )
                .values(size=new_size, parts=uploads.c.parts + 1, updated_ms=now_ms())
            )
        return bool(result.rowcount)

    async def mark_upload_verified(self, upload_id: str, digest: str) -> None:
        """Record the verified digest; later appends are refused."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(uploads)
                .where(uploads.c.id == upload_id)
                .values(digest=digest, updated_ms=now_ms())
            )

    async def finish_upload(
        self, upload_id: str, repository_id: int, digest: str, size: int
    ) -> bool:
        """Record and link the blob and drop the session, in one transaction."""
        async with self._repository_write() as conn:
            linked = await self._link(conn, repository_id, digest, size)
            await conn.execute(delete(uploads).where(uploads.c.id == upload_id))
        return linked

    async def upload_ids(self, repository_id: int) -> list[str]:
        """Ids of the repository's open uploads."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(uploads.c.id).where(uploads.c.repository_id == repository_id)
            )
            return [row.id for row in rows]

    async def delete_upload(self, upload_id: str) -> None:
        """Drop an upload session."""
        async with self.engine.begin() as conn:
            await conn.execute(delete(uploads).where(uploads.c.id == upload_id))
