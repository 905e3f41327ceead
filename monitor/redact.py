"""Keep secrets (passwords, webhook tokens) out of logs, errors and the database."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

SECRET_PARAMETERS = r"api_key|apikey|key|token|access_token|secret|pass|password|pwd|sig"
_SECRET_QUERY = re.compile(rf"(?i)([?&](?:{SECRET_PARAMETERS})=)[^&#]*")


def redact_url(url: str) -> str:
    """`scheme://user:***@host/...` with secret query parameters masked (source URLs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"***@{host}"
    query = _SECRET_QUERY.sub(r"\1***", "?" + parts.query)[1:] if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub(text: str, secrets: list[str]) -> str:
    """Remove every known secret string from free text (an error message, a log line)."""
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
