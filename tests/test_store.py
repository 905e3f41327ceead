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
        assert store.upsert_document(s, "fr", doc).change == "new"
        s.commit()
    again = store.open_store(url)
    with again.session() as s:
        titles = s.scalars(select(store.DocumentRow.title)).all()
        change = store.upsert_document(s, "fr", doc).change
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


def test_upgrade_from_first_schema_keeps_events(tmp_path):
    """Rows written by the 0001 schema survive the upgrade and get the new defaults."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = store.make_engine(url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(store.MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.exec_driver_sql(
            "INSERT INTO events (dedup_key, kind, score, severity, relevant, reasons, matches,"
            " created_at) VALUES ('new:fr:OLD', 'new_document', 70, 'high', 1, '[]', '{}',"
            " '2025-01-15 00:00:00')"
        )
        connection.exec_driver_sql(  # an outbox row pointing at the event
            "INSERT INTO alerts (event_id, channel, status, attempts, next_attempt_at,"
            " created_at) VALUES (1, 'mail', 'sent', 1, '2025-01-15', '2025-01-15')"
        )
    db = store.open_store(url)
    with db.session() as s:
        event = s.scalar(select(store.EventRow))
        alert = s.scalar(select(store.AlertRow))
    assert (event.dedup_key, event.score, event.payload) == ("new:fr:OLD", 70, {})
    assert (alert.event_id, alert.status) == (event.id, "sent")


def test_inspection_copy_then_published_copy_is_one_document_enriched(tmp_path):
    db = store.open_store(f"sqlite:///{tmp_path / 'pi.db'}")
    filed = Document(document_number="2099-00002", title="Rule", filing_type="special",
                     filed_at="2099-01-10T21:15:00Z", publication_date="2099-01-15")  # fmt: skip
    published = Document(document_number="2099-00002", title="Rule", citation="99 FR 1",
                         abstract="Summary.", publication_date="2099-01-15")  # fmt: skip
    corrected = published.model_copy(update={"title": "Rule (corrected)"})
    with db.session() as s:
        first = store.upsert_document(s, "public-inspection", filed)
        assert first.change == "new" and first.row.document.on_public_inspection
        second = store.upsert_document(s, "fr", published)
        assert second.change == "enriched" and second.changes == {}
        doc = second.row.document
        assert doc.filing_type == "special" and doc.citation == "99 FR 1"
        assert not doc.on_public_inspection
        assert store.upsert_document(s, "fr", published).change is None
        third = store.upsert_document(s, "fr", corrected)
        assert third.change == "changed"
        assert third.changes == {"title": ["Rule", "Rule (corrected)"]}
        rows = s.scalars(select(store.DocumentRow)).all()
        assert len(rows) == 1 and len(store.document_versions(s, rows[0].id)) == 3


def test_published_copy_replaces_provisional_inspection_values_without_a_change(tmp_path):
    db = store.open_store(f"sqlite:///{tmp_path / 'prov.db'}")
    desk = Document(document_number="2099-00003", title="Entity List Additions; Revisions",
                    filed_at="2099-01-10T13:45:00Z", publication_date="2099-01-11")  # fmt: skip
    printed = Document(document_number="2099-00003", title="Additions to the Entity List",
                       citation="99 FR 7", publication_date="2099-01-11",
                       agencies=[{"name": "Commerce Department"},
                                 {"name": "Industry and Security Bureau"}])  # fmt: skip
    feed = Document(document_number="2099-00003", agencies=[{"name": "Commerce Department"}])
    with db.session() as s:
        store.upsert_document(s, "pi", desk)
        published = store.upsert_document(s, "fr", printed)
        assert (published.change, published.changes) == ("enriched", {})
        assert published.row.document.title == "Additions to the Entity List"
        # a feed that names one agency of the two adds nothing and changes nothing
        assert store.upsert_document(s, "rss", feed).change is None


def test_a_story_gains_publishers_and_references_without_a_change(tmp_path):
    db = store.open_store(f"sqlite:///{tmp_path / 'news.db'}")
    first = Document(collection="news", document_number="abc", title="Rescission announced",
                     publisher="Example Trade Wire", related=["2025-00636"])  # fmt: skip
    later = Document(collection="news", document_number="abc", title="Rescission announced",
                     publisher="Export Desk Digest", related=["90 FR 4544"])  # fmt: skip
    with db.session() as s:
        store.upsert_document(s, "news", first)
        sighting = store.upsert_document(s, "news", later)
    assert sighting.change == "enriched"
    doc = sighting.row.document
    assert doc.publisher == "Example Trade Wire, Export Desk Digest"
    assert doc.related == ["2025-00636", "90 FR 4544"]


def test_postgresql_runs_the_migrations_and_the_pipeline(postgres_database, tmp_path, write_config):
    """Any SQLAlchemy URL: the same migrations and idempotence on a real PostgreSQL."""

    from monitor.config import load_config
    from monitor.pipeline import check
    from tests.conftest import write_page

    url = postgres_database
    folder = write_page(tmp_path / "recorded", "2020-10856", "2023-27019")
    config = load_config(
        write_config(
            f"""
            store_url: {url}
            sources:
              - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2016-01-01}}
            """
        )
    )
    first = check(config)
    assert len(first.found) == 2 and first.errors == {}
    assert check(config).found == []
    db = store.open_store(url)
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), store.Base.metadata)
    assert diff == []
    with db.session() as s:
        assert len(s.scalars(select(store.DocumentRow)).all()) == 2
        deadlines = [d.due_on for d, _ in store.open_deadlines(s)]
    assert "2024-03-04" in deadlines  # read from the DATES paragraph of 2023-27019


def test_a_stored_document_is_pending_until_processed_and_a_newer_copy_keeps_it(tmp_path):
    """Storing marks a document pending; clearing the mark after processing the copy
    read at hash H fails once a newer copy was stored meanwhile (that one is next)."""
    db = store.open_store(f"sqlite:///{tmp_path / 'p.db'}")
    first = Document(document_number="2099-00001", title="Entity List additions")
    with db.session() as s:
        row = store.upsert_document(s, "pi", first).row
        s.commit()
        assert store.pending_documents(s) == [row.id]
        assert store.Pending.of(row) == store.Pending("new", {}, False, None)
        read = row.content_hash  # a process_document task read this copy ...
        corrected = first.model_copy(update={"title": "Entity List additions; correction"})
        store.upsert_document(s, "fr", corrected)  # ... and a poll stored a newer one
        s.commit()
        assert not store.done_pending(s, row, read)
        assert store.pending_documents(s, "fr") == [row.id]
        # not processed yet: still the first sighting's change, now with the newer copy
        assert store.Pending.of(row).change == "new"
        assert store.done_pending(s, row, row.content_hash)
        s.commit()
        assert store.pending_documents(s) == [] and store.Pending.of(row) is None


def test_two_changes_before_processing_are_one_change_from_the_processed_copy(tmp_path):
    db = store.open_store(f"sqlite:///{tmp_path / 'p.db'}")
    v1 = Document(document_number="2099-00001", title="one", abstract="a")
    with db.session() as s:
        row = store.upsert_document(s, "fr", v1).row
        assert store.done_pending(s, row, row.content_hash)  # processed
        (processed,) = store.document_versions(s, row.id)
        store.upsert_document(s, "fr", v1.model_copy(update={"title": "two"}))
        store.upsert_document(s, "fr", v1.model_copy(update={"title": "three", "abstract": "b"}))
        pending = store.Pending.of(row)
    assert pending.change == "changed" and pending.version == processed.id
    assert pending.changes == {"title": ["one", "three"], "abstract": ["a", "b"]}


def test_postgresql_a_poll_storing_while_a_document_is_processed_waits_and_keeps_its_change(
    postgres_database,
):
    """A processing locks its document; a poll storing a corrected copy at that moment
    waits for it, then finds the first copy processed: the correction is pending as a
    change of its own, not merged into the first copy's "new" (already reported)."""
    import threading

    from sqlalchemy import text

    from tests.loopback import wait_for

    db = store.open_store(postgres_database)
    first = Document(document_number="2099-00001", title="Entity List additions")
    with db.session() as s:
        doc_id = store.upsert_document(s, "fr", first).row.id
        s.commit()
    processing = db.sessions()
    row = processing.get(store.DocumentRow, doc_id)
    store.lock_document(processing, row)  # as process_pending begins
    corrected = first.model_copy(update={"title": "Entity List additions; correction"})

    def poll() -> None:
        with db.session() as s:
            store.upsert_document(s, "fr", corrected)
            s.commit()

    thread = threading.Thread(target=poll)
    thread.start()
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    with db.engine.connect() as watch:
        wait_for(lambda: watch.execute(waiting).scalar(), "the poll waiting for the lock")
    assert store.done_pending(processing, row, row.content_hash)
    processing.commit()
    processing.close()
    thread.join(timeout=30)
    with db.session() as s:
        pending = store.Pending.of(s.get(store.DocumentRow, doc_id))
    assert pending.change == "changed"
    assert pending.changes == {"title": ["Entity List additions", corrected.title]}
