"""Alembic environment: migrations run on a connection layerport hands over.

``layerport.store.metadata.migrate`` passes an open (sync-facing) connection in
``config.attributes["connection"]``; offline SQL generation is not supported.
"""

from __future__ import annotations

from alembic import context

from layerport.store.metadata.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
