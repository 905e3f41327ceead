"""Logging that can never print a secret, in any process and from any library.

httpx logs every request's URL, which may carry a source's `user:password@` or a
`?token=`; apprise, kombu and celery log too, and celery sets up handlers of its own
in the worker and beat. So the redaction is not a filter on one handler: it is the
process's log record factory, applied to every record of every logger when it is
made, before any handler sees it. Each message, its exception text and its stack
are scrubbed of every secret the configuration holds (channel URLs, source and feed
URLs, the store and broker URLs, the regulations.gov key) and of any URL password or
secret query parameter at all.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

from monitor.channels import secrets_of
from monitor.config import Config
from monitor.redact import SECRET_PARAMETERS, scrub

LEVEL_ENV = "MONITOR_LOG_LEVEL"

# `scheme://user:PASSWORD@`, from the start of a scheme only (linear in a long word)
_USERINFO = re.compile(r"(?i)(?<![\w+.-])([a-z][\w+.-]*://[^\s/@:]*):[^\s/@]*@")
_QUERY = re.compile(rf"(?i)([?&](?:{SECRET_PARAMETERS})=)[^&#\s\"'<>]*")

_factory = logging.getLogRecordFactory()
_secrets: list[str] = []


def redacted(text: str) -> str:
    """`text` without any configured secret, URL password or secret query value."""
    text = scrub(text, _secrets)
    return _QUERY.sub(r"\1***", _USERINFO.sub(r"\1:***@", text))


def _record(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: its text is still scrubbed
        message = str(record.msg)
    record.msg, record.args = redacted(message), None
    if record.exc_info:  # formatters use exc_text when it is set
        record.exc_text = redacted(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redacted(record.stack_info)
    return record


def install_redaction(secrets: Iterable[str]) -> None:
    """Redact every log record made in this process from now on (idempotent)."""
    global _secrets
    _secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
    logging.setLogRecordFactory(_record)


def _url_secrets(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [parts.password or ""]
    found += [v for k, v in parse_qsl(parts.query) if re.fullmatch(SECRET_PARAMETERS, k, re.I)]
    return found


def config_secrets(config: Config) -> list[str]:
    found = [s for c in config.channels for s in secrets_of(c.url.get_secret_value())]
    if config.regulations_gov.api_key:
        found.append(config.regulations_gov.api_key)
    urls = [config.database_url, config.celery.broker_url.get_secret_value()]
    if config.celery.result_backend:
        urls.append(config.celery.result_backend.get_secret_value())
    for source in config.sources:
        urls.append(source.base_url)
        urls += [feed.url for feed in getattr(source, "feeds", [])]
    found += [s for url in urls for s in _url_secrets(url)]
    found += [t.token.get_secret_value() for t in config.web.tokens]
    if config.web.secret_key:
        found.append(config.web.secret_key.get_secret_value())
    return [s for s in found if s]


def setup_logging(config: Config) -> None:
    """The CLI's logging: one handler on stderr at `MONITOR_LOG_LEVEL` (WARNING)."""
    install_redaction(config_secrets(config))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_regmonitor", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._regmonitor = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(os.environ.get(LEVEL_ENV, "WARNING").upper())
