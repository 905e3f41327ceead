"""The `monitor` command line: thin wrappers over the pipeline, no logic of their own."""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from monitor import __version__, diff_cli
from monitor.terminal import cell, shown

# Each command imports what it uses, so that one does not pay for the others (~1 s of
# imports); `monitor diff` runs without this module and typer: see monitor/__main__.py
if TYPE_CHECKING:  # pragma: no cover
    from monitor.config import Config
    from monitor.document import Document
    from monitor.pipeline import CheckReport
    from watchers import SourceOptions

app = typer.Typer(
    help="Watch US export-control changes and score them against your chips and customers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
STARTER = Path(__file__).parent / "starter.yaml"


class _LazyConsole:
    """A rich Console made on first use (importing rich alone takes ~25 ms)."""

    def __init__(self, stderr: bool) -> None:
        self.stderr = stderr
        self.console: Any = None

    def get(self) -> Any:
        if self.console is None:
            from rich.console import Console

            # no emoji codes either: "monitor.yaml:100: ..." is a file and a line, not 💯
            if self.stderr:
                self.console = Console(stderr=True, emoji=False)
            else:  # a pipe or CI log has no width; a table of titles and reasons needs more
                wide = Console().is_terminal or "COLUMNS" in os.environ  # than 80 columns
                self.console = Console(width=None if wide else 150, emoji=False)
        return self.console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


out = _LazyConsole(stderr=False)
err = _LazyConsole(stderr=True)


class Format(StrEnum):
    table = "table"
    json = "json"


ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="monitor.yaml (default: $MONITOR_CONFIG, ./monitor.yaml)"),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table or json")]


def fail(message: str, code: int = 2) -> typer.Exit:
    say(f"error: {message}")
    return typer.Exit(code)


