"""A throw-away PostgreSQL server on loopback for the store's tests.

Uses the server binaries of Debian's `postgresql` package (initdb, pg_ctl). As
root they must run as the `postgres` user. Without them the tests that need
PostgreSQL are skipped with the reason; `make test` installs the package.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.loopback import free_port


def _binaries() -> Path | None:
    for found in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (found / "initdb").exists() and (found / "pg_ctl").exists():
            return found
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextmanager
def postgres_server() -> Iterator[str | None]:
    """Yield a SQLAlchemy URL of a fresh server, or None when PostgreSQL is not installed."""
    binaries = _binaries()
    if binaries is None:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="regmonitor-pg-"))
    data, port = root / "data", free_port()
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    run(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "regmonitor", "-E", "UTF8")
    options = f"-h 127.0.0.1 -p {port} -k {root}"
    run(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
        str(root / "log"), "start")  # fmt: skip
    try:
        yield f"postgresql+psycopg://regmonitor@127.0.0.1:{port}/postgres"
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
