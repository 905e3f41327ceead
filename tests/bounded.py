"""Work bounded by a generous deadline, for the tests that prove an algorithm linear.

Each such test runs on an input sized so that the super-linear version it replaced
takes minutes, and the linear one a fraction of a second: the deadline is tens of
times what the linear one needs on a busy machine, and only the broken version reaches
it. `at_most` interrupts Python code (SIGALRM, main thread); a regular expression runs
in C and cannot be interrupted, so `in_fresh_interpreter` runs it in a child process.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


class _Expired(BaseException):
    """Raised by the alarm wherever the code under test is: a BaseException, so that
    no `except Exception` in it swallows the deadline."""


@contextmanager
def at_most(seconds: int, what: str) -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    except _Expired:
        # raised afresh here, without the frames it interrupted (a frame stopped
        # mid-instruction can have no line number, which pytest cannot show)
        raise TimeoutError(f"{what}: still running after {seconds} s (super-linear?)") from None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def in_fresh_interpreter(code: str, seconds: int) -> subprocess.CompletedProcess:
    """Runs `code` with `python -c`, killed after `seconds` (TimeoutExpired)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=seconds, check=False
    )