def _write(path: Path, data: bytes) -> None:
    """Write an output file, or fail in one line (a full disk, a folder not there)."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise fail(f"{path}: cannot write ({exc.strerror})") from None


def say(line: str) -> None:
    """One line on stderr (a note, an error): data in it is never markup or a control."""
    err.print(shown(line, lines=False), highlight=False, markup=False, soft_wrap=True)


def _config(path: Path | None) -> Config:
    from monitor.config import load_config
    from monitor.logs import setup_logging
    from monitor.yamlfile import ConfigError

    try:
        config = load_config(path)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    setup_logging(config)
    return config


def run() -> None:
    """The `monitor` command: the app, with a store that cannot be opened or written (a
    corrupt file, a read-only, missing or full disk) and a bad configuration reported in
    one line, exit 2, wherever in a command they happen."""
    from monitor.store import StoreError
    from monitor.yamlfile import ConfigError

    try:
        app()
    except (StoreError, ConfigError) as exc:
        raise SystemExit(fail(str(exc)).exit_code) from None


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", help="print the version and exit")] = False,
) -> None:
    if version:
        out.print(f"regmonitor {__version__}")
        raise typer.Exit()


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="where to write the starter file")] = Path(
        "monitor.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
) -> None:
    """Write a commented starter monitor.yaml."""
    if path.exists() and not force:
        raise fail(f"{path} exists; use --force to overwrite it")
    _write(path, STARTER.read_bytes())
    out.print(cell(f"wrote {path}: edit sources, portfolio and channels, then run monitor check"))


def _since(value: str | None, option: str = "--since") -> date | None:
    from watchers import parse_since

    if value is None:
        return None
    try:
        return parse_since(value)
    except ValueError as exc:
        raise fail(f"{option}: {exc}") from None


@app.command("check")
def check_cmd(
    config_path: ConfigOpt = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="only this source (repeatable)")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="look back to this date (YYYY-MM-DD or 30d) this time")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="fetch and score, store nothing, send nothing")
    ] = False,
    fmt: FormatOpt = Format.table,
    limit: Annotated[int, typer.Option(help="table rows to show (0: all)")] = 25,
) -> None:
    """Poll the sources once, store and score what is new, and send the alerts."""
    from monitor.pipeline import check
    from monitor.yamlfile import ConfigError

    config = _config(config_path)
    since_date = _since(since)
    try:
        with _progress(fmt) as progress:
            report = check(
                config, only=source, since=since_date, dry_run=dry_run, progress=progress
            )
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if fmt is Format.json:
        out.print_json(json.dumps(_report_json(report)))
    else:
        _print_report(report, limit)
    if not (config.portfolio.chips or config.portfolio.customers):
        say("warning: the portfolio is empty, so no document can touch it and nothing alerts; "
            "set portfolio: in the configuration (monitor init writes a starter)")  # fmt: skip
    if report.errors:
        raise typer.Exit(1)


class _progress:
    """A progress bar on stderr for long runs at a terminal; silent otherwise."""

    def __init__(self, fmt: Format) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err.get(),
                transient=True,
            )
            if err.is_terminal and fmt is Format.table
            else None
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self):
        if self.bar is None:
            return None
        self.bar.start()
        return self.update

    def update(self, source: str, done: int, total: int) -> None:
        if source not in self.tasks:
            self.tasks[source] = self.bar.add_task(f"processing {source}", total=total)
        self.bar.update(self.tasks[source], completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


CHANGED_KINDS = ("document_changed", "rule_text_changed")


def _agency(doc: Document) -> str:
    return doc.agency_names[-1] if doc.agency_names else ""


def _report_json(report: CheckReport) -> dict[str, Any]:
    return {
        "dry_run": report.dry_run,
        "new": [
            {
                "kind": f.kind,
                "source": f.source,
                "publication_date": _iso(f.document.publication_date),
                "agency": _agency(f.document),
                "title": f.document.title,
                "url": f.document.url,
                "alerts": f.alerts,
                **f.score.to_json(),
            }
            for f in _ranked(report)
        ],
        "fetched": report.fetched,
        "errors": report.errors,
        "health": report.health,
        "notes": report.notes,
        "alerts": {
            "sent": report.sent,
            "failed": report.failed,
            "pending": report.pending,
            "held_for_digest": report.held,
        },
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _ranked(report: CheckReport) -> list:
    return sorted(
        report.found,
        key=lambda f: (f.score.score, _iso(f.document.publication_date) or ""),
        reverse=True,
    )


SEVERITY_STYLE = {
    "critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim",
}  # fmt: skip


def _print_report(report: CheckReport, limit: int) -> None:
    from rich.table import Table

    for name, message in report.errors.items():
        say(f"source {name} failed: {message}")
    for event in report.health:
        say(f"health: {event}")
    for note in report.notes:
        say(f"note: {note}")
    fetched = sum(report.fetched.values())
    nsrc = len(report.fetched)
    if not report.found:
        out.print(
            f"Nothing new: fetched {fetched} document{'s' * (fetched != 1)} from {nsrc} "
            f"source{'s' * (nsrc != 1)}; all already known."
            + (" (dry run)" if report.dry_run else "")
        )
    else:
        ranked = _ranked(report)
        top = ranked[:limit] if limit else ranked
        table = Table(title=f"New in the Federal Register ({len(ranked)})", title_justify="left")
        table.add_column("Score", justify="right")
        table.add_column("Number", no_wrap=True)
        table.add_column("Date", no_wrap=True)
        table.add_column("Agency", max_width=22)
        table.add_column("Title", ratio=3)
        table.add_column("Why", ratio=2)
        for f in top:
            table.add_row(
                cell(f"{f.score.score} {f.score.severity}", SEVERITY_STYLE[f.score.severity]),
                cell(f.document.document_number + (" (changed)" * (f.kind in CHANGED_KINDS))),
                cell(_iso(f.document.publication_date)),
                cell(_agency(f.document)),
                cell(f.document.title or "(untitled)"),
                cell(f.score.why),
            )
        out.print(table)
        relevant = sum(f.score.relevant for f in ranked)
        more = f"; showing the top {len(top)}" if len(top) < len(ranked) else ""
        out.print(
            f"{len(ranked)} new of {fetched} fetched, {relevant} relevant{more}."
            + (" Dry run: nothing stored or sent." if report.dry_run else "")
        )
    if not report.dry_run:
        out.print(
            f"Alerts: {report.sent} sent, {report.pending} pending retry, {report.failed} failed"
            + (f"; {report.held} waiting for the weekly digest." if report.held else ".")
        )


def _when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _next_run(source: SourceOptions) -> datetime:
    from monitor.deadlines import FR_ZONE
    from monitor.schedule import next_run

    return next_run(source.name, source.schedule, source.every_minutes, source.jitter_seconds,
                    datetime.now(FR_ZONE))  # fmt: skip


def _describe_schedule(source: SourceOptions) -> str:
    if source.schedule:
        return f"{', '.join(source.schedule)} US Eastern on publication days"
    return f"every {source.every_minutes:g} min"


@app.command()
def status(config_path: ConfigOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Each source's health (last success, last error, failures in a row) and the outbox."""
    from rich.table import Table
    from sqlalchemy.engine import make_url

    from monitor.store import (
        alert_counts,
        document_count,
        open_store,
        pending_documents,
        source_rows,
    )
    from watchers import WATCHERS

    config = _config(config_path)
    db = open_store(config.database_url)
    with db.session() as session:
        rows = source_rows(session)
        alerts = alert_counts(session)
        documents = document_count(session)
        waiting = len(pending_documents(session))
    sources = []
    for source in config.sources:
        row = rows.get(source.name)
        sources.append(
            {
                "name": source.name,
                "kind": source.kind,
                "enabled": source.enabled,
                "last_run": _when(row.last_run_at) if row else None,
                "last_success": _when(row.last_success_at) if row else None,
                "consecutive_failures": row.consecutive_failures if row else 0,
                "last_error": row.last_error if row and row.consecutive_failures else None,
                "cursor": row.cursor.get("last_publication_date") if row else None,
                "next_run": _when(_next_run(source)) if source.enabled else None,
                "schedule": _describe_schedule(source),
                **(
                    {"texts": counts(row.cursor if row else {})}
                    if (counts := WATCHERS[source.kind].texts)
                    else {}
                ),
            }
        )
    data = {
        "store": make_url(config.database_url).render_as_string(hide_password=True),
        "documents": documents,
        "documents_pending": waiting,  # stored, events not recorded yet
        "alerts": {k: alerts.get(k, 0) for k in ("pending", "sent", "failed")},
        "sources": sources,
    }
    if fmt is Format.json:
        out.print_json(json.dumps(data))
        return
    table = Table(title="Sources", title_justify="left")
    for col in ("Source", "Kind", "Health", "Last success", "Newest date", "Next run", "Schedule"):
        table.add_column(col)
    for s in sources:
        if s["consecutive_failures"]:  # the error is a server's words: data, not markup
            health = cell(f"failing ({s['consecutive_failures']}): {s['last_error']}", "red")
        else:
            health = cell("ok", "green") if s["last_success"] else cell("never run")
        table.add_row(
            cell(s["name"]), cell(s["kind"]), health, cell(s["last_success"] or "-"),
            cell(s["cursor"] or "-"), cell(s["next_run"] or "disabled"), cell(s["schedule"]),
        )  # fmt: skip
    out.print(table)
    for s in sources:
        if "texts" in s:
            t = s["texts"]
            what = "inspection texts" if s["kind"] == "public_inspection" else "full texts"
            out.print(f"{s['name']}: {what} {t['read']} read, {t['pending']} to retry, "
                      f"{t['failed']} given up", highlight=False, markup=False)  # fmt: skip
    counts = data["alerts"]
    out.print(
        cell(
            f"Store {data['store']}: {documents} documents"
            + (f" ({waiting} waiting to be processed)" if waiting else "")
            + f"; alerts {counts['sent']} sent, "
            f"{counts['pending']} pending, {counts['failed']} failed."
        )
    )


