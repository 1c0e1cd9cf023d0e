"""The schema comes from Alembic, matches the models, and every revision goes back down."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from engine.models import Base
from migrations import current, downgrade, upgrade


def test_head_matches_the_models(db_url):
    eng = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with eng.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    eng.dispose()
    assert diff == []


def test_downgrade_to_base_and_up_again(tmp_path):
    eng = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(eng)
    head = current(eng)
    assert head is not None
    downgrade(eng, "base")
    assert inspect(eng).get_table_names() == ["alembic_version"]
    upgrade(eng)
    assert current(eng) == head
    eng.dispose()
