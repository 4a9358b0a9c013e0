"""The MetadataStore contract, one suite run on SQLite (a temp file) and PostgreSQL.

Each backend gets one database per module, migrated to head with
``migrate.upgrade``.  Every test ends by deleting its repositories and checking
that every table hanging off a repository is empty: nothing left behind.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import asyncpg
import pytest
from sqlalchemy import delete, func, select

from layerport.store.metadata import (
    AccessKey,
    Image,
    LayerAccess,
    NewImage,
    Repository,
    Upload,
    migrate,
    now_ms,
)
from layerport.store.metadata.engine import create_engine
from layerport.store.metadata.sql import SqlMetadataStore
from layerport.store.metadata.tables import blobs, metadata, repositories
from tests.support import POSTGRES_DSN, drop_postgres_database, postgres_database, sha256

T = TypeVar("T")
ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG = "application/vnd.oci.image.config.v1+json"
#: Every table whose rows belong to a repository: all must be empty once it is deleted.
CHILD_TABLES = [table for table in metadata.sorted_tables if "repository_id" in table.c]
_unique = itertools.count()


@dataclass
class Database:
    """A migrated database, opened afresh (engine and store) inside each test's event loop."""

    url: str

    def run(self, body: Callable[[SqlMetadataStore], Awaitable[T]]) -> T:
        """Open the store, run ``body`` on it (bounded in time), close it."""

        async def main() -> T:
            engine = create_engine(self.url)
            store = SqlMetadataStore(engine)
            try:
                return await asyncio.wait_for(body(store), 120)
            finally:
                store.close()
                await engine.dispose()

        return asyncio.run(main())