@app.command()
def deadlines(
    config_path: ConfigOpt = None,
    days: Annotated[int, typer.Option(help="look this many days ahead")] = 90,
    everything: Annotated[
        bool, typer.Option("--all", help="include documents below the alert threshold")
    ] = False,
    ics: Annotated[Path | None, typer.Option(help="also write an iCalendar file here")] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="start here instead of today (YYYY-MM-DD)")
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Upcoming comment, effective and compliance dates of the documents that matter."""
    from rich.table import Table

    from monitor.deadlines import fr_today, not_live
    from monitor.ics import CalendarEntry, to_ics
    from monitor.scoring import score_of
    from monitor.store import open_deadlines, open_store

    config = _config(config_path)
    today = _since(start, "--from") or fr_today()
    until = today + timedelta(days=days)
    db = open_store(config.database_url)
    rows = []
    with db.session() as session:
        for deadline, row in open_deadlines(session, today.isoformat(), until.isoformat()):
            doc = row.document
            dead = not_live(deadline.kind, doc.document_number, date.fromisoformat(deadline.due_on))
            score = score_of(config, doc)
            if everything or (score.relevant and not dead):
                rows.append((deadline, doc, score))
    entries = [
        CalendarEntry(
            doc.key,
            doc.document_number,
            d.kind,
            date.fromisoformat(d.due_on),
            doc.title or doc.document_number,
            doc.url,
            d.text,
        )
        for d, doc, _ in rows
    ]
    if ics is not None:
        _write(ics, to_ics(entries))
    if fmt is Format.json:
        out.print_json(json.dumps([
            {"document_number": e.document_number, "kind": e.kind, "due": e.due.isoformat(),
             "days_left": (e.due - today).days, "title": e.title, "url": e.url,
             "score": s.score, "relevant": s.relevant}
            for e, (_, _, s) in zip(entries, rows, strict=True)
        ]))  # fmt: skip
        return
    table = Table(title=f"Deadlines from {today} to {until} (US Eastern)", title_justify="left")
    for col in ("Due", "In", "Kind", "Number", "Score", "Title"):
        table.add_column(col)
    for entry, (_, _, score) in zip(entries, rows, strict=True):
        left = (entry.due - today).days
        table.add_row(cell(entry.due.isoformat()), cell("today" if left == 0 else f"{left} d"),
                      cell(entry.kind), cell(entry.document_number), cell(score.score),
                      cell(entry.title))  # fmt: skip
    out.print(table if entries else "No upcoming deadlines.")
    if ics is not None:
        out.print(cell(f"Wrote {len(entries)} deadline(s) to {ics}"))


class DigestFormat(StrEnum):
    text = "text"
    json = "json"


@app.command("digest")
def digest_cmd(
    config_path: ConfigOpt = None,
    since: Annotated[
        str, typer.Option(help="start of the period: 7d (the last 7 days) or YYYY-MM-DD")
    ] = "7d",
    html_out: Annotated[
        Path | None, typer.Option("--out", help="also write the HTML digest to this file")
    ] = None,
    deliver: Annotated[
        bool,
        typer.Option(
            "--send", help="send this week's digest to each digest channel (once per week)"
        ),
    ] = False,
    fmt: Annotated[
        DigestFormat, typer.Option("--format", "-f", help="text or json")
    ] = DigestFormat.text,
) -> None:
    """The digest of a period: top events, deadlines, rule-text changes, news, source health."""
    from monitor.alerts import load_templates
    from monitor.digest import build_digest, period_start, render_digest
    from monitor.store import open_store
    from monitor.yamlfile import ConfigError

    config = _config(config_path)
    try:
        start = period_start(since)
    except ValueError as exc:
        raise fail(f"--since: {exc}") from None
    try:
        templates = load_templates(config.alerting.templates_dir)
        db = open_store(config.database_url)
        with db.session() as session:
            made = build_digest(session, config, start)
        text = render_digest(templates, "text", made)
        html = render_digest(templates, "email", made) if html_out else None
    except (ConfigError, ValueError) as exc:
        raise fail(str(exc)) from None
    if html is not None:
        _write(html_out, html.body.encode("utf-8"))
        say(f"wrote {html_out}")
    try:
        deliveries = _send_digest(config, templates, db) if deliver else []
    except ConfigError as exc:
        raise fail(str(exc)) from None
    for d in deliveries:
        say(
            f"{d['channel']} ({d['format']}): {d['status']}"
            + (f": {d['error']}" * bool(d["error"]))
        )
    if deliver and not deliveries:
        say("no enabled channels to send the digest to")
    if fmt is DigestFormat.json:
        sys.stdout.write(json.dumps({**made.to_json(), "title": text.title,
                                     "deliveries": deliveries}, indent=2) + "\n")  # fmt: skip
    else:
        sys.stdout.write(shown(text.body))
    if any(not d["ok"] for d in deliveries):
        raise typer.Exit(1)


DIGEST_OUTCOME = {  # pipeline.Delivered status -> (ok, what `monitor digest --send` says)
    "sent": (True, "sent"),
    "skipped": (True, "sent already this week"),
    "pending": (False, "failed, retried later"),
    "failed": (False, "failed"),
}


def _send_digest(config: Any, templates: Any, db: Any) -> list[dict[str, Any]]:
    """This week's digest of each digest channel, through the outbox: written once per
    channel and week, sent once; a failure stays pending and is retried."""
    from monitor.channels import channel_format
    from monitor.pipeline import deliver_alert, digest_pass

    channels = {c.name: c for c in config.channels}
    deliveries = []
    for row in digest_pass(db, config):
        channel = channels[row.channel]
        done = deliver_alert(db, config, templates, row.id)
        ok, status = DIGEST_OUTCOME[done.status]
        deliveries.append({
            "channel": channel.name, "format": channel_format(channel.url.get_secret_value(),
            channel.format), "ok": ok, "status": status, "error": None if ok else done.reason,
        })  # fmt: skip
    return deliveries


# the headings a names file's columns go by, preferred first (a CRM or ERP export
# rarely says plain "name"); a first row with none of them is data
HEADINGS = {
    "name": ("name", "customer name", "company name", "legal name", "entity name",
             "party name", "customer", "company", "entity", "party", "consignee", "end user"),
    "country": ("country", "country code", "country name", "iso country", "nation"),
    "address": ("address", "addresses", "street address", "full address"),
}  # fmt: skip


def _screen_rows(path: Path) -> list[tuple[str, str | None, str | None]]:
    """(name, country, address) rows of a CSV: columns by heading (`HEADINGS`), else
    names in the first column."""
    import csv
    import io

    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise fail(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{path}: cannot read names ({exc})") from None
    try:
        rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise fail(f"{path}: not valid CSV ({exc})") from None
    header = [" ".join(c.casefold().replace("_", " ").replace("-", " ").split())
              for c in rows[0]] if rows else []  # fmt: skip
    cols: dict[str, int | None] = {"name": 0, "country": None, "address": None}
    found = {k: next((header.index(h) for h in names if h in header), None)
             for k, names in HEADINGS.items()}  # fmt: skip
    if any(i is not None for i in found.values()):
        cols.update({k: i for k, i in found.items() if i is not None})
        rows = rows[1:]

    def cell(row: list[str], key: str) -> str | None:
        i = cols[key]
        return row[i].strip() or None if i is not None and i < len(row) else None

    return [(n, cell(r, "country"), cell(r, "address")) for r in rows if (n := cell(r, "name"))]


@app.command("screen")
def screen_cmd(
    name: Annotated[str | None, typer.Argument(help="the name to screen")] = None,
    portfolio: Annotated[
        Path | None, typer.Option(help="portfolio file or folder (default: the config's)")
    ] = None,
    config_path: ConfigOpt = None,
    fmt: FormatOpt = Format.table,
    names_file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="CSV of names: a `name` (or `customer`, `company`...) column, else the"
            " first; `country`, `address`",
        ),
    ] = None,
    country: Annotated[
        str | None, typer.Option(help="the name's country (ISO code or name), to corroborate")
    ] = None,
    threshold: Annotated[
        int | None, typer.Option(min=0, max=100, help="lowest score reported (default 88)")
    ] = None,
) -> None:
    """Match names to portfolio customers (legal forms, pinyin, look-alikes) and say why."""
    from rich.table import Table

    from monitor.portfolio import load_portfolio
    from monitor.screening import Screener
    from monitor.yamlfile import ConfigError

    if name is None and names_file is None:
        raise fail("give a NAME to screen, or --file names.csv")
    if name is not None and names_file is not None:
        raise fail("give a NAME or --file, not both")
    config = _config(config_path) if portfolio is None or config_path else None
    try:
        chosen = load_portfolio(portfolio) if portfolio else config.portfolio
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if not chosen.customers:
        raise fail("the portfolio has no customers (give --portfolio or set portfolio:)")
    rows = _screen_rows(names_file) if names_file else [(name, country, None)]
    screener = Screener(chosen, **({} if threshold is None else {"threshold": threshold}))
    results = [
        screener.screen_json(query, country=where or country, address=address)
        for query, where, address in rows
    ]
    if fmt is Format.json:
        data = results if names_file else results[0]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    table = Table()
    for col in ("Query", "Customer", "Score", "Why"):
        table.add_column(col)
    for result in results:
        if not result["matches"]:
            table.add_row(cell(result["query"]), "-", "", "no match")
        for m in result["matches"]:
            table.add_row(cell(result["query"]), cell(m["customer_id"]), cell(m["score"]),
                          cell("\n".join(m["reasons"]), lines=True))  # fmt: skip
    out.print(table)


alerts_app = typer.Typer(
    help="The outbox: list alerts (monitor alerts), re-queue failed ones (monitor alerts retry).",
    add_completion=False,
)
app.add_typer(alerts_app, name="alerts")


def _alert_row(alert: Any, event: Any, doc: Any, secrets: list[str]) -> dict[str, Any]:
    from monitor.redact import scrub

    payload = (event.payload or {}) if event is not None else {}
    title = doc.title if doc is not None else None
    if doc is None and payload.get("source"):
        title = f"source {payload['source']}"
    if event is None:  # a channel's weekly digest
        title = f"digest of {alert.payload['since'][:10]} to {alert.payload['until'][:10]}"
    return {
        "id": alert.id,
        "created": _when(alert.created_at),
        "channel": alert.channel,
        "status": alert.status,
        "attempts": alert.attempts,
        "last_error": scrub(alert.last_error, secrets) if alert.last_error else None,
        "next_attempt": _when(alert.next_attempt_at) if alert.status == "pending" else None,
        "sent_at": _when(alert.sent_at),
        "route": alert.route,
        "message": alert.carrier_id,
        "event_id": event.id if event is not None else None,
        "event_kind": event.kind if event is not None else "digest",
        "severity": event.severity if event is not None else None,
        "document_number": doc.document_number if doc is not None else None,
        "title": title,
    }


def _via(row: dict[str, Any]) -> str:
    """Which message carries an alert: its own, another row's (grouped, digest), none yet."""
    if row["message"] is None:
        return "next digest" if row["route"] == "digest" else "to group"
    return "" if row["message"] == row["id"] else f"in #{row['message']}"


