"""Rendering alerts from Jinja2 templates.

Built-in templates live in the repository's `templates/` (shipped inside the
wheel as `monitor/_templates`); a folder named in the config overrides any of
them by file name. Every template is compiled at start-up, so a broken override
fails then, with its file and line, not at 3 a.m. on the first alert. HTML is
autoescaped: Federal Register text can contain markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from monitor.document import Document
from monitor.yamlfile import ConfigError

_PACKAGE = Path(__file__).parent
# Each family of events has a title and one body per format: `alert` for events
# about a document, `source` for a source's health.
TEMPLATE_FILES = {
    "email": "{family}.email.html",
    "slack": "{family}.slack.md",
    "text": "{family}.txt",
}
TITLE_TEMPLATE = "{family}.title.txt"


def builtin_templates() -> Path:
    """`templates/` beside the package in a checkout, `monitor/_templates` when installed."""
    for candidate in (_PACKAGE.parent / "templates", _PACKAGE / "_templates"):
        if (candidate / TITLE_TEMPLATE.format(family="alert")).is_file():
            return candidate
    raise ConfigError(f"built-in templates not found beside {_PACKAGE}")


def mrkdwn(value: Any) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def make_env(override: Path | None = None) -> jinja2.Environment:
    folders = [str(override)] if override else []
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*folders, str(builtin_templates())]),
        autoescape=jinja2.select_autoescape(["html", "htm"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["mrkdwn"] = mrkdwn
    return env


def load_templates(override: Path | None = None) -> jinja2.Environment:
    """Build the environment and compile every template now; errors name file and line."""
    if override is not None and not override.is_dir():
        raise ConfigError(f"{override}: templates_dir is not a folder")
    env = make_env(override)
    for name in env.list_templates():
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or name
            raise ConfigError(f"{where}:{exc.lineno}: template error: {exc.message}") from None
    return env


@dataclass
class Rendered:
    title: str
    body: str
    format: str


def render(
    env: jinja2.Environment, fmt: str, context: dict[str, Any], family: str | None = None
) -> Rendered:
    """Render the title and the body of one message for one channel format.

    The family is `alert` for an event about a document, `source` for a source's
    health (no document), or given (`digest`).
    """
    family = family or ("alert" if context.get("doc") is not None else "source")
    body_name = TEMPLATE_FILES[fmt].format(family=family)
    try:
        title = env.get_template(TITLE_TEMPLATE.format(family=family)).render(context)
        body = env.get_template(body_name).render(context)
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = body_name + (f":{line}" if line else "")
        raise ConfigError(f"template {where}: {exc}") from None
    return Rendered(title=" ".join(title.split()), body=body.strip() + "\n", format=fmt)


def alert_context(
    kind: str,
    doc: Document | None,
    score: int,
    severity: str,
    reasons: list[dict],
    matches: dict,
    payload: dict | None = None,
) -> dict[str, Any]:
    """What every template sees: `event` (kind, score, severity, reasons, matches,
    payload: the kind's own facts, e.g. a deadline's date) and `doc` (None for
    a source's health, whose facts are in the payload)."""
    event = {
        "kind": kind,
        "score": score,
        "severity": severity,
        "reasons": reasons,
        "matches": matches,
        "payload": payload or {},
    }
    return {"event": event, "doc": doc}
