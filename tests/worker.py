"""Real Celery workers (and beats) as subprocesses, for the scheduled runtime's tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT


class Worker:
    """`command` (default: celery's worker, prefork, 2 processes) with MONITOR_CONFIG and
    MONITOR_BROKER_URL set; started when its log shows `ready`."""

    def __init__(
        self,
        config: Path,
        broker: str,
        log: Path,
        command: list[str] | None = None,
        ready: str = "ready.",
    ) -> None:
        self.config, self.broker, self.log, self.ready = config, broker, log, ready
        self.command = command or [
            sys.executable, "-m", "celery", "-A", "monitor.tasks", "worker", "-P", "prefork",
            "-c", "2", "--without-mingle", "--without-gossip", "-l", "INFO",
            "-n", f"{log.stem}-{os.getpid()}@localhost",
        ]  # fmt: skip
        self.process: subprocess.Popen | None = None

    def start(self, deadline: float = 30.0) -> None:
        env = {**os.environ, "MONITOR_CONFIG": str(self.config), "MONITOR_BROKER_URL": self.broker}
        args = self.command
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() reaches the children
            )  # fmt: skip
        end = time.monotonic() + deadline
        while self.ready not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"{args[:4]} did not start:\n{self.output()}")
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # warm shutdown
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
