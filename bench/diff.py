"""Time `monitor diff` against `git diff --no-index --histogram` on the same two files,
in the same run, on three inputs, and its peak memory against the input size.

1. **Plain text without blank lines** at 0.5, 1, 2 and 4 MB: the paragraphs of the
   REAL FR-2016-04-15 daily issue (tests/fixtures/fr_xml, read as `monitor diff` reads
   it) one per line, no blank line (4 MB: the text twice); against a copy with
   synthetic edits (placeholder words, not regulatory text): 150 lines per MB with a
   word replaced, deleted or inserted, and a block of 40 lines moved further down.
   Without blank lines a line joins the paragraph before it unless it starts a
   sentence, and a labelled paragraph runs on to the next label: paragraphs of up to
   800 KB, the case that took 41 s at 2 MB. Printed per size: git, the diff in
   process (`diff_files`: read, split into paragraphs, diff), the diff stage alone
   (`diff_loaded` on the inputs read beforehand), the whole command; then the growth of
   the in-process time per doubling of the input.
2. **The Entity List supplement**: a SYNTHETIC Supplement No. 4 to part 744 of 3,000
   entries in the eCFR's XML (tests/synthetic_entity_list.py: fictional entries, the
   eCFR's layout), and a version with 40 entries added, 5 removed and 10 revised.
   Timed: the diff of the two versions as the `ecfr` watcher stores them (a row per
   line, `cell | cell`), which a `rule_text_changed` event carries
   (`diff_documents`); `diff_files` on the two XML files (parse included); the whole
   command on them; git on the XML files.
3. **The FR XML daily issue** (3.07 MB, REAL) against a copy with `--edits` (300)
   paragraphs edited and a block of `--block` (8) paragraphs moved (synthetic edits):
   git, `diff_files`, the diff stage, the whole command and its start-up alone (the
   command on two one-line texts).

Each time is the median of its runs, the jobs of one input taken in turns so that a
busy moment weighs on all alike. The whole command runs as installed (bytecode
cached). Memory (read in the measured process, VmHWM): the peak RSS of one
`diff_files` call above the RSS after the imports, against the two input files
together, for the 2 MB text, the table and the FR issue; and the whole command's peak
on the FR issue (interpreter and libraries included).

Goals (issue 18): plain text <= 5x git at 2 MB, each doubling <= 2.5x the time; the
table <= 0.5 s; the FR XML whole command <= 1 s; peak memory <= 10x the input.

    .venv/bin/python bench/diff.py [--runs 9] [--text-runs 5] [--only text,table,fr]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

import monitor.diff
from monitor.diff import diff_documents, diff_files, diff_loaded, load_path, units_from_fr
from tests.synthetic_entity_list import edited as edited_list
from tests.synthetic_entity_list import part_xml, rows
from watchers.ecfr import parse_part

ROOT = Path(__file__).resolve().parent.parent
ISSUE = ROOT / "tests" / "fixtures" / "fr_xml" / "FR-2016-04-15_full_issue.xml"
SIZES = (0.5, 1.0, 2.0, 4.0)  # MB of plain text
GOALS = {"text": 5.0, "doubling": 2.5, "table": 0.5, "fr command": 1.0, "memory": 10.0}
# Peak memory is read in the measured process itself (VmHWM): a child's ru_maxrss
# counts the RSS of the parent it was forked from. Each probe prints bytes.
VM = """
import contextlib, io, sys
def vm(key):
    return next(int(x.split()[1]) * 1024 for x in open("/proc/self/status") if x.startswith(key))
"""
PROBES = {
    # the RSS after the imports (those of the parsers any input loads too), and the
    # peak over one diff_files call
    "in-process": VM
    + """
from monitor.diff import diff_files
import monitor.ecfr_xml, monitor.entities, monitor.fedreg_xml
before = vm("VmRSS")
diff_files(sys.argv[1], sys.argv[2])
print(before, vm("VmHWM"))
""",
    # the peak of the whole command, run as `python -m monitor diff` runs it (but for
    # its exit, which leaves before the interpreter's teardown)
    "command": VM
    + """
from monitor.diff_cli import run
with contextlib.redirect_stdout(io.StringIO()):
    run(sys.argv[1:3], own_process=True)
