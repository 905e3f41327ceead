"""Logging that can never print a secret.

apprise and httpx log through the standard `logging` module; a filter on our
handler removes every credential found in the configured channel and store
URLs from each record before it is written.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import urlsplit

from monitor.channels import secrets_of
from monitor.config import Config
from monitor.redact import scrub

LEVEL_ENV = "MONITOR_LOG_LEVEL"


class SecretFilter(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage(), self.secrets)
        record.args = None
        return True


def config_secrets(config: Config) -> list[str]:
    found = [s for c in config.channels for s in secrets_of(c.url.get_secret_value())]
    if config.regulations_gov.api_key:
        found.append(config.regulations_gov.api_key)
    if config.store_url:
        found.append(urlsplit(config.store_url.get_secret_value()).password or "")
    found += [t.token.get_secret_value() for t in config.web.tokens]
    if config.web.secret_key:
        found.append(config.web.secret_key.get_secret_value())
    return [s for s in found if s]


def setup_logging(config: Config) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(config_secrets(config)))
    root = logging.getLogger()
    for old in [h for h in root.handlers if any(isinstance(f, SecretFilter) for f in h.filters)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(os.environ.get(LEVEL_ENV, "WARNING").upper())