async def use_locale_collation(name: str) -> None:
    """Make the database sort text by an ICU en-US locale, as production clusters often do.

    A cluster initialised with the C locale sorts byte-wise by accident; under a
    locale collation ("a_b" < "a-b" < "B") only an explicit byte-wise order passes.
    """
    conn = await asyncpg.connect(f"{POSTGRES_DSN}/postgres", timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        try:
            await conn.execute(
                f'CREATE DATABASE "{name}" TEMPLATE template0 '
                "LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
            )
        except asyncpg.PostgresError:  # no ICU in this build: the default collation
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One database per backend for this module, migrated to head."""
    name = f"lp_contract_{os.getpid()}"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('metadata') / 'layerport.db'}"
    else:
        url = postgres_database(name)
        asyncio.run(use_locale_collation(name))

    async def upgrade() -> None:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(upgrade())
    yield Database(url)
    if request.param == "postgresql":
        drop_postgres_database(name)


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    """The module's database; after the test, whatever a failed test left is wiped."""
    yield database

    async def wipe(store: SqlMetadataStore) -> None:
        async with store.engine.begin() as conn:
            await conn.execute(delete(repositories))
            await conn.execute(delete(blobs))

    database.run(wipe)


def new_repository(name: str, registry_id: str = ACCOUNT) -> Repository:
    """A repository row to create (the store assigns ``id``)."""
    return Repository(
        id=0,
        registry_id=registry_id,
        name=name,
        created_ms=now_ms(),
        tag_mutability="MUTABLE",
        tag_mutability_exclusions=None,
        scan_on_push=False,
        encryption_type="AES256",
        kms_key=None,
    )


def digest_of(text: str) -> str:
    return sha256(text.encode())


def new_image(
    label: str,
    layers: Sequence[str] = (),
    config: str | None = None,
    *,
    subject: str | None = None,
    artifact_type: str | None = None,
    children: Sequence[str] = (),
) -> NewImage:
    """An image whose manifest is unique to ``label`` and references the given blobs."""
    manifest = f'{{"label": "{label}", "n": {next(_unique)}}}'.encode()
    refs = [(layer, LAYER) for layer in layers] + ([(config, CONFIG)] if config else [])
    return NewImage(
        digest=sha256(manifest),
        manifest=manifest,
        media_type=INDEX if children else MANIFEST,
        artifact_type=artifact_type,
        size=len(manifest),
        subject_digest=subject,
        blobs=refs,
        children=list(children),
    )


async def setup(store: SqlMetadataStore, *names: str) -> list[Repository]:
    """Accounts in place and one new repository per name."""
    await store.ensure_account(ACCOUNT)
    await store.ensure_account(OTHER_ACCOUNT)
    made = [await store.create_repository(new_repository(name), []) for name in names]
    assert all(made)
    return [repository for repository in made if repository is not None]


async def delete_and_count_leftovers(store: SqlMetadataStore, *repos: Repository) -> dict[str, int]:
    """Delete the repositories; the rows still in any repository's child table, by table."""
    for repository in repos:
        await store.delete_repository(repository.id)
    counts = {}
    async with store.engine.connect() as conn:
        for table in [repositories, *CHILD_TABLES]:
            counts[table.name] = int(await conn.scalar(select(func.count()).select_from(table)))
    return {name: count for name, count in counts.items() if count}


def test_accounts_and_access_keys(db: Database) -> None:
    async def body(store: SqlMetadataStore) -> tuple[AccessKey | None, ...]:
        # given an account created twice (the second time is a no-op) and a key for it
        await store.ensure_account(ACCOUNT)
        await store.ensure_account(ACCOUNT)
        first = AccessKey("AKIACONTRACT0000001", "secret-one", ACCOUNT, True)
        await store.put_access_key(first)
        found = await store.get_access_key(first.access_key_id)
        # when the key is replaced (new secret, deactivated)
        await store.put_access_key(replace(first, secret_access_key="secret-two", active=False))
        replaced = await store.get_access_key(first.access_key_id)
        missing = await store.get_access_key("AKIANOSUCHKEY000000")
        # and replicas starting together all put the same configured key at once
        racing = AccessKey("AKIACONTRACTRACE001", "secret-race", ACCOUNT, True)
        await asyncio.gather(*(store.put_access_key(racing) for _ in range(4)))
        raced = await store.get_access_key(racing.access_key_id)
        return found, replaced, missing, raced

    found, replaced, missing, raced = db.run(body)

    # then each lookup sees the latest key, and an unknown id finds nothing
    assert found == AccessKey("AKIACONTRACT0000001", "secret-one", ACCOUNT, True)
    assert replaced == AccessKey("AKIACONTRACT0000001", "secret-two", ACCOUNT, False)
    assert missing is None
    assert raced == AccessKey("AKIACONTRACTRACE001", "secret-race", ACCOUNT, True)


def test_a_server_secret_keeps_its_first_value(db: Database) -> None:
    name = f"contract-secret-{next(_unique)}"

    async def body(store: SqlMetadataStore) -> tuple[str, str, list[str]]:
        # given a secret stored with its first candidate
        first = await store.server_secret(name, "first")
        # when later callers, some at the same moment (replicas starting), offer others
        second = await store.server_secret(name, "second")
        racing = await asyncio.gather(
            *(store.server_secret(f"{name}-race", f"candidate-{n}") for n in range(5))
        )
        return first, second, list(racing)

    first, second, racing = db.run(body)

    # then everyone gets the value stored first
    assert (first, second) == ("first", "first")
    assert len(set(racing)) == 1 and racing[0].startswith("candidate-")


def test_repositories_are_created_once_per_registry(db: Database) -> None:
    async def body(store: SqlMetadataStore) -> tuple[object, ...]:
        # given a repository with resource tags
        await setup(store)
        created = await store.create_repository(
            new_repository("team/app"), [("owner", "team"), ("env", "prod")]
        )
        # when the same name is created again, and in another registry
        duplicate = await store.create_repository(new_repository("team/app"), [])
        elsewhere = await store.create_repository(new_repository("team/app", OTHER_ACCOUNT), [])
        found = await store.get_repository(ACCOUNT, "team/app")
        absent = await store.get_repository(ACCOUNT, "team/other")
        assert created is not None and elsewhere is not None
        leftovers = await delete_and_count_leftovers(store, created, elsewhere)
        return created, duplicate, elsewhere, found, absent, leftovers

    created, duplicate, elsewhere, found, absent, leftovers = db.run(body)

    # then the first create wins, the second answers None, another registry has its own
    assert isinstance(created, Repository) and isinstance(elsewhere, Repository)
    assert created.id != elsewhere.id
    expected = replace(new_repository("team/app"), id=created.id, created_ms=created.created_ms)
    assert created == expected
    assert duplicate is None
    assert found == created
    assert absent is None
    assert leftovers == {}


NAMES = ["B", "a", "a-b", "a.b", "a_b", "a/b", "ab", "Z", "a0", "b", "_x", "a-"]


def test_repositories_page_in_bytewise_lexical_order(db: Database) -> None:
    async def body(
        store: SqlMetadataStore,
    ) -> tuple[list[str], list[str], list[str], dict[str, int]]:
        # given repositories whose names sort differently under a locale collation,
        # and one of the same name in another registry
        made = await setup(store, *NAMES)
        other = await store.create_repository(new_repository("a", OTHER_ACCOUNT), [])
        assert other is not None
        # when they are listed three at a time, and by name after a marker
        paged: list[str] = []
        after: str | None = None
        while True:
            page = await store.list_repositories(ACCOUNT, None, after, 3)
            assert len(page) <= 3
            paged += [repository.name for repository in page]
            if len(page) < 3:
                break
            after = page[-1].name
        chosen = await store.list_repositories(ACCOUNT, ["b", "a.b", "B", "nope"], "A", 10)
        return (
            paged,
            [repository.name for repository in chosen],
            [repository.registry_id for repository in chosen],
            await delete_and_count_leftovers(store, *made, other),
        )

    paged, chosen, registries, leftovers = db.run(body)

    # then the order is Python's (byte-wise) order, with no repeats and none missing
    assert paged == sorted(NAMES)
    assert chosen == sorted(["b", "a.b", "B"])
    assert set(registries) == {ACCOUNT}
    assert leftovers == {}


def test_tags_page_in_bytewise_lexical_order(db: Database) -> None:
    async def body(store: SqlMetadataStore) -> tuple[list[str], list[str], dict[str, int]]:
        # given one image tagged with names that sort differently under a locale collation
        (repository,) = await setup(store, "tags/order")
        image = new_image("tagged")
        for tag in NAMES:
            await store.put_image(repository.id, image, tag)
        # when the tags are listed two at a time
        paged: list[str] = []
        after: str | None = None
        while page := await store.list_tags(repository.id, after, 2):
            paged += page
            after = page[-1]
        described = await store.get_image(repository.id, image.digest)
        assert described is not None
        return paged, list(described.tags), await delete_and_count_leftovers(store, repository)

    paged, described, leftovers = db.run(body)

    # then both listings follow Python's (byte-wise) order
    assert paged == sorted(NAMES)
    assert described == sorted(NAMES)
    assert leftovers == {}


def test_layer_access_truth_table(db: Database) -> None:
    layer, config, stray, foreign = (digest_of(n) for n in ("layer", "config", "stray", "foreign"))

    async def body(store: SqlMetadataStore) -> tuple[dict[str, LayerAccess], dict[str, int]]:
        # given a repository with an image referencing a layer and a config, a blob linked
        # but referenced by nothing, and another repository holding a blob of its own
        here, there = await setup(store, "access/here", "access/there")
        for digest in (layer, config, stray):
            await store.link_blob(here.id, digest, 10)
        await store.link_blob(there.id, foreign, 10)
        await store.put_image(there.id, new_image("there", [foreign]), "v1")
        await store.put_image(here.id, new_image("here", [layer], config), "v1")
        # when each case is asked about
        ask = store.layer_access
        table = {
            "no repository": await ask(ACCOUNT, "access/none", layer),
            "other registry": await ask(OTHER_ACCOUNT, "access/here", layer),
            "not linked": await ask(ACCOUNT, "access/here", digest_of("never")),
            "linked elsewhere": await ask(ACCOUNT, "access/here", foreign),
            "linked, unreferenced": await ask(ACCOUNT, "access/here", stray),
            "referenced as a layer": await ask(ACCOUNT, "access/here", layer),
            "referenced as the config": await ask(ACCOUNT, "access/here", config),
        }
        return table, await delete_and_count_leftovers(store, here, there)

    table, leftovers = db.run(body)

    # then each answer says exactly what exists
    nothing = LayerAccess(repository_exists=False, linked=False, referenced=False)
    assert table == {
        "no repository": nothing,
        "other registry": nothing,
        "not linked": LayerAccess(True, False, False),
        "linked elsewhere": LayerAccess(True, False, False),
        "linked, unreferenced": LayerAccess(True, True, False),
        "referenced as a layer": LayerAccess(True, True, True),
        "referenced as the config": LayerAccess(True, True, True),
    }
    assert leftovers == {}


def test_blobs_link_once_and_unlink(db: Database) -> None:
    one, two = digest_of("one"), digest_of("two")

    async def body(store: SqlMetadataStore) -> tuple[object, ...]:
        # given a blob linked into a repository
        repository, other = await setup(store, "links/a", "links/b")
        first = await store.link_blob(repository.id, one, 111)
        # when it is linked again, another blob is linked elsewhere, and one is unlinked
        again = await store.link_blob(repository.id, one, 111)
        await store.link_blob(other.id, two, 222)
        before = await store.linked_blob_sizes(repository.id, [one, two, one])
        await store.unlink_blob(repository.id, one)
        after = await store.linked_blob_sizes(repository.id, [one, two])
        return (
            first,
            again,
            before,
            after,
            await delete_and_count_leftovers(store, repository, other),
        )

    first, again, before, after, leftovers = db.run(body)

    # then the first link counts, the second is a no-op, and sizes come only from this repository
    assert (first, again) == (True, False)
    assert before == {one: 111}
    assert after == {}
    assert leftovers == {}


def test_put_image_records_once_and_tags_move(db: Database) -> None:
    async def body(store: SqlMetadataStore) -> tuple[object, ...]:
        # given two images, the first tagged v1
        (repository,) = await setup(store, "images/tags")
        first, second = new_image("first", [digest_of("l1")]), new_image("second")
        await store.put_image(repository.id, first, "v1")
        # when v1 is put on the second, the first is put again with v2, the second untagged
        await store.put_image(repository.id, second, "v1")
        await store.put_image(repository.id, first, "v2")
        await store.put_image(repository.id, second, None)
        return (
            await store.image_digest_for_tag(repository.id, "v1"),
            await store.image_digest_for_tag(repository.id, "v2"),
            await store.image_digest_for_tag(repository.id, "v3"),
            await store.get_image(repository.id, first.digest),
            await store.get_manifest(repository.id, second.digest),
            await store.existing_images(repository.id, [first.digest, digest_of("none")]),
            await store.count_images(repository.id),
            first,
            second,
            await delete_and_count_leftovers(store, repository),
        )

    v1, v2, v3, got, manifest, existing, count, first, second, leftovers = db.run(body)

    # then the tag moved, the image was recorded once, and its fields read back
    assert isinstance(first, NewImage) and isinstance(second, NewImage) and isinstance(got, Image)
    assert (v1, v2, v3) == (second.digest, first.digest, None)
    assert got == Image(
        digest=first.digest,
        media_type=MANIFEST,
        artifact_type=None,
        size=first.size,
        pushed_ms=got.pushed_ms,
        subject_digest=None,
        tags=("v2",),
    )
    assert abs(got.pushed_ms - now_ms()) < 120_000
    assert manifest == (second.manifest, MANIFEST)
    assert existing == {first.digest}
    assert count == 2
    assert leftovers == {}


async def three_images(store: SqlMetadataStore, name: str) -> tuple[Repository, list[NewImage]]:
    """A repository with an image tagged b and a, one tagged c, and one untagged."""
    (repository,) = await setup(store, name)
    images = [new_image(f"{name}-{n}") for n in range(3)]
    await store.put_image(repository.id, images[0], "b")
    await store.put_image(repository.id, images[0], "a")
    await store.put_image(repository.id, images[1], "c")
    await store.put_image(repository.id, images[2], None)
    return repository, images


def test_list_images_pages_and_filters_by_tag_status(db: Database) -> None:
    async def body(store: SqlMetadataStore) -> tuple[object, ...]:
        # given images with two tags, one tag and none
        repository, images = await three_images(store, "images/list")
        # when each status is listed one entry at a time
        listed = {}
        for status in ("ANY", "TAGGED", "UNTAGGED"):
            entries: list[tuple[str, str | None]] = []
            after: tuple[str, str] | None = None
            while page := await store.list_images(repository.id, status, after, 1):
                entries += page
                after = (page[-1][0], page[-1][1] or "")
            listed[status] = entries
        return images, listed, await delete_and_count_leftovers(store, repository)

    images, listed, leftovers = db.run(body)

    # then there is one entry per tag and one per untagged image, ordered, each status filtered
    assert isinstance(images, list) and isinstance(listed, dict)
    tagged = sorted([(images[0].digest, "a"), (images[0].digest, "b"), (images[1].digest, "c")])
    assert listed["TAGGED"] == tagged
    assert listed["UNTAGGED"] == [(images[2].digest, None)]
    assert listed["ANY"] == sorted(
        [*tagged, (images[2].digest, None)], key=lambda e: (e[0], e[1] or "")
    )
    assert leftovers == {}


def test_describe_images_pages_and_filters_by_tag_status(db: Database) -> None:
    async def body(store: SqlMetadataStore) -> tuple[object, ...]:
        # given images with two tags, one tag and none
        repository, images = await three_images(store, "images/describe")
        # when each status is described one image at a time, and two digests are asked for
        described = {}
        for status in ("ANY", "TAGGED", "UNTAGGED"):
            found: list[tuple[str, tuple[str, ...]]] = []
            after: str | None = None
            while page := await store.describe_images(repository.id, None, status, after, 1):
                found += [(image.digest, image.tags) for image in page]
                after = page[-1].digest
            described[status] = found
        chosen = await store.describe_images(
            repository.id, [images[2].digest, images[0].digest, digest_of("none")], "ANY", None, 10
        )
        picked = [(image.digest, image.tags) for image in chosen]
        return images, described, picked, await delete_and_count_leftovers(store, repository)

    images, described, picked, leftovers = db.run(body)

    # then images come in digest order with their tags sorted, filtered by status
    assert isinstance(images, list) and isinstance(described, dict)
    everything = {
        images[0].digest: ("a", "b"),
        images[1].digest: ("c",),
        images[2].digest: (),
    }
    assert described["ANY"] == sorted(everything.items())
    assert described["TAGGED"] == sorted((d, t) for d, t in everything.items() if t)
    assert described["UNTAGGED"] == [(images[2].digest, ())]
    assert picked == sorted((d, everything[d]) for d in (images[0].digest, images[2].digest))
    assert leftovers == {}


def test_delete_image_cascades_to_its_tags_and_references(db: Database) -> None:
    layer, config = digest_of("del-layer"), digest_of("del-config")

    async def body(store: SqlMetadataStore) -> tuple[object, ...]:
        # given an image with tags and references, and an index over it and another image
        (repository,) = await setup(store, "images/delete")
        for blob in (layer, config):
            await store.link_blob(repository.id, blob, 5)
        image = new_image("child", [layer], config)
        sibling = new_image("sibling")
        index = new_image("index", children=[image.digest, sibling.digest])
        await store.put_image(repository.id, image, "one")
        await store.put_image(repository.id, image, "two")
        await store.put_image(repository.id, sibling, None)
        await store.put_image(repository.id, index, "multi")
        parents_before = await store.parents_of(repository.id, image.digest)
        # when the image is deleted, then the index
        await store.delete_image(repository.id, image.digest)
        after_image = (
            await store.get_image(repository.id, image.digest),
            await store.image_digest_for_tag(repository.id, "one"),
            await store.list_tags(repository.id, None, 10),
            await store.layer_access(ACCOUNT, "images/delete", layer),
            await store.count_images(repository.id),
        )
        await store.delete_image(repository.id, index.digest)
        parents_after = await store.parents_of(repository.id, sibling.digest)
        return (
            index.digest,
            parents_before,
            after_image,
            parents_after,
            await delete_and_count_leftovers(store, repository),
        )

    index, parents_before, after_image, parents_after, leftovers = db.run(body)

    # then its tags and references went with it (the blob stays linked), and the index's list
    assert parents_before == [index]
    assert after_image == (None, None, ["multi"], LayerAccess(True, True, False), 2)
    assert parents_after == []
    assert leftovers == {}


def test_referrers_are_the_images_whose_subject_is_the_digest(db: Database) -> None:
    async def body(store: SqlMetadataStore) -> tuple[object, ...]:
        # given an image, two artifacts that refer to it and one that refers to another
        (repository,) = await setup(store, "images/referrers")
        subject = new_image("subject")
        await store.put_image(repository.id, subject, "v1")
        signature = new_image("sig", subject=subject.digest, artifact_type="application/sig")
        sbom = new_image("sbom", subject=subject.digest, artifact_type="application/sbom")
        stray = new_image("stray", subject=digest_of("other"), artifact_type="application/x")
        for artifact in (signature, sbom, stray):
            await store.put_image(repository.id, artifact, None)
        # when the subject's referrers are asked for
        found = await store.referrers(repository.id, subject.digest)
        none = await store.referrers(repository.id, sbom.digest)
        expected = sorted(
            (a.digest, a.manifest, a.media_type, a.artifact_type) for a in (signature, sbom)
        )
        return found, none, expected, await delete_and_count_leftovers(store, repository)

    found, none, expected, leftovers = db.run(body)

    # then exactly the two that name it come back, in digest order, with their manifests
    assert found == expected
    assert none == []
    assert leftovers == {}


def test_upload_size_is_compare_and_set(db: Database) -> None:
    upload_id = "00000000-0000-4000-8000-000000000001"

    async def body(store: SqlMetadataStore) -> tuple[object, ...]:
        # given an upload session
        repository, other = await setup(store, "uploads/cas", "uploads/other")
        await store.create_upload(upload_id, repository.id)
        fresh = await store.get_upload(repository.id, upload_id)
        wrong_repository = await store.get_upload(other.id, upload_id)
        # when the size advances, a stale writer tries, and two writers race
        advanced = await store.advance_upload(upload_id, 0, 10)
        stale = await store.advance_upload(upload_id, 0, 20)
        race = await asyncio.gather(
            store.advance_upload(upload_id, 10, 15), store.advance_upload(upload_id, 10, 30)
        )
        raced = await store.get_upload(repository.id, upload_id)
        # and once the digest is verified, no more bytes are recorded
        assert raced is not None
        await store.mark_upload_verified(upload_id, digest_of("done"))
        sealed = await store.advance_upload(upload_id, raced.size, raced.size + 1)
        verified = await store.get_upload(repository.id, upload_id)
        ids = await store.upload_ids(repository.id)
        await store.delete_upload(upload_id)
        gone = await store.get_upload(repository.id, upload_id)
        return (
            fresh,
            wrong_repository,
            advanced,
            stale,
            list(race),
            raced,
            sealed,
            verified,
            ids,
            gone,
            await delete_and_count_leftovers(store, repository, other),
        )

    (fresh, wrong, advanced, stale, race, raced, sealed, verified, ids, gone, leftovers) = db.run(
        body
    )

    # then only a writer that saw the current size wins, exactly one of the racers
    assert isinstance(fresh, Upload) and isinstance(raced, Upload) and isinstance(verified, Upload)
    assert (fresh.id, fresh.size, fresh.digest) == (upload_id, 0, None)
    assert wrong is None
    assert (advanced, stale) == (True, False)
    assert sorted(race) == [False, True]
    assert raced.size == (15 if race[0] else 30)
    assert sealed is False
    assert (verified.size, verified.digest) == (raced.size, digest_of("done"))
    assert ids == [upload_id]
    assert gone is None
    assert leftovers == {}


def test_finish_upload_links_the_blob_once(db: Database) -> None:
    blob = digest_of("finished")
    first_id, second_id = (f"00000000-0000-4000-8000-00000000001{n}" for n in (1, 2))

    async def body(store: SqlMetadataStore) -> tuple[object, ...]:
        # given two verified uploads of the same blob
        (repository,) = await setup(store, "uploads/finish")
        for upload_id in (first_id, second_id):
            await store.create_upload(upload_id, repository.id)
            await store.advance_upload(upload_id, 0, 42)
            await store.mark_upload_verified(upload_id, blob)
        # when both finish, and the first finish is retried (after a crash)
        first = await store.finish_upload(first_id, repository.id, blob, 42)
        second = await store.finish_upload(second_id, repository.id, blob, 42)
        retried = await store.finish_upload(first_id, repository.id, blob, 42)
        return (
            (first, second, retried),
            await store.linked_blob_sizes(repository.id, [blob]),
            await store.upload_ids(repository.id),
            await store.layer_access(ACCOUNT, "uploads/finish", blob),
            await delete_and_count_leftovers(store, repository),
        )

    outcomes, linked, open_uploads, access, leftovers = db.run(body)

    # then the blob is linked once with its size, and both sessions are gone
    assert outcomes == (True, False, False)
    assert linked == {blob: 42}
    assert open_uploads == []
    assert access == LayerAccess(True, True, False)
    assert leftovers == {}


def test_delete_repository_cascades_everything(db: Database) -> None:
    layer = digest_of("cascade-layer")

    async def body(store: SqlMetadataStore) -> tuple[dict[str, int], dict[str, int], object]:
        # given a repository with resource tags, links, images, tags, references,
        # an index, a referrer and an open upload, and a neighbour with an image
        await setup(store)
        repository = await store.create_repository(new_repository("cascade/all"), [("k", "v")])
        neighbour = await store.create_repository(new_repository("cascade/neighbour"), [])
        assert repository is not None and neighbour is not None
        await store.link_blob(repository.id, layer, 9)
        image = new_image("cascade", [layer], layer)
        await store.put_image(repository.id, image, "v1")
        await store.put_image(repository.id, new_image("idx", children=[image.digest]), "multi")
        await store.put_image(repository.id, new_image("ref", subject=image.digest), None)
        await store.create_upload("00000000-0000-4000-8000-000000000021", repository.id)
        await store.link_blob(neighbour.id, layer, 9)
        await store.put_image(neighbour.id, new_image("n", [layer]), "v1")
        # when the repository is deleted
        await store.delete_repository(repository.id)
        remaining = await delete_and_count_leftovers(store)
        neighbour_access = await store.layer_access(ACCOUNT, "cascade/neighbour", layer)
        # and then the neighbour too
        return remaining, await delete_and_count_leftovers(store, neighbour), neighbour_access

    remaining, leftovers, neighbour_access = db.run(body)

    # then only the neighbour's rows remained, untouched, and after it nothing at all
    neighbour_rows = ["repositories", "repository_blobs", "images", "image_tags", "image_blobs"]
    assert remaining == dict.fromkeys(neighbour_rows, 1)
    assert neighbour_access == LayerAccess(True, True, True)
    assert leftovers == {}