print(vm("VmHWM"))
""",
}


# --- inputs -----------------------------------------------------------------------------


def edited_copy(data: bytes, edits: int, block: int, seed: int = 4) -> tuple[bytes, str]:
    """The issue with `edits` text paragraphs edited (one word replaced, deleted or
    inserted) and `block` consecutive paragraphs of one document moved to the end of
    their parent; and the number of the document the block moved in."""
    root = etree.fromstring(data)
    rng = random.Random(seed)
    parents = [
        el
        for el in root.iter("SUPLINF")
        if sum(c.tag == "P" for c in el) >= 4 * block and el.find(".//FRDOC") is None
    ]
    parent = rng.choice(parents)
    children = [c for c in parent if c.tag == "P"]
    start = rng.randrange(len(children) // 2)
    moved = children[start : start + block]
    for p in moved:
        parent.remove(p)
        parent.append(p)
    frdoc = re.search(r"FR Doc\.\s*(\S+)", parent.getparent().findtext(".//FRDOC") or "")
    paragraphs = [
        p
        for p in root.iter("P")
        if p not in moved and len((p.text or "").split()) > 5 and not len(p)
    ]
    for p in rng.sample(paragraphs, edits):
        p.text = edit_words(p.text, rng)
    head = data[: data.index(b"<FEDREG")]  # the original XML declaration, byte for byte
    return head + etree.tostring(root, encoding="utf-8") + b"\n", frdoc[1] if frdoc else "?"


def edit_words(text: str, rng: random.Random) -> str:
    """One word of `text` replaced, deleted or a word inserted (placeholders)."""
    words = text.split(" ")
    at = rng.randrange(len(words))
    kind = rng.choice(("replace", "delete", "insert"))
    if kind == "replace":
        words[at] = "EDITED"
    elif kind == "delete":
        del words[at]
    else:
        words.insert(at, "INSERTED")
    return " ".join(words)


def plain_text(lines: list[str], megabytes: float, seed: int = 4) -> tuple[str, str]:
    """The first `megabytes` of `lines` (repeated if need be), one per line, and a copy
    with 150 lines per MB edited and a block of 40 lines moved further down."""
    limit = int(megabytes * 1_000_000)
    taken: list[str] = []
    size = 0
    while size < limit:
        for line in lines:
            if size >= limit:
                break
            taken.append(line)
            size += len(line.encode()) + 1
    rng = random.Random(seed)
    new = list(taken)
    start = rng.randrange(len(new) // 2)
    block = new[start : start + 40]
    del new[start : start + 40]
    at = rng.randrange(len(new) // 2, len(new))
    new[at:at] = block
    editable = [k for k, line in enumerate(new) if len(line.split()) > 5]
    for k in rng.sample(editable, int(150 * megabytes)):
        new[k] = edit_words(new[k], rng)
    return "\n".join(taken) + "\n", "\n".join(new) + "\n"


# --- running ----------------------------------------------------------------------------


def medians(jobs: list[Callable[[], object]], runs: int) -> list[float]:
    """The median wall time of each job over `runs` rounds, one run of each per round."""
    times: list[list[float]] = [[] for _ in jobs]
    for _ in range(runs):
        for job, found in zip(jobs, times, strict=True):
            start = time.perf_counter()
            job()
            found.append(time.perf_counter() - start)
    return [statistics.median(found) for found in times]


def command_run(command: list[str], env: dict[str, str], sink: Path) -> None:
    """One run of a command, its output written to `sink`."""
    with sink.open("wb") as output:
        code = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    if code.returncode != 0:
        raise SystemExit(f"{' '.join(command)}: exit {code.returncode}: {sink.read_text()[:300]}")


def probe(name: str, old: Path, new: Path, env: dict[str, str]) -> list[int]:
    """The numbers a memory probe prints, run in a fresh process."""
    command = [sys.executable, "-c", PROBES[name], str(old), str(new)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    return [int(x) for x in done.stdout.split()]


class Bench:
    """The folder the inputs are written to, git, and the command as installed."""

    def __init__(self, folder: Path, git: str) -> None:
        self.folder = folder
        self.git = git
        # the command as installed: bytecode cached (here in the temporary folder)
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        self.sink = folder / "out.txt"
        self.memory: list[tuple[str, int, int]] = []  # (input, its size, peak above imports)

    def files(self, name: str, old: bytes, new: bytes) -> tuple[Path, Path]:
        paths = self.folder / f"{name}-old", self.folder / f"{name}-new"
        paths[0].write_bytes(old)
        paths[1].write_bytes(new)
        return paths

    def git_job(self, old: Path, new: Path) -> Callable[[], object]:
        command = [self.git, "diff", "--no-index", "--histogram", str(old), str(new)]
        return lambda: subprocess.run(command, capture_output=True, check=False)

    def command_job(self, *args: Path) -> Callable[[], None]:
        command = [sys.executable, "-m", "monitor", "diff", *map(str, args)]
        command_run(command, self.env, self.sink)  # compiles and caches the bytecode
        return lambda: command_run(command, self.env, self.sink)

    def measure_memory(self, name: str, old: Path, new: Path) -> None:
        before, peak = probe("in-process", old, new, self.env)
        self.memory.append((name, old.stat().st_size + new.stat().st_size, peak - before))


def verdict(value: float, goal: str, unit: str = "x") -> str:
    limit = GOALS[goal]
    return f"  (goal <= {limit:g}{unit}: {'met' if value <= limit else 'NOT met'})"


def row(name: str, seconds: float, git_time: float, shown: str = "") -> None:
    print(f"  {name:<58} {seconds * 1000:8.1f} ms {seconds / git_time:7.2f}x git{shown}")


# --- the three inputs -------------------------------------------------------------------


def bench_text(bench: Bench, runs: int) -> None:
    units, _ = units_from_fr(ISSUE.read_bytes())
    lines = [u.text for u in units if u.text]
    print(
        f"1. plain text, no blank lines: the real issue's {len(lines):,} paragraphs one per "
        "line (4 MB: twice), 150 lines per MB edited, a block of 40 moved; "
        f"medians of {runs} runs"
    )
    print(
        f"  {'size':>7} {'git':>9} {'in-process':>11} {'x git':>7} {'stage':>9} {'x git':>7}"
        f" {'command':>9} {'x git':>7}  summary"
    )
    in_process: dict[float, float] = {}
    for megabytes in SIZES:
        old, new = bench.files(
            f"text-{megabytes}", *(t.encode() for t in plain_text(lines, megabytes))
        )
        sides = load_path(old), load_path(new)
        summary = diff_files(old, new).summary()
        git_time, whole, stage, cli_time = medians(
            [
                bench.git_job(old, new),
                lambda old=old, new=new: diff_files(old, new),
                lambda sides=sides: diff_loaded(*sides),
                bench.command_job(old, new),
            ],
            runs,
        )
        in_process[megabytes] = whole
        goal = verdict(whole / git_time, "text") if megabytes == 2.0 else ""
        print(
            f"  {megabytes:5.1f} MB {git_time * 1000:6.1f} ms {whole * 1000:8.1f} ms"
            f" {whole / git_time:6.2f}x {stage * 1000:6.1f} ms {stage / git_time:6.2f}x"
            f" {cli_time * 1000:6.1f} ms {cli_time / git_time:6.2f}x  {summary[:60]}{goal}"
        )
        if megabytes == 2.0:
            bench.measure_memory("plain text, 2 MB", old, new)
    growth = {(a, b): in_process[b] / in_process[a] for a, b in itertools.pairwise(SIZES)}
    shown = ", ".join(f"{a:g} -> {b:g} MB: {g:.2f}x" for (a, b), g in growth.items())
    print(f"  in-process time per doubling: {shown}{verdict(max(growth.values()), 'doubling')}")


def bench_table(bench: Bench, runs: int) -> None:
    before = rows(3000)
    after, _ = edited_list(before, added=40, removed=5, revised=10)
    old, new = bench.files("supp4.xml", part_xml(before), part_xml(after))
    stored = [
        next(
            d
            for d in parse_part(p.read_bytes(), p.name, 15, "744", {})[0]
            if "Supp." in d.document_number
        )
        for p in (old, new)
    ]
    clear = monitor.diff._row_entry.cache_clear  # each run reads every row afresh
    summary = diff_documents(*stored).summary()
    print(
        "2. the Entity List supplement: a SYNTHETIC table of 3,000 entries in the eCFR's "
        f"XML ({old.stat().st_size:,} bytes), 40 added, 5 removed, 10 revised; "
        f"medians of {runs} runs"
    )
    print(f"  monitor diff summary: {summary}")
    git_time, documents, files, cli_time = medians(
        [
            bench.git_job(old, new),
            lambda: (clear(), diff_documents(*stored)),
            lambda: (clear(), diff_files(old, new)),
            bench.command_job(old, new),
        ],
        runs,
    )
    row("git diff --no-index --histogram on the XML files", git_time, git_time)
    shown = {t: verdict(t, "table", " s") for t in (documents, files, cli_time)}
    row("the two stored versions: diff_documents (the event's diff)", documents, git_time,
        shown[documents])  # fmt: skip
    row("in-process diff_files on the XML files: parse + diff", files, git_time, shown[files])
    row("whole command: python -m monitor diff OLD.xml NEW.xml", cli_time, git_time,
        shown[cli_time])  # fmt: skip
    bench.measure_memory("the table", old, new)


def bench_fr(bench: Bench, runs: int, edits: int, block: int) -> None:
    data = ISSUE.read_bytes()
    changed, where = edited_copy(data, edits, block)
    old, new = bench.files("issue.xml", data, changed)
    print(
        f"3. FR XML: {ISSUE.name} ({len(data):,} bytes) and a copy with {edits} paragraphs "
        f"edited and a block of {block} moved in FR Doc. {where}; medians of {runs} runs"
    )
    print(f"  monitor diff summary: {diff_files(old, new).summary()}")
    sides = load_path(old), load_path(new)
    # start-up alone: the command on two one-line texts (placeholders, not the EAR)
    tiny = bench.files("tiny.txt", b"(a) One.\n", b"(a) Two.\n")
    git_time, whole, stage, cli_time, start_time = medians(
        [
            bench.git_job(old, new),
            lambda: diff_files(old, new),
            lambda: diff_loaded(*sides),
            bench.command_job(old, new),
            bench.command_job(*tiny),
        ],
        runs,
    )
    row("git diff --no-index --histogram OLD NEW", git_time, git_time)
    row("in-process diff_files(OLD, NEW): read + parse + diff", whole, git_time)
    row("in-process diff stage only: diff_loaded on parsed units", stage, git_time)
    command = verdict(cli_time, "fr command", " s")
    row("whole command: python -m monitor diff OLD NEW", cli_time, git_time, command)
    row("  of which start-up: the command on two one-line texts", start_time, git_time)
    bench.measure_memory("the FR issue", old, new)
    [top] = probe("command", old, new, bench.env)
    size = len(data) + len(changed)
    print(
        f"  whole command: peak RSS {top / 1e6:.1f} MB = {top / size:.1f}x the input, "
        f"interpreter and libraries included"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="runs of the table and FR cases")
    parser.add_argument("--text-runs", type=int, default=5, help="runs of each text size")
    parser.add_argument("--edits", type=int, default=300, help="FR paragraphs edited")
    parser.add_argument("--block", type=int, default=8, help="FR paragraphs in the moved block")
    parser.add_argument("--only", default="text,table,fr", help="which inputs, comma-separated")
    args = parser.parse_args()
    git = shutil.which("git")
    if git is None:
        raise SystemExit("git not found: the baseline is git diff --no-index --histogram")
    cases = set(args.only.split(","))
    print("load average (1, 5, 15 min) at the start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory() as folder:
        bench = Bench(Path(folder), git)
        if "text" in cases:
            bench_text(bench, args.text_runs)
        if "table" in cases:
            bench_table(bench, args.runs)
        if "fr" in cases:
            bench_fr(bench, args.runs, args.edits, args.block)
        print("memory: peak RSS of one diff_files call above the RSS after the imports")
        for name, size, grown in bench.memory:
            print(
                f"  {name}: {grown / 1e6:.1f} MB, input {size / 1e6:.1f} MB (both files) "
                f"= {grown / size:.1f}x{verdict(grown / size, 'memory')}"
            )
    print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
