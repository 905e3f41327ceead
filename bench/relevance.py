"""Relevance evaluation: precision, recall and F1 of the score on labelled records.

The development set is the 21 labelled records of `examples/demo/records/`
(`labels.csv`, 3 relevant for the demo portfolio) plus, as negatives, the
1,000 real results of the recorded API page (none is an export-control rule).
Prints the figures and every miss with its reasons: a user's "tune your
weights" tool as much as a benchmark.

    .venv/bin/python bench/relevance.py [--threshold 50] [--portfolio DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from monitor.document import Document
from monitor.portfolio import load_portfolio
from monitor.scoring import Score, score_document

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"


def labelled() -> list[tuple[Document, bool, str]]:
    rows = []
    with (DEMO / "records" / "labels.csv").open() as fh:
        for row in csv.DictReader(fh):
            raw = json.loads((DEMO / "records" / f"{row['document_number']}.json").read_text())
            rows.append((Document.model_validate(raw), row["label"] == "relevant", row["reason"]))
    known = {doc.document_number for doc, _, _ in rows}
    page = json.loads((DEMO / "recorded" / "documents.json").read_text())
    for raw in page["results"]:
        if raw.get("document_number") in known:
            continue
        try:
            rows.append((Document.model_validate(raw), False, "recorded API page (negative)"))
        except ValueError:
            continue
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=int, default=50)
    parser.add_argument("--portfolio", type=Path, default=DEMO / "portfolio")
    parser.add_argument("--margin", type=int, default=3, help="show the N best-scored negatives")
    args = parser.parse_args()
    portfolio = load_portfolio(args.portfolio).model_copy(
        update={"watch_terms": ["advanced computing", "supercomputer", "Entity List",
                                "foreign direct product", "3A090"]}  # as the demo config
    )  # fmt: skip
    tp = fp = fn = tn = 0
    misses, hits, negatives = [], [], []
    for doc, relevant, why in labelled():
        score = score_document(doc, portfolio, threshold=args.threshold)
        (hits if relevant else negatives).append((score.score, doc, score, why))
        if score.relevant and relevant:
            tp += 1
        elif score.relevant:
            fp += 1
            misses.append(("false positive", doc, score, why))
        elif relevant:
            fn += 1
            misses.append(("missed", doc, score, why))
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"documents {tp + fp + fn + tn}: relevant {tp + fn}, threshold {args.threshold}")
    print(
        f"precision {precision:.2f}  recall {recall:.2f}  F1 {f1:.2f}  (tp {tp}, fp {fp}, fn {fn})"
    )
    for kind, doc, score, why in misses:
        print(f"  {kind}: {line(doc, score)} -- label: {why}")
    print("relevant documents, lowest score first (the margin above the threshold):")
    for _, doc, score, _ in sorted(hits, key=lambda h: h[0]):
        print(f"  {line(doc, score)}")
    print(f"best-scored negatives (the margin below the threshold), top {args.margin}:")
    for _, doc, score, _ in sorted(negatives, key=lambda h: -h[0])[: args.margin]:
        print(f"  {line(doc, score)}")


def line(doc: Document, score: Score) -> str:
    reasons = "; ".join(str(r) for r in score.reasons) or "no signal"
    return f"{doc.document_number} score {score.score} ({reasons})"


if __name__ == "__main__":
    main()
