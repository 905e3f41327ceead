"""Loopback helpers for the tests: free ports and a real SMTP inbox (aiosmtpd)."""

from __future__ import annotations

import socket


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
