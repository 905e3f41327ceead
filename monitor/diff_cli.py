"""`monitor diff`: its arguments, read by argparse, and its run.

The one command run by hand on big files, waiting for its answer, so it starts lean:
`monitor/__main__.py` sends `monitor diff` here before typer is imported (typer imports
pydantic: ~150 ms), and what only some inputs need (the store and the configuration
for `--doc`, Jinja2 for HTML, json) is imported where it is used. `monitor --help`
lists the command through a typer stub in `monitor/cli.py` that forwards its
arguments here, so they are defined once.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from monitor.diff import Loaded

HELP = "What changed, by CFR paragraph label (moves, word-level detail) and Entity List entry."
FORMATS = ("text", "html", "json")


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="monitor diff", description=HELP)
    parser.add_argument(
        "old",
        nargs="?",
        type=Path,
        metavar="OLD",
        help="old version: FR XML, eCFR XML, CSL CSV or plain text",
    )
    parser.add_argument(
        "new", nargs="?", type=Path, metavar="NEW", help="new version, in the same kind"
    )
    parser.add_argument(
        "--doc",
        metavar="KEY",
        help="the two latest stored versions of a document, e.g. 'ecfr:15 CFR 744.23'",
    )
    parser.add_argument(
        "--config",
        "-c",
        dest="config_path",
        type=Path,
        metavar="FILE",
        help="monitor.yaml (default: $MONITOR_CONFIG, ./monitor.yaml)",
    )
    parser.add_argument(
        "--format", "-f", dest="fmt", choices=FORMATS, default="text", help="text, html or json"
    )
    return parser


def run(argv: list[str], *, own_process: bool = False) -> int:
    """Run `monitor diff` with its arguments; the exit code (2: a one-line error).
    `own_process`: this process exits after it, so the cyclic garbage collector can be
    off: it would rescan the ~100,000 tuples and strings of each side many times over,
    and they hold no cycles."""
    if own_process:
        gc.disable()
    args = parser().parse_args(argv)
    from monitor.diff import DiffInputError, diff_loaded, load_path

    try:
        if args.doc is None:
            if args.old is None or args.new is None:
                raise DiffInputError("give two files, OLD NEW, or --doc KEY")
            result = diff_loaded(load_path(args.old), load_path(args.new))
        else:
            if args.old is not None or args.new is not None:
                raise DiffInputError("give two files, OLD NEW, or --doc KEY, not both")
            result = diff_loaded(*_stored_versions(args.doc, args.config_path))
    except DiffInputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if args.fmt == "json":
        import json

        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    elif args.fmt == "html":
        sys.stdout.write(result.render_html())
    else:  # stored text is fetched text: its escape sequences are shown, not sent
        from monitor.terminal import shown

        sys.stdout.writelines(shown(part) for part in result.text_parts())
    return 0


def _stored_versions(doc: str, config_path: Path | None) -> list[Loaded]:
    """The two latest stored versions of a document (`monitor diff --doc`), loaded."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from monitor.config import load_config
    from monitor.diff import DiffInputError, load_document
    from monitor.document import Document
    from monitor.logs import setup_logging
    from monitor.store import DocumentRow, document_versions
    from monitor.yamlfile import ConfigError

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise DiffInputError(str(exc)) from None
    setup_logging(config)
    url = config.database_url
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    if path is not None and not path.startswith(":memory:") and not Path(path).exists():
        raise DiffInputError(
            f"unknown document key {doc!r}: the store is empty (run monitor check)"
        )
    engine = create_engine(url)  # read only: no migration, no pragma that writes
    try:
        with Session(engine) as session:
            # the columns it needs only: a store a newer version has not migrated yet reads
            columns = select(DocumentRow.id, DocumentRow.key)
            row = session.execute(columns.where(DocumentRow.key == doc)).first()
            if row is None:  # "15 CFR 744.23" for "ecfr:15 CFR 744.23", when unique
                found = session.execute(
                    columns.where(DocumentRow.document_number == doc).limit(2)
                ).all()
                row = found[0] if len(found) == 1 else None
            if row is None:
                raise DiffInputError(
                    f"unknown document key {doc!r} (keys look like "
                    "'ecfr:15 CFR 744.23' or 'fr:2024-25445')"
                )
            versions = document_versions(session, row.id)[-2:]
            key = row.key
    except SQLAlchemyError as exc:
        first = " ".join(str(exc).split("\n")[0].split())
        raise DiffInputError(f"cannot read the store: {first}") from None
    finally:
        engine.dispose()
    if len(versions) < 2:
        raise DiffInputError(f"{key}: only one stored version; nothing to compare yet")
    return [
        load_document(
            Document.model_validate(v.data),
            f"{key} (seen {v.seen_at.isoformat(timespec='seconds')})",
        )
        for v in versions
    ]
