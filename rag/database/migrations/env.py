"""Alembic's environment: migrations run on the connection `rag.database.engine.upgrade` passes in."""
from alembic import context

from rag.database.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