@alerts_app.callback(invoke_without_command=True)
def alerts_list(
    ctx: typer.Context,
    config_path: ConfigOpt = None,
    failed: Annotated[bool, typer.Option("--failed", help="only failed alerts")] = False,
    pending: Annotated[bool, typer.Option("--pending", help="only pending alerts")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """List the outbox, newest first: channel, status, attempts, last error, event, document."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from monitor.logs import config_secrets
    from monitor.store import list_alerts, open_store

    config = _config(config_path)
    statuses = [name for name, on in (("failed", failed), ("pending", pending)) if on]
    secrets = config_secrets(config)
    db = open_store(config.database_url)
    with db.session() as session:
        rows = [_alert_row(*found, secrets) for found in list_alerts(session, statuses or None)]
    if fmt is Format.json:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    if not rows:
        out.print("No alerts" + (f" ({' or '.join(statuses)})" if statuses else "") + ".")
        return
    table = Table(title=f"Alerts ({len(rows)}), newest first", title_justify="left")
    narrow = ("ID", "Created", "Status", "Via", "Tries", "Number")
    for col in ("ID", "Created", "Channel", "Status", "Via", "Tries", "Last error", "Event"):
        table.add_column(col, no_wrap=col in narrow)
    table.add_column("Number", no_wrap=True)
    table.add_column("Title", ratio=2)
    style = {"sent": "green", "pending": "yellow", "failed": "red"}
    for r in rows:
        table.add_row(
            cell(r["id"]), cell(r["created"]), cell(r["channel"]),
            cell(r["status"], style.get(r["status"], "")), cell(_via(r)), cell(r["attempts"]),
            cell(r["last_error"]), cell(r["event_kind"]), cell(r["document_number"]),
            cell(r["title"]),
        )  # fmt: skip
    out.print(table)


@alerts_app.command("retry")
def alerts_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="alert IDs, as `monitor alerts` lists them")
    ] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="every failed alert")] = False,
    config_path: ConfigOpt = None,
) -> None:
    """Re-queue failed alerts (attempts kept), then deliver every alert that is due."""
    from monitor.alerts import load_templates
    from monitor.pipeline import CheckReport, deliver_due
    from monitor.store import list_alerts, open_store, requeue
    from monitor.yamlfile import ConfigError

    if not ids and not all_failed:
        raise fail("give alert IDs, or --all-failed")
    if ids and all_failed:
        raise fail("give alert IDs or --all-failed, not both")
    config = _config(config_path)
    try:
        templates = load_templates(config.alerting.templates_dir)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    db = open_store(config.database_url)
    notes = []
    with db.session() as session:
        if ids:
            known = {a.id: a for a, _, _ in list_alerts(session, ids=ids)}
            missing = [str(i) for i in dict.fromkeys(ids) if i not in known]
            if missing:
                raise fail(f"no alert with ID {', '.join(missing)} (see monitor alerts)")
            for alert in (known[i] for i in dict.fromkeys(ids)):
                if alert.status == "sent":
                    notes.append(f"alert {alert.id} was sent already: not sent again")
                elif alert.status == "pending":
                    notes.append(f"alert {alert.id} is pending already: it goes when due "
                                 f"({_when(alert.next_attempt_at)})")  # fmt: skip
        requeued = [(row.id, row.channel) for row in requeue(session, ids or None)]
        session.commit()
    enabled = {c.name for c in config.channels if c.enabled}
    for alert_id, channel in requeued:
        gone = "" if channel in enabled else f"; channel {channel} is not enabled: it waits"
        notes.append(f"alert {alert_id} re-queued{gone}")
    for note in notes:
        say(note)
    report = CheckReport()
    deliver_due(db, config, templates, report)
    out.print(
        cell(
            f"Re-queued {len(requeued)}. Delivered what was due: {report.sent} sent, "
            f"{report.pending} pending retry, {report.failed} failed."
        )
    )
    if report.pending or report.failed:
        raise typer.Exit(1)


@app.command(
    "diff",
    help=diff_cli.HELP,
    add_help_option=False,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def diff_cmd(ctx: typer.Context) -> None:
    # `monitor diff` runs from monitor/__main__.py without typer; this entry lists it in
    # `monitor --help` and runs it with the same arguments when the app is called
    raise typer.Exit(diff_cli.run(ctx.args))


def _exec_celery(config_path: Path | None, args: list[str], store: bool = True) -> None:
    """Replace this process with celery running monitor.tasks on the same monitor.yaml."""
    from monitor.alerts import load_templates
    from monitor.config import CONFIG_ENV, find_config
    from monitor.store import open_store

    config = _config(config_path)  # a configuration error stops here, in one line (exit 2)
    load_templates(config.alerting.templates_dir)  # and so does a broken template
    if store:  # and a store that cannot be opened (the worker's)
        open_store(config.database_url).engine.dispose()
    env = dict(os.environ)
    path = find_config(config_path)
    if path is not None:  # the worker's and beat's processes read the same file
        env[CONFIG_ENV] = str(path.resolve())
    argv = [sys.executable, "-m", "celery", "-A", "monitor.tasks", *args]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, env)


LogLevelOpt = Annotated[str, typer.Option("--loglevel", "-l", help="DEBUG, INFO, WARNING")]


@app.command()
def worker(
    config_path: ConfigOpt = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="worker processes (default: one per CPU)")
    ] = None,
    loglevel: LogLevelOpt = "INFO",
) -> None:
    """Run a Celery worker: polls, deliveries, deadline scans, digests. Scale these out."""
    args = ["worker", "--loglevel", loglevel]
    if concurrency:
        args += ["--concurrency", str(concurrency)]
    _exec_celery(config_path, args)


@app.command()
def beat(config_path: ConfigOpt = None, loglevel: LogLevelOpt = "INFO") -> None:
    """Run Celery beat: the schedule from monitor.yaml. One runs at a time (a Redis lock)."""
    config = _config(config_path)
    try:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"{config.data_dir}: cannot create the data directory ({exc.strerror}):"
                   " create it, or set data_dir to a folder you can write") from None  # fmt: skip
    state = config.data_dir / "celerybeat-schedule"
    scheduler = "monitor.tasks:LockedScheduler"
    args = ["beat", "--loglevel", loglevel, "--scheduler", scheduler, "--schedule", str(state)]
    _exec_celery(config_path, args, store=False)


def _load_records(path: Path) -> list[Document]:
    from monitor.document import Document

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise fail(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise fail(f"{path}: not valid JSON ({exc})") from None
    records = data.get("results") if isinstance(data, dict) and "results" in data else data
    records = records if isinstance(records, list) else [records]
    docs = []
    for i, raw in enumerate(records):
        try:
            docs.append(Document.model_validate(raw))
        except ValueError as exc:
            first = " ".join(str(exc).split("\n")[1:3]).strip()
            raise fail(f"{path}: record {i} is not a Federal Register document: {first}") from None
    return docs


@app.command()
def score(
    files: Annotated[list[Path], typer.Argument(help="FR API JSON: result objects or pages")],
    portfolio: Annotated[
        Path | None, typer.Option(help="portfolio file or folder (default: the config's)")
    ] = None,
    config_path: ConfigOpt = None,
    fmt: FormatOpt = Format.json,
) -> None:
    """Score documents against the portfolio and say why (why did or didn't this alert?)."""
    from rich.table import Table

    from monitor.portfolio import load_portfolio
    from monitor.scoring import score_document
    from monitor.yamlfile import ConfigError

    config = _config(config_path)
    try:
        chosen = load_portfolio(portfolio) if portfolio else config.portfolio
    except ConfigError as exc:
        raise fail(str(exc)) from None
    docs = [doc for path in files for doc in _load_records(path)]
    scores = [
        score_document(
            d, chosen, threshold=config.scoring.threshold, weights=config.scoring.weights
        )
        for d in docs
    ]
    if fmt is Format.json:
        sys.stdout.write(json.dumps([s.to_json() for s in scores], indent=2) + "\n")
        return
    table = Table()
    for col in ("Number", "Score", "Severity", "Relevant", "Reasons"):
        table.add_column(col)
    for s in scores:
        reasons = "\n".join(str(r) for r in s.reasons) or "no signal"
        table.add_row(cell(s.document_number), cell(s.score), cell(s.severity),
                      cell("yes" * s.relevant), cell(reasons, lines=True))  # fmt: skip
    out.print(table)


# --- reviews ---------------------------------------------------------------------------


def _author(name: str | None) -> str:
    import getpass

    return name or getpass.getuser()


def _period_bound(value: str | None, option: str) -> datetime | None:
    from monitor.digest import period_start

    if value is None:
        return None
    try:
        return period_start(value)
    except ValueError as exc:
        raise fail(f"{option}: {exc}") from None


@app.command("review")
def review_cmd(
    event_id: Annotated[
        int | None, typer.Argument(help="the event's ID (monitor review --open lists them)")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(help="new, 'in review', 'no impact', 'action required' or done"),
    ] = None,
    note: Annotated[str | None, typer.Option(help="why: what was decided and on what")] = None,
    assign: Annotated[
        str | None, typer.Option("--assign", help="who works on it ('' unassigns)")
    ] = None,
    action: Annotated[
        list[str] | None, typer.Option("--action", help="an action item (repeatable)")
    ] = None,
    author: Annotated[
        str | None, typer.Option(help="recorded as the author (default: your login name)")
    ] = None,
    open_only: Annotated[
        bool, typer.Option("--open", help="list the events awaiting a decision, oldest first")
    ] = False,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export", help="write the audit trail (every review entry) as CSV; - for stdout"
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="--export: entries from this date (YYYY-MM-DD or 30d)")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="--export: entries before this date (YYYY-MM-DD)")
    ] = None,
    config_path: ConfigOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Record a decision on an event, show its review history, list what awaits a
    decision (--open) or export the audit trail (--export FILE.csv)."""
    from monitor import review
    from monitor.store import open_store

    changes = status is not None or note is not None or assign is not None or bool(action)
    modes = [event_id is not None, open_only, export is not None]
    if sum(modes) != 1:
        raise fail("give an event ID, --open or --export FILE.csv (one of them)")
    if (since or until) and export is None:
        raise fail("--since and --until go with --export")
    config = _config(config_path)
    db = open_store(config.database_url)
    link = config.web.event_url
    if open_only:
        with db.session() as session:
            lines, total = review.open_reviews(session, link=link)
        _print_review_lines(lines, total, fmt)
    elif export is not None:
        start, end = _period_bound(since, "--since"), _period_bound(until, "--until")
        with db.session() as session:
            rows = review.export_rows(session, start, end)
        if str(export) == "-":
            review.write_csv(rows, sys.stdout)
        else:
            with export.open("w", encoding="utf-8", newline="") as handle:
                review.write_csv(rows, handle)
            err.print(f"wrote {len(rows)} review entries to {export}", highlight=False,
                      markup=False, soft_wrap=True)  # fmt: skip
    elif changes:
        assert event_id is not None
        with db.session() as session:
            try:
                entry = review.record(session, event_id, _author(author), status=status,
                                      note=note, assignee=assign, actions=action or [])  # fmt: skip
            except (review.ReviewError, review.ReviewConflict) as exc:
                raise fail(str(exc)) from None
            session.commit()
            out.print(
                f"event {event_id}: {entry.previous_status} -> {entry.status}"
                + (f", assigned to {entry.assignee}" if entry.assignee else "")
                + f" (entry {entry.id} by {entry.author})",
                highlight=False, markup=False,
            )  # fmt: skip
    else:
        assert event_id is not None
        _print_history(db, event_id, fmt)


def _print_review_lines(lines: list, total: int, fmt: Format) -> None:
    from rich.markup import escape
    from rich.table import Table

    if fmt is Format.json:
        sys.stdout.write(json.dumps([line.to_json() for line in lines], indent=2) + "\n")
        return
    if not lines:
        out.print("Nothing awaits a decision.")
        return
    table = Table(title=f"Awaiting a decision ({total}), oldest first", title_justify="left")
    for col in ("Event", "Recorded", "Severity", "Number", "Title", "Status", "Assignee"):
        table.add_column(col, no_wrap=col in ("Event", "Recorded", "Number"))
    for line in lines:
        style = SEVERITY_STYLE.get(line.severity, "")
        table.add_row(
            str(line.event_id), line.recorded_at.date().isoformat(),
            f"[{style}]{line.score} {line.severity}[/]", escape(line.document_number or ""),
            escape(line.title), line.status, escape(line.assignee or ""),
        )  # fmt: skip
    out.print(table)


def _print_history(db: Any, event_id: int, fmt: Format) -> None:
    from rich.markup import escape
    from rich.table import Table

    from monitor import review

    with db.session() as session:
        entries = review.history(session, event_id)
        state = review.current(session, event_id)
        exists = bool(entries) or _event_exists(session, event_id)
    if not exists:
        raise fail(f"no event with ID {event_id}")
    data = {
        "event_id": event_id,
        "status": state.status if state else "new",
        "assignee": state.assignee if state else None,
        "actions": list(state.actions) if state else [],
        "history": [
            {"entry_id": e.id, "at": _when(e.at), "author": e.author,
             "previous_status": e.previous_status, "status": e.status, "assignee": e.assignee,
             "note": e.note, "actions": list(e.actions or [])}
            for e in entries
        ],
    }  # fmt: skip
    if fmt is Format.json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    who = f", assigned to {data['assignee']}" if data["assignee"] else ""
    out.print(f"event {event_id}: {data['status']}{who}", highlight=False, markup=False)
    for item in data["actions"]:
        out.print(f"  action: {item}", highlight=False, markup=False)
    if not entries:
        out.print("No review recorded yet.")
        return
    table = Table(title="Review history, oldest first", title_justify="left")
    for col in ("Entry", "When", "Author", "Status", "Assignee", "Note", "Actions"):
        table.add_column(col)
    for e in data["history"]:
        table.add_row(
            str(e["entry_id"]), e["at"], escape(e["author"]),
            f"{e['previous_status']} -> {e['status']}", escape(e["assignee"] or ""),
            escape(e["note"] or ""), escape("; ".join(e["actions"])),
        )  # fmt: skip
    out.print(table)


def _event_exists(session: Any, event_id: int) -> bool:
    from monitor.store import EventRow

    return session.get(EventRow, event_id) is not None


# --- the web application -----------------------------------------------------------------

web_app = typer.Typer(
    help="The web application: events, documents, deadlines and reviews (monitor web), and"
    " password hashes for its users (monitor web hash-password).",
    add_completion=False,
)
app.add_typer(web_app, name="web")


@web_app.callback(invoke_without_command=True)
def web_cmd(
    ctx: typer.Context,
    config_path: ConfigOpt = None,
    host: Annotated[
        str | None, typer.Option(help="address to listen on (default web.host: 127.0.0.1)")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="port (default web.port: 8080)")
    ] = None,
) -> None:
    """Serve the web application on the store (a login on every page)."""
    if ctx.invoked_subcommand is not None:
        return
    from monitor.web.server import serve
    from monitor.yamlfile import ConfigError

    def say(line: str) -> None:
        err.print(line, highlight=False, markup=False, soft_wrap=True)

    config = _config(config_path)
    try:
        serve(config, host or config.web.host, port or config.web.port, say)
    except ConfigError as exc:
        raise fail(str(exc)) from None


@web_app.command("hash-password")
def hash_password_cmd() -> None:
    """Read a password (twice, hidden; or one line on stdin) and print its argon2 hash for
    web.users[].password_hash."""
    from monitor.web.auth import hash_password

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 12:
        raise fail("use a password of at least 12 characters")
    sys.stdout.write(hash_password(password) + "\n")
