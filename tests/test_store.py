"""The schema comes from migrations, matches the models, and keeps data on upgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from monitor import store
from monitor.document import Document


def test_migrations_match_the_models(tmp_path):
    db = store.open_store(f"sqlite:///{tmp_path / 'm.db'}")
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), store.Base.metadata)
    assert diff == []
    assert "alembic_version" in inspect(db.engine).get_table_names()


def test_reopening_upgrades_in_place_and_keeps_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'keep.db'}"
    db = store.open_store(url)
    doc = Document(document_number="2099-00001", title="kept")
    with db.session() as s:
        _, change = store.upsert_document(s, "fr", doc)
        s.commit()
    assert change == "new"
    again = store.open_store(url)
    with again.session() as s:
        titles = s.scalars(select(store.DocumentRow.title)).all()
        _, change = store.upsert_document(s, "fr", doc)
    assert titles == ["kept"] and change is None


def test_event_and_alert_keys_are_unique(tmp_path):
    db = store.open_store(f"sqlite:///{tmp_path / 'u.db'}")
    with db.session() as s:
        first = store.add_event(s, dedup_key="new:fr:X", kind="new_document")
        assert first is not None
        assert store.add_event(s, dedup_key="new:fr:X", kind="new_document") is None
        assert store.add_alert(s, first.id, "slack") is not None
        assert store.add_alert(s, first.id, "slack") is None
        assert store.add_alert(s, first.id, "email") is not None
        s.commit()
