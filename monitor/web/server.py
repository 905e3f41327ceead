"""`monitor web`: the application under uvicorn, on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable

import uvicorn

from monitor.config import Config
from monitor.store import open_reader, open_store
from monitor.web.app import create_app
from monitor.yamlfile import ConfigError


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(config: Config, host: str, port: int, say: Callable[[str], None]) -> None:
    """Run until interrupted. No user and no token configured is a ConfigError: the
    application never runs open."""
    settings = config.web
    if not settings.users and not settings.tokens:
        raise ConfigError(
            "web: no users or tokens configured, so nobody could log in: add web.users"
            " (hashes from `monitor web hash-password`) or web.tokens"
        )
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value()
    else:
        key = secrets.token_urlsafe(48)
        say("note: no web.secret_key: sessions end when this server stops")
    if not _loopback(host) and not settings.secure:
        say(f"note: listening on {host} without HTTPS: put it behind a TLS proxy and set"
            " web.base_url to its https:// address")  # fmt: skip
    db = open_store(config.database_url)  # migrated here; the reader needs the schema
    app = create_app(config, db, open_reader(config.database_url), key)
    say(f"regmonitor web on http://{host}:{port}/ (Ctrl-C stops it)")
    uvicorn.run(app, host=host, port=port, log_config=None, server_header=False,
                access_log=False, proxy_headers=True)  # fmt: skip
