"""The metadata schema: SQLAlchemy Core tables on one MetaData.

Times are integer milliseconds since the epoch (portable between SQLite and
PostgreSQL, exact, and what ECR's epoch timestamps need).  Digests are
``algorithm:hex`` text.  Every child table cascades from its repository, so
deleting a repository is one statement.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

DIGEST = 150  # "sha512:" + 128 hex, with room to spare

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("created_ms", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column(
        "account_id",
        String(12),
        ForeignKey("accounts.account_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_name", String(64), primary_key=True),
    Column("created_ms", BigInteger, nullable=False),
)

user_policies = Table(
    "user_policies",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("user_name", String(64), primary_key=True),
    Column("policy_name", String(128), primary_key=True),
    Column("document", Text, nullable=False),
    ForeignKeyConstraint(
        ["account_id", "user_name"], ["users.account_id", "users.user_name"], ondelete="CASCADE"
    ),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String(128), primary_key=True),
    Column(
        "account_id",
        String(12),
        ForeignKey("accounts.account_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # NULL: the account's root (its admin key); else the IAM-style user the key belongs to.
    Column("user_name", String(64), nullable=True),
    # SigV4 needs the secret itself to recompute signatures, as AWS keeps it.
    Column("secret_access_key", String(128), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_ms", BigInteger, nullable=False),
    # Deleting a user deletes its keys (a NULL user_name, the root's, is not checked).
    ForeignKeyConstraint(
        ["account_id", "user_name"], ["users.account_id", "users.user_name"], ondelete="CASCADE"
    ),
)

server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

repositories = Table(
    "repositories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "registry_id",
        String(12),
        ForeignKey("accounts.account_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(256), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("tag_mutability", String(32), nullable=False),
    Column("tag_mutability_exclusions", Text, nullable=True),  # JSON list of filters
    Column("scan_on_push", Boolean, nullable=False),
    Column("encryption_type", String(16), nullable=False),
    Column("kms_key", String(2048), nullable=True),
    Column("policy", Text, nullable=True),  # the repository policy (SetRepositoryPolicy)
    UniqueConstraint("registry_id", "name"),
)

repository_tags = Table(
    "repository_tags",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("repositories.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
)

blobs = Table(
    "blobs",
    metadata,
    Column("digest", String(DIGEST), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

repository_blobs = Table(
    "repository_blobs",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("repositories.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("digest", String(DIGEST), ForeignKey("blobs.digest"), primary_key=True),
    Column("created_ms", BigInteger, nullable=False),
)

images = Table(
    "images",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("repositories.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("digest", String(DIGEST), primary_key=True),
    Column("manifest", LargeBinary, nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("artifact_type", String(255), nullable=True),
    Column("size", BigInteger, nullable=False),
    Column("pushed_ms", BigInteger, nullable=False),
    Column("subject_digest", String(DIGEST), nullable=True),
    Index(None, "repository_id", "subject_digest"),
)

image_tags = Table(
    "image_tags",
    metadata,
    Column("repository_id", Integer, primary_key=True),
    Column("tag", String(300), primary_key=True),
    Column("image_digest", String(DIGEST), nullable=False),
    ForeignKeyConstraint(
        ["repository_id", "image_digest"],
        ["images.repository_id", "images.digest"],
        ondelete="CASCADE",
    ),
    Index(None, "repository_id", "image_digest"),
)

image_blobs = Table(
    "image_blobs",
    metadata,
    Column("repository_id", Integer, primary_key=True),
    Column("image_digest", String(DIGEST), primary_key=True),
    Column("blob_digest", String(DIGEST), primary_key=True),
    Column("media_type", String(255), nullable=True),
    ForeignKeyConstraint(
        ["repository_id", "image_digest"],
        ["images.repository_id", "images.digest"],
        ondelete="CASCADE",
    ),
    # The hot path of GetDownloadUrlForLayer: "does any image here reference this blob?"
    Index(None, "repository_id", "blob_digest"),
)

image_children = Table(
    "image_children",
    metadata,
    Column("repository_id", Integer, primary_key=True),
    Column("image_digest", String(DIGEST), primary_key=True),
    Column("child_digest", String(DIGEST), primary_key=True),
    ForeignKeyConstraint(
        ["repository_id", "image_digest"],
        ["images.repository_id", "images.digest"],
        ondelete="CASCADE",
    ),
    Index(None, "repository_id", "child_digest"),
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "repository_id",
        Integer,
        ForeignKey("repositories.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("size", BigInteger, nullable=False),
    Column("parts", Integer, nullable=False, server_default="0"),
    # Set once the bytes are verified and being moved into place, so a retried
    # CompleteLayerUpload after a crash can finish without the upload's bytes.
    Column("digest", String(DIGEST), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)
