"""Time `monitor.diff` on the real Federal Register daily issue against an edited copy.

Takes the real FR-2016-04-15 daily issue XML (3.07 MB, 145 documents), edits ~1% of
its paragraphs (one word replaced in every hundredth `P` with some text, chosen with
a fixed seed; `--moves` also moves paragraphs to the end of their parent) and writes
both versions to a temporary folder. Then, in the same run, the median of `--runs`
runs of:

- `monitor.diff` in-process: both files read, parsed and diffed (`diff_files`), and
  the diff alone on the already parsed units (`diff_units`);
- the baseline: plain `difflib.unified_diff` on the raw text (the XML's lines);
- `git diff --no-index --histogram` on the same files (if git is installed);
- the whole command, `python -m monitor diff OLD NEW -f json` (`--cli-runs`).

Prints the figures, the ratios and the peak memory of one in-process run
(tracemalloc, a separate run, since tracing slows everything).

    .venv/bin/python bench/diff.py [--runs 7] [--percent 1] [--moves 0] [--cli-runs 3]
"""

from __future__ import annotations

import argparse
import difflib
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from monitor.diff import diff_files, diff_units, load_path

ROOT = Path(__file__).resolve().parent.parent
ISSUE = ROOT / "tests" / "fixtures" / "fr_xml" / "FR-2016-04-15_full_issue.xml"


def edited_copy(data: bytes, percent: float, moves: int, seed: int = 4) -> tuple[bytes, int]:
    """The issue with `percent` % of its text paragraphs edited (a word replaced) and
    `moves` paragraphs moved to the end of their parent element."""
    root = etree.fromstring(data)
    paragraphs = [p for p in root.iter("P") if len((p.text or "").split()) > 5]
    rng = random.Random(seed)
    chosen = rng.sample(paragraphs, max(1, round(len(paragraphs) * percent / 100)))
    for p in chosen:
        words = p.text.split(" ")
        words[rng.randrange(len(words))] = "EDITED"
        p.text = " ".join(words)
    for p in rng.sample([p for p in paragraphs if p not in chosen], moves):
        parent = p.getparent()
        parent.remove(p)
        parent.append(p)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8"), len(chosen)


def median_time(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--percent", type=float, default=1.0, help="paragraphs edited, in %%")
    parser.add_argument("--moves", type=int, default=0, help="paragraphs moved")
    parser.add_argument("--cli-runs", type=int, default=3, help="runs of the whole command")
    args = parser.parse_args()

    data = ISSUE.read_bytes()
    edited, count = edited_copy(data, args.percent, args.moves)
    with tempfile.TemporaryDirectory() as folder:
        old, new = Path(folder) / "old.xml", Path(folder) / "new.xml"
        old.write_bytes(data)
        new.write_bytes(edited)

        result = diff_files(old, new)
        print(f"input: {ISSUE.name}, {len(data):,} bytes; {count} paragraphs edited "
              f"({args.percent:g}%), {args.moves} moved")  # fmt: skip
        print(f"monitor.diff summary: {result.summary()}")

        whole = median_time(lambda: diff_files(old, new), args.runs)
        sides = load_path(old), load_path(new)
        only = median_time(lambda: diff_units(sides[0].units, sides[1].units), args.runs)
        old_lines = old.read_text(encoding="utf-8").splitlines(keepends=True)
        new_lines = new.read_text(encoding="utf-8").splitlines(keepends=True)
        baseline = median_time(
            lambda: "".join(difflib.unified_diff(old_lines, new_lines)), args.runs
        )
        figures = [
            ("monitor.diff, read + parse + diff", whole),
            ("monitor.diff, diff of parsed units", only),
            ("difflib.unified_diff on the raw XML lines", baseline),
        ]
        git = shutil.which("git")
        git_time = None
        if git:
            command = [git, "diff", "--no-index", "--histogram", str(old), str(new)]
            git_time = median_time(
                lambda: subprocess.run(command, capture_output=True, check=False), args.runs
            )
            figures.append(("git diff --no-index --histogram", git_time))
        cli_time = None
        if args.cli_runs:
            command = [sys.executable, "-m", "monitor", "diff", str(old), str(new), "-f", "json"]
            cli_time = median_time(
                lambda: subprocess.run(command, capture_output=True, check=True, cwd=ROOT),
                args.cli_runs,
            )
            figures.append(("python -m monitor diff OLD NEW -f json", cli_time))

        tracemalloc.start()
        diff_files(old, new)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

    print(f"median of {args.runs} runs ({args.cli_runs} for the command):")
    for name, seconds in figures:
        print(f"  {name:<44} {seconds * 1000:9.1f} ms")
    print(f"ratio monitor.diff (read + parse + diff) / difflib baseline: {whole / baseline:.2f}x")
    print(f"ratio monitor.diff (diff only) / difflib baseline:           {only / baseline:.2f}x")
    if git_time:
        print(
            f"ratio monitor.diff (read + parse + diff) / git diff:         {whole / git_time:.2f}x"
        )
        if cli_time:
            print(f"ratio whole command / git diff:                              "
                  f"{cli_time / git_time:.2f}x")  # fmt: skip
    print(f"peak traced memory of one in-process diff: {peak / 1e6:.1f} MB "
          f"({peak / (2 * len(data)):.1f}x the two inputs)")  # fmt: skip


if __name__ == "__main__":
    main()
