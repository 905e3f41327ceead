"""Time `monitor diff` on the real 3 MB Federal Register daily issue against an edited
copy, next to `git diff --no-index --histogram` on the same two files, in the same run.

Input: the real FR-2016-04-15 daily issue (tests/fixtures/fr_xml, 3.07 MB, 146
documents) and a copy with synthetic edits (the words changed are not real regulatory
text): `--edits` (300) text paragraphs, chosen with a fixed seed, each with one word
replaced, deleted or inserted, and one moved block: `--block` (8) consecutive paragraphs
of a document moved to the end of their parent element.

Timed, each the median of `--runs` runs, taken in turns:

- git: `git diff --no-index --histogram OLD NEW`, a subprocess, output captured;
- in-process, read + parse + diff: `diff_files(OLD, NEW)`, what the command does between
  start-up and rendering: both files read, their XML parsed into units, the units
  diffed, word diffs of revised paragraphs included;
- in-process, diff stage only: `diff_units` on the units parsed beforehand (no parsing);
- the whole command: `python -m monitor diff OLD NEW` (text output, captured) in a fresh
  process, with the bytecode of monitor/ cached as an installed package has it; and the
  same command on two one-line texts: its start-up (Python, argparse, lxml,
  monitor.diff), which no diff can go below.

Memory, against the input size (the two files together), read in the measured process
(VmHWM): the peak RSS of one `diff_files` call above the RSS after the imports (the
diff's own memory), and the peak RSS of the whole command (interpreter and libraries
included).

Goals (issue 4): in-process <= 1.5x git, whole command <= 5x git, peak memory <= 10x
the input size.

    .venv/bin/python bench/diff.py [--runs 9] [--edits 300] [--block 8]
"""

from __future__ import annotations

import argparse
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

from monitor.diff import diff_files, diff_units, load_path

ROOT = Path(__file__).resolve().parent.parent
ISSUE = ROOT / "tests" / "fixtures" / "fr_xml" / "FR-2016-04-15_full_issue.xml"
GOALS = {"in-process": 1.5, "command": 5.0, "memory": 10.0}
# Peak memory is read in the measured process itself (VmHWM): a child's ru_maxrss
# counts the RSS of the parent it was forked from. Each probe prints bytes.
VM = """
import contextlib, io, sys
def vm(key):
    return next(int(x.split()[1]) * 1024 for x in open("/proc/self/status") if x.startswith(key))
"""
PROBES = {
    # the RSS after the imports, and the peak over one diff_files call
    "in-process": VM
    + """
from monitor.diff import diff_files
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
        words = p.text.split(" ")
        at = rng.randrange(len(words))
        kind = rng.choice(("replace", "delete", "insert"))
        if kind == "replace":
            words[at] = "EDITED"
        elif kind == "delete":
            del words[at]
        else:
            words.insert(at, "INSERTED")
        p.text = " ".join(words)
    head = data[: data.index(b"<FEDREG")]  # the original XML declaration, byte for byte
    return head + etree.tostring(root, encoding="utf-8") + b"\n", frdoc[1] if frdoc else "?"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--edits", type=int, default=300, help="paragraphs edited")
    parser.add_argument("--block", type=int, default=8, help="paragraphs in the moved block")
    args = parser.parse_args()
    git = shutil.which("git")
    if git is None:
        raise SystemExit("git not found: the baseline is git diff --no-index --histogram")

    data = ISSUE.read_bytes()
    edited, where = edited_copy(data, args.edits, args.block)
    with tempfile.TemporaryDirectory() as folder:
        old, new = Path(folder) / "old.xml", Path(folder) / "new.xml"
        old.write_bytes(data)
        new.write_bytes(edited)
        size = len(data) + len(edited)
        result = diff_files(old, new)
        print(f"input: {ISSUE.name} ({len(data):,} bytes) and a copy with {args.edits} "
              f"paragraphs edited and a block of {args.block} moved in FR Doc. {where} "
              f"({len(edited):,} bytes)")  # fmt: skip
        print(f"monitor diff summary: {result.summary()}")

        git_command = [git, "diff", "--no-index", "--histogram", str(old), str(new)]
        sides = load_path(old), load_path(new)
        # the command as installed: bytecode cached (here in the temporary folder)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "pycache")
        command = [sys.executable, "-m", "monitor", "diff", str(old), str(new)]
        sink = Path(folder) / "out.txt"
        command_run(command, env, sink)  # compiles and caches the bytecode
        # start-up alone: the command on two one-line texts (placeholders, not the EAR)
        tiny = Path(folder) / "a.txt", Path(folder) / "b.txt"
        tiny[0].write_text("(a) One.\n")
        tiny[1].write_text("(a) Two.\n")
        start_up = [*command[:-2], *map(str, tiny)]
        # round-robin, so a busy moment of the machine weighs on all alike
        git_time, whole, stage, cli_time, start_time = medians(
            [
                lambda: subprocess.run(git_command, capture_output=True, check=False),
                lambda: diff_files(old, new),
                lambda: diff_units(sides[0].units, sides[1].units),
                lambda: command_run(command, env, sink),
                lambda: command_run(start_up, env, sink),
            ],
            args.runs,
        )
        before, peak = probe("in-process", old, new, env)
        [top] = probe("command", old, new, env)

    print(f"medians of {args.runs} runs:")
    row("git diff --no-index --histogram OLD NEW", git_time, git_time)
    row("in-process diff_files(OLD, NEW): read + parse + diff", whole, git_time, "in-process")
    row("in-process diff stage only: diff_units on parsed units", stage, git_time, "in-process")
    row("whole command: python -m monitor diff OLD NEW", cli_time, git_time, "command")
    row("  of which start-up: the command on two one-line texts", start_time, git_time)
    grown = peak - before
    print(f"memory, input {size / 1e6:.1f} MB (both files):")
    print(f"  one diff_files call: peak RSS {grown / 1e6:.1f} MB above the "
          f"{before / 1e6:.1f} MB after the imports = {grown / size:.1f}x the input"
          f"{verdict(grown / size, 'memory')}")  # fmt: skip
    print(f"  whole command: peak RSS {top / 1e6:.1f} MB = {top / size:.1f}x the input, "
          f"interpreter and libraries included{verdict(top / size, 'memory')}")  # fmt: skip


def verdict(ratio: float, goal: str) -> str:
    limit = GOALS[goal]
    return f"  (goal <= {limit:g}x: {'met' if ratio <= limit else 'NOT met'})"


def row(name: str, seconds: float, git_time: float, goal: str | None = None) -> None:
    ratio = seconds / git_time
    shown = verdict(ratio, goal) if goal else ""
    print(f"  {name:<56} {seconds * 1000:8.1f} ms {ratio:6.2f}x git{shown}")


if __name__ == "__main__":
    main()
