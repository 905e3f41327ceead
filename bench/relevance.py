"""Relevance evaluation: precision and recall of the score per stage, per kind, with every
miss and the severity of every relevant document.

Sets: `dev` is the development set (`examples/demo/records/labels.csv`: the 64 labelled
records of shared/data/fr_docs, 14 relevant) plus, as negatives, the 1,000 real results
of the recorded API page (none is an export-control rule); `validation` is the second
labelled set of bench/data/fr_validation (57 records we collected and labelled, see its
README). `review` and `borderline` labels are scored neither way.

Stages: `title` keeps what the public-inspection desk gives (number, title, type,
agency, scheduled publication date); `abstract` is the API record as it is; `full` adds
the Entity List entries the rule's text lists, where bench/data/fr_entries.yaml records
them (names and destinations from public summaries of the rules, not rule text; entries
marked uncertain, some taken from the portfolio itself, are left out).

    .venv/bin/python bench/relevance.py [--set dev|validation|all] [--stage title|abstract|full|all]
                                        [--threshold 50] [--portfolio DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from monitor.document import Document, Listed, RuleFacts
from monitor.portfolio import load_portfolio
from monitor.relevance.reading import read
from monitor.scoring import Score, score_document

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo"
SETS = {"dev": DEMO / "records", "validation": ROOT / "bench" / "data" / "fr_validation"}
ENTRIES = ROOT / "bench" / "data" / "fr_entries.yaml"
TITLE_FIELDS = ("document_number", "title", "type", "agencies", "publication_date")
# judged as of the day the sets were collected, so the figures do not drift with the clock
TODAY = date(2026, 12, 4)


@dataclass
class Row:
    doc: Document
    label: str  # relevant, irrelevant, review, borderline
    why: str
    kind: str = ""


def labelled(name: str, with_negatives: bool) -> list[Row]:
    folder = SETS[name]
    rows = []
    with (folder / "labels.csv").open() as fh:
        for line in csv.DictReader(fh):
            raw = json.loads((folder / f"{line['document_number']}.json").read_text())
            rows.append(Row(Document.model_validate(raw), line["label"], line["reason"]))
    if with_negatives:
        known = {r.doc.document_number for r in rows}
        page = json.loads((DEMO / "recorded" / "documents.json").read_text())
        for raw in page["results"]:
            if raw.get("document_number") not in known:
                doc = Document.model_validate(raw)
                rows.append(Row(doc, "irrelevant", "recorded API page (negative)"))
    return rows


def at_stage(doc: Document, stage: str, entries: dict[str, list[Listed]]) -> Document:
    if stage == "title":
        return Document.model_validate(doc.model_dump(include=set(TITLE_FIELDS)))
    if stage == "full" and doc.document_number in entries:
        facts = RuleFacts(entities=entries[doc.document_number], entity_list_amended=True)
        return doc.model_copy(update={"rule": facts})
    return doc


def load_entries() -> dict[str, list[Listed]]:
    if not ENTRIES.exists():
        return {}
    data = yaml.safe_load(ENTRIES.read_text()) or {}
    return {
        number: [Listed(action=e.get("action", "added"), name=e["name"],
                        country=e.get("country"), aliases=e.get("aliases", []))
                 for e in doc["entries"] if not e.get("uncertain")]
        for number, doc in (data.get("documents") or {}).items()
    }  # fmt: skip


def kind_of(doc: Document) -> str:
    reading = read(doc)
    main = next(iter(reading.subjects), "-")
    return reading.regime if reading.regime != "export_control" else f"EAR/{main}"


def evaluate(rows: list[Row], stage: str, portfolio, threshold: int, show: int) -> None:
    entries = load_entries()
    scored = []
    for row in rows:
        doc = at_stage(row.doc, stage, entries)
        score = score_document(doc, portfolio, threshold=threshold, today=TODAY)
        scored.append((row, score, kind_of(row.doc)))
    counted = [(r, s, k) for r, s, k in scored if r.label in ("relevant", "irrelevant")]
    tp = sum(1 for r, s, _ in counted if s.relevant and r.label == "relevant")
    fp = sum(1 for r, s, _ in counted if s.relevant and r.label == "irrelevant")
    fn = sum(1 for r, s, _ in counted if not s.relevant and r.label == "relevant")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    other = Counter(r.label for r, _, _ in scored if r.label not in ("relevant", "irrelevant"))
    full = sum(1 for r, _, _ in scored if r.doc.document_number in entries)
    print(f"\n== stage {stage}: {len(scored)} documents, {tp + fn} relevant, threshold {threshold}"
          + (f"; entries known for {full}" if stage == "full" else ""))  # fmt: skip
    print(
        f"precision {precision:.2f}  recall {recall:.2f}  F1 {f1:.2f}  (tp {tp}, fp {fp}, fn {fn};"
        f" not scored: {', '.join(f'{n} {k}' for k, n in sorted(other.items())) or 'none'})"
    )
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for r, s, k in counted:
        outcome = ("tp" if s.relevant else "fn") if r.label == "relevant" else (
            "fp" if s.relevant else "tn")  # fmt: skip
        by_kind[k][outcome] += 1
    print("by kind (our reading of the document): tp fp fn tn")
    for k in sorted(by_kind, key=lambda k: -sum(by_kind[k].values())):
        c = by_kind[k]
        print(f"  {k:38} {c['tp']:3} {c['fp']:3} {c['fn']:3} {c['tn']:4}")
    for r, s, _ in counted:
        if s.relevant != (r.label == "relevant"):
            what = "false positive" if s.relevant else "missed"
            print(f"  {what}: {line(r.doc, s)}\n      label: {r.why}")
    print("severity of the relevant documents (lowest score first):")
    for r, s, _ in sorted(
        (x for x in counted if x[0].label == "relevant"), key=lambda x: x[1].score
    ):
        title = (r.doc.title or "(no title)")[:80]
        print(f"  {s.severity:8} {s.score:3} {r.doc.document_number}  {title}")
    print(f"best-scored negatives (the margin below the threshold), top {show}:")
    negatives = sorted(
        (x for x in counted if x[0].label == "irrelevant"), key=lambda x: -x[1].score
    )
    for r, s, _ in negatives[:show]:
        print(f"  {line(r.doc, s)}")
    for label in ("review", "borderline"):
        found = [(r, s) for r, s, _ in scored if r.label == label]
        if found:
            print(f"{label} (not scored): " + "; ".join(
                f"{r.doc.document_number} {s.severity}" for r, s in found))  # fmt: skip


def line(doc: Document, score: Score) -> str:
    first = next((r for r in score.reasons if r.component != "evidence"), None)
    why = f"{first.component}: {first.detail[:160]}" if first else "no impact"
    return f"{doc.document_number} {score.score} {score.severity} ({why})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["dev", "validation", "all"], default="dev")
    parser.add_argument("--stage", choices=["title", "abstract", "full", "all"], default="all")
    parser.add_argument("--threshold", type=int, default=50)
    parser.add_argument("--portfolio", type=Path, default=DEMO / "portfolio")
    parser.add_argument("--margin", type=int, default=3, help="show the N best-scored negatives")
    args = parser.parse_args()
    portfolio = load_portfolio(args.portfolio)
    names = ["dev", "validation"] if args.set == "all" else [args.set]
    stages = ["title", "abstract", "full"] if args.stage == "all" else [args.stage]
    for name in names:
        rows = labelled(name, with_negatives=name == "dev")
        print(f"\n#### set {name}: {SETS[name].relative_to(ROOT)}")
        for stage in stages:
            evaluate(rows, stage, portfolio, args.threshold, args.margin)


if __name__ == "__main__":
    main()
