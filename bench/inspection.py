"""The first public moment: from the desk poll to the email, with the texts read.

Each round serves a new public-inspection desk on loopback (an HTTP server in a thread)
of `--per-desk` BIS rules, each with its manuscript text: SYNTHETIC, the layout of
tests/fixtures/public_inspection/texts/2099-99901.txt with new document numbers, one in
each desk listing a portfolio customer. `monitor.pipeline.check` polls the desk, reads the
texts, screens the entries and emails the alert to an SMTP server (aiosmtpd, another
thread) that notes when it accepted each message. Latency is from the start of the poll
to the moment the SMTP server accepted the email naming the listed customer's rule.
The baseline, in the same run, is the same desks with the texts not read (`texts: []`):
the title-stage alert ("screen this rule") of the same documents.

Then the precision and recall of the title-stage and the text-stage scores on the
development set (bench/relevance.py's records: title only, and with the entries public
summaries name, the nearest the set has to inspection texts).

    .venv/bin/python bench/inspection.py [--rounds 20] [--per-desk 5]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import free_port, percentile, text_of
from relevance import TODAY, at_stage, labelled, load_entries

from monitor.config import load_config
from monitor.pipeline import check
from monitor.portfolio import load_portfolio
from monitor.scoring import score_document

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "tests" / "fixtures" / "public_inspection" / "texts" / "2099-99901.txt").read_text()
API = "/api/v1/"
CUSTOMER = "Example Semiconductor Test Company Limited"


class Inbox:
    """Accepted messages: when, and the document numbers they name."""

    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook
        when = time.time()
        body = text_of(envelope.content)
        for number in {w for w in body.replace("(", " ").split() if w.startswith("2099-")}:
            self.accepted.setdefault(number.strip(".,:;)"), when)
        return "250 OK"


def manuscript(number: str, listed: bool) -> str:
    text = TEXT.replace("2099-99901", number)
    if not listed:  # no customer among its entries
        for name in ("Example Semiconductor Test Co., Ltd.", "Example Semi Test",
                     "ESTC Placeholder Holdings"):  # fmt: skip
            text = text.replace(name, "Unlisted Fictional Works")
    return text


def entry(number: str, api: str) -> dict:
    path = f"/public-inspection/raw_text/{number.replace('-', '')[:3]}/{number[4:7]}/x{number}.txt"
    return {
        "agencies": [{"name": "Industry and Security Bureau",
                      "slug": "industry-and-security-bureau"}],
        "document_number": number, "filed_at": "2099-01-01T08:45:00.000-05:00",
        "filing_type": "regular", "pdf_updated_at": "2099-01-01T08:45:00.000-05:00",
        "publication_date": "2099-01-02", "raw_text_url": f"{api}{path}", "type": "Rule",
        "title": "Additions to the Entity List (Synthetic Test Fixture)",
    }  # fmt: skip


def run(server: HTTPServer, inbox: Inbox, smtp: int, rounds: int, per_desk: int,
        texts: bool, start: int) -> list[float]:  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "customers.yaml").write_text(
            f"customers:\n  - {{id: estc, name: {CUSTOMER}, country: CN, city: Shenzhen}}\n"
        )
        url = (f"mailto://127.0.0.1:{smtp}?to=analyst@example.com&from=regmonitor@example.com"
               "&mode=insecure")  # fmt: skip
        (folder / "monitor.yaml").write_text(f"""
data_dir: {folder}/state
sources:
  - {{name: desk, kind: public_inspection, base_url: "{server.url_for(API)}", retries: 0,
     texts: {"[industry-and-security-bureau]" if texts else "[]"}}}
portfolio: {{path: {folder}/customers.yaml}}
channels:
  - {{name: mail, url: "{url}", min_severity: high, immediate: high}}
alerting: {{group_above: 1000}}
""")
        config = load_config(folder / "monitor.yaml")
        latencies = []
        for r in range(rounds):
            numbers = [f"2099-{start + r * per_desk + i:05d}" for i in range(per_desk)]
            server.clear()
            entries = [entry(n, server.url_for("")[:-1]) for n in numbers]
            server.expect_request(f"{API}public-inspection-documents/current.json").respond_with_json(
                {"count": len(entries), "results": entries})  # fmt: skip
            for i, (n, e) in enumerate(zip(numbers, entries, strict=True)):
                path = e["raw_text_url"].removeprefix(server.url_for("")[:-1])
                server.expect_request(path).respond_with_data(manuscript(n, i == 0))
            began = time.time()
            report = check(config, only=["desk"])
            if report.errors:
                raise SystemExit(f"round {r}: {report.errors}")
            listed = numbers[0]
            deadline = time.time() + 10
            while listed not in inbox.accepted and time.time() < deadline:
                time.sleep(0.01)
            latencies.append(inbox.accepted.get(listed, float("nan")) - began)
        return latencies


def stage_figures(stage: str) -> tuple[float, float, int, int]:
    portfolio = load_portfolio(ROOT / "examples" / "demo" / "portfolio")
    entries = load_entries()
    tp = fp = fn = 0
    for row in labelled("dev", with_negatives=True):
        if row.label not in ("relevant", "irrelevant"):
            continue
        score = score_document(at_stage(row.doc, stage, entries), portfolio, today=TODAY)
        tp += score.relevant and row.label == "relevant"
        fp += score.relevant and row.label == "irrelevant"
        fn += not score.relevant and row.label == "relevant"
    return tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0, tp, fp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-desk", type=int, default=5)
    args = parser.parse_args()
    inbox, smtp = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp)
    controller.start()
    server = HTTPServer(host="127.0.0.1", port=free_port())
    server.start()
    try:
        with contextlib.redirect_stderr(sys.stdout):
            read = run(server, inbox, smtp, args.rounds, args.per_desk, True, 10000)
            title = run(server, inbox, smtp, args.rounds, args.per_desk, False, 50000)
    finally:
        server.stop()
        controller.stop()
    p50, p95 = percentile(read, 50), percentile(read, 95)
    b50, b95 = percentile(title, 50), percentile(title, 95)
    print(f"desk of {args.per_desk} BIS rules with texts, {args.rounds} rounds: poll -> email "
          f"accepted p50 {p50:.2f} s, p95 {p95:.2f} s (goal p95 <= 2 s: "
          f"{'met' if p95 <= 2 else 'NOT met'})")  # fmt: skip
    print(f"baseline, the same desks without reading the texts (a title-stage alert): p50 "
          f"{b50:.2f} s, p95 {b95:.2f} s; ratio p95 {p95 / b95:.2f}x")  # fmt: skip
    for stage in ("title", "full"):
        precision, recall, tp, fp = stage_figures(stage)
        what = "title only" if stage == "title" else "entries read"
        print(f"development set, {stage} stage ({what}): precision {precision:.2f}, recall "
              f"{recall:.2f} ({tp} relevant found, {fp} false positives)")  # fmt: skip


if __name__ == "__main__":
    main()
