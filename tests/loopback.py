"""Loopback helpers for the tests: free ports, a real SMTP inbox (aiosmtpd), and waiting
on a condition with a deadline."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.messages.append(envelope)
        return "250 OK"


def requests_to(server, path: str) -> list:
    """The requests a pytest-httpserver received for one path, in order."""
    return [request for request, _ in server.log if request.path == path]


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30.0) -> object:
    """Poll `condition` until it is true (its value), or fail naming `what`: a wait on a
    condition with a deadline, never a sleep standing in for one."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)
