"""Alembic environment: runs on the connection the engine hands over, or on a URL."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from engine.db.session import normalise_url
from engine.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = normalise_url(config.get_main_option("sqlalchemy.url") or "sqlite:///duban.db")
    engine = create_engine(url)
    with engine.begin() as conn:
        _configure(conn)
    engine.dispose()


def _configure(connection: object) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()
