"""What a person can read: a corrupt SQLite file, a read-only data directory, a data
directory that cannot be created, a full disk (a real tmpfs that fills), a YAML file
nested 500 levels deep: each is one line naming the file and what to do, exit 2, no
traceback, and nothing stored is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RECORDED, write_page
from tests.faults import fill, read_only, tmpfs

MONITOR = Path(sys.executable).parent / "monitor"


def monitor(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(MONITOR), *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"}, timeout=120)  # fmt: skip


def one_line(result: subprocess.CompletedProcess, *fragments: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ")
    for fragment in fragments:
        assert fragment in line, line
    return line


def config(tmp_path: Path, data_dir: str, *sources: tuple[str, Path]) -> Path:
    lines = [f"data_dir: {data_dir}", "sources:"]
    lines += [f'  - {{name: {n}, kind: federal_register, base_url: "file:{f}/", since: 2016-01-01,'
              f" retries: 0}}" for n, f in sources]  # fmt: skip
    path = tmp_path / "monitor.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def documents(path: Path, cwd: Path) -> int:
    status = monitor("status", "-c", str(path), "-f", "json", cwd=cwd)
    assert status.returncode == 0, status.stderr
    return json.loads(status.stdout)["documents"]


COMMANDS = (["check"], ["status"], ["deadlines"], ["alerts"], ["digest"], ["worker"])


def test_a_corrupt_sqlite_file(tmp_path):
    (tmp_path / "state").mkdir()
    db = tmp_path / "state" / "regmonitor.db"
    db.write_bytes(b"this is no SQLite database, whatever its name says\n" * 20)
    before = db.read_bytes()
    path = config(tmp_path, "state", ("fr", write_page(tmp_path / "fr", "2020-10856")))
    for command in COMMANDS:
        one_line(monitor(*command, "-c", str(path), cwd=tmp_path), f"{db}: not a SQLite",
                 "restore it from a backup, or move it aside")  # fmt: skip
    assert db.read_bytes() == before  # never overwritten


def test_a_read_only_data_directory(tmp_path):
    path = config(tmp_path, "state", ("fr", write_page(tmp_path / "fr", "2020-10856")))
    assert monitor("check", "-c", str(path), cwd=tmp_path).returncode == 0
    state = tmp_path / "state"
    with read_only(state):
        for command in (["check"], ["status"], ["worker"]):
            one_line(monitor(*command, "-c", str(path), cwd=tmp_path),
                     f"{state / 'regmonitor.db'}: the store cannot be written",
                     f"make {state} and the files in it writable")  # fmt: skip
    assert documents(path, tmp_path) == 1


@pytest.mark.parametrize("where", ["under-a-file", "read-only"])
def test_a_data_directory_that_cannot_be_created(tmp_path, where):
    if where == "under-a-file":
        (tmp_path / "afile").write_text("")
        data_dir, reason = tmp_path / "afile" / "state", "Not a directory"
        context = None
    else:
        (tmp_path / "ro").mkdir()
        data_dir, reason = tmp_path / "ro" / "state", "Read-only file system"
        context = read_only(tmp_path / "ro")
    path = config(tmp_path, str(data_dir), ("fr", write_page(tmp_path / "fr", "2020-10856")))
    if context is not None:
        context.__enter__()
    try:
        for command in (["check"], ["status"], ["beat"], ["worker"]):
            one_line(monitor(*command, "-c", str(path), cwd=tmp_path),
                     f"{data_dir}: cannot create the data directory ({reason})",
                     "set data_dir to a folder you can write")  # fmt: skip
    finally:
        if context is not None:
            context.__exit__(None, None, None)


def test_a_full_disk_stops_the_run_in_one_line_and_keeps_what_was_stored(tmp_path):
    small = write_page(tmp_path / "small", "2020-10856")
    with tmpfs(tmp_path / "disk", 64 << 20) as disk:
        path = config(tmp_path, str(disk / "state"), ("small", small), ("big", RECORDED))
        assert monitor("check", "-c", str(path), "-s", "small", cwd=tmp_path).returncode == 0
        filler = fill(disk)
        one_line(monitor("check", "-c", str(path), cwd=tmp_path),
                 f"{disk / 'state' / 'regmonitor.db'}: the disk is full",
                 f"free space on {disk / 'state'}", "what was stored before is kept")  # fmt: skip
        filler.unlink()
        assert documents(path, tmp_path) >= 1  # the first run's document, and any committed
        done = monitor("check", "-c", str(path), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert documents(path, tmp_path) > 1000  # the big source's, all of them now


@pytest.mark.parametrize("layout", ["flow", "block"])
def test_yaml_nested_500_levels_deep(tmp_path, layout):
    if layout == "flow":
        nested = "portfolio: {watch_terms: " + "[" * 500 + "]" * 500 + "}\n"
    else:
        nested = "portfolio:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(500))
    (tmp_path / "monitor.yaml").write_text(nested)
    one_line(monitor("check", "-c", str(tmp_path / "monitor.yaml"), cwd=tmp_path),
             f"{tmp_path / 'monitor.yaml'}:", "nested deeper than 100 levels")  # fmt: skip
    (tmp_path / "deep.yaml").write_text("customers:\n  - id: a\n    name: " + "[" * 500 + "]" * 500)
    (tmp_path / "monitor.yaml").write_text("portfolio: deep.yaml\n")
    deep = tmp_path / "deep.yaml"
    one_line(monitor("status", "-c", str(tmp_path / "monitor.yaml"), cwd=tmp_path),
             f"{deep}:3: invalid YAML: nested deeper than 100 levels")  # fmt: skip
