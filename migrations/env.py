"""Alembic environment: runs migrations with the engine of the URL it is given."""

from __future__ import annotations

from alembic import context

from detector.store import (
    aggregate_models,  # noqa: F401  (registers the scaled-out deployment's tables)
    pipeline_models,  # noqa: F401  (registers the pipeline tables)
    review_models,  # noqa: F401  (registers the review tables)
)
from detector.store.db import make_engine
from detector.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table by copying it and dropping the original; with
            # foreign keys on, that drop would cascade to every row referencing it (a
            # case's accounts, decisions, snoozes). The pragma is a no-op inside a
            # transaction, so it is set on the driver's connection before one begins.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
