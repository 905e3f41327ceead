"""Rendering alerts from Jinja2 templates.

Every alert kind (`monitor.event_kinds.ALERT_KINDS`) has its own templates, one per
part and format: `<kind>.title.txt` (what happened: the subject and the body's
headline), `<kind>.txt` (plain text: text channels and the email's text part),
`<kind>.slack.md` (Slack mrkdwn) and `<kind>.email.html` (HTML email, inline
CSS). They extend shared layouts (`_layout.*`) and draw on shared partials
(`_facts.jinja`, `_text.jinja`, `_slack.jinja`, `_email.html`), so a kind says
only what is its own. `group.*` renders several events in one message and
`digest.*` the weekly digest.

Built-in templates live in the repository's `templates/` (shipped inside the
wheel as `monitor/_templates`); a folder named in the config overrides any of
them by file name. At start-up every template is compiled and every family is
rendered in every format against sample events (`monitor.samples`), so a broken
override fails then, with its file and line, not at 3 a.m. on the first alert.
HTML is autoescaped: Federal Register text can contain markup.
"""

from __future__ import annotations

import re
import traceback
from collections import Counter
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from monitor.document import Document
from monitor.event_kinds import ALERT_KINDS, alert_kind
from monitor.severity import SEVERITIES, rank
from monitor.yamlfile import ConfigError

_PACKAGE = Path(__file__).parent
TEMPLATE_FILES = {
    "email": "{name}.email.html",
    "slack": "{name}.slack.md",
    "text": "{name}.txt",
}
TITLE_TEMPLATE = "{name}.title.txt"
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def builtin_templates() -> Path:
    """`templates/` beside the package in a checkout, `monitor/_templates` when installed."""
    for candidate in (_PACKAGE.parent / "templates", _PACKAGE / "_templates"):
        if (candidate / TITLE_TEMPLATE.format(name="new_document")).is_file():
            return candidate
    raise ConfigError(f"built-in templates not found beside {_PACKAGE}")


def mrkdwn(value: Any) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def diffstat(unified: str) -> dict[str, int]:
    """Lines added and removed in a unified diff."""
    lines = unified.splitlines()
    return {
        "added": sum(1 for x in lines if x.startswith("+") and not x.startswith("+++")),
        "removed": sum(1 for x in lines if x.startswith("-") and not x.startswith("---")),
    }


def moved(chip: dict) -> bool:
    """A chip a threshold change reclassifies (payloads without the flag: every chip)."""
    return bool(chip.get("changed", True))


def make_env(override: Path | None = None) -> jinja2.Environment:
    """Jinja2's sandbox, immutable: a template (`alerting.templates_dir` is the user's) reads
    the data it is given and nothing more: no `__globals__`, no interpreter, no changing
    the context (`{{ cycler.__init__.__globals__.os.popen(...) }}` is a template error)."""
    folders = [str(override)] if override else []
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader([*folders, str(builtin_templates())]),
        autoescape=jinja2.select_autoescape(["html", "htm"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["mrkdwn"] = mrkdwn
    env.filters["diffstat"] = diffstat
    env.tests["moved"] = moved
    return env


def load_templates(override: Path | None = None) -> jinja2.Environment:
    """Build the environment, compile every template and render every family in every
    format against sample events; an error names the file and the line."""
    from monitor.samples import sample_contexts

    if override is not None and not override.is_dir():
        raise ConfigError(f"{override}: templates_dir is not a folder")
    env = make_env(override)
    builtin = set(jinja2.FileSystemLoader(str(builtin_templates())).list_templates())
    for path in sorted(override.iterdir()) if override is not None else []:
        if path.is_file() and not path.name.startswith("_") and path.name not in builtin:
            raise ConfigError(
                f"{path}: overrides no built-in template (names as in templates/,"
                " e.g. new_document.email.html; partials start with _)"
            )
    for name in env.list_templates():
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or name
            raise ConfigError(f"{where}:{exc.lineno}: template error: {exc.message}") from None
    samples = sample_contexts()
    samples["group"] = group_context(env, [samples[kind] for kind in ALERT_KINDS])
    for family, context in samples.items():
        for fmt in TEMPLATE_FILES:
            render(env, fmt, context, family)
    return env


@dataclass
class Rendered:
    title: str
    body: str
    format: str
    text: str | None = None  # an email's plain-text part, from the text template


def stamped(rendered: Rendered, alert_id: int, repeat: bool = False) -> Rendered:
    """The message with the ID of the outbox row it goes as, so a receiver can deduplicate
    (and a reader can ask `monitor alerts` about it); `repeat`: an earlier attempt got no
    answer, so this one may repeat it, and says so. Added here, not by a template, so an
    overridden template cannot drop it. Slack's last line stays the link (`fit_slack`
    keeps the last line)."""
    line = f"regmonitor alert {alert_id}"
    if repeat:
        line += " (sent again: an earlier attempt got no answer, so this may repeat it)"
    text = rendered.text.rstrip("\n") + f"\n\n{line}\n" if rendered.text is not None else None
    body = rendered.body.rstrip("\n")
    if rendered.format == "slack":
        head, _, last = body.rpartition("\n")
        body = f"{head}\n_{mrkdwn(line)}_\n{last}\n" if head else f"{body}\n_{mrkdwn(line)}_\n"
    elif rendered.format == "email":
        mark = f'<p style="margin:8px 16px;font-size:11px;color:#57606a;">{escape(line)}</p>'
        at = body.rfind("</body>")
        body = f"{body[:at]}{mark}\n{body[at:]}\n" if at >= 0 else f"{body}\n{mark}\n"
    else:
        body = f"{body}\n\n{line}\n"
    return Rendered(title=rendered.title, body=body, format=rendered.format, text=text)


def template_family(context: dict[str, Any]) -> str:
    """The templates of the event in `context`: its alert kind."""
    family = alert_kind(context["event"]["kind"], context["doc"])
    if family not in ALERT_KINDS:
        raise ConfigError(f"no templates for events of kind {family!r}")
    return family


def render(
    env: jinja2.Environment, fmt: str, context: dict[str, Any], family: str | None = None
) -> Rendered:
    """Render the title and the body of one message for one channel format.

    The family is the event's alert kind, or given (`group`, `digest`). An email
    gets its text part from the text template of the same family.
    """
    family = family or template_family(context)
    title_name = TITLE_TEMPLATE.format(name=family)
    title = _render(env, title_name, {**context, "part": "subject"})
    wording = _wording(env, family, context)

    def body(form: str) -> str:
        text = _render(env, TEMPLATE_FILES[form].format(name=family), {**context, **wording})
        return (text if form == "email" else _BLANK_LINES.sub("\n\n", text)).strip() + "\n"

    return Rendered(
        title=" ".join(title.split()),
        body=body(fmt),
        format=fmt,
        text=body("text") if fmt == "email" else None,
    )


def _wording(env: jinja2.Environment, family: str, context: dict[str, Any]) -> dict[str, str]:
    """The `headline` and `what` parts of the family's title template, on one line each."""
    name = TITLE_TEMPLATE.format(name=family)
    return {
        part: " ".join(_render(env, name, {**context, "part": part}).split())
        for part in ("headline", "what")
    }


def _render(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{_where(exc, name)}: template error: {exc}") from None


def _where(exc: BaseException, name: str) -> str:
    """`file:line` of the template line that failed (Jinja puts it in the traceback)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if not frame.filename.endswith(".py") and frame.lineno:
            return f"{frame.filename}:{frame.lineno}"
    line = getattr(exc, "lineno", None)
    return name + (f":{line}" if line else "")


def alert_context(
    kind: str,
    doc: Document | None,
    score: int,
    severity: str,
    reasons: list[dict],
    matches: dict,
    payload: dict | None = None,
    review_url: str | None = None,
) -> dict[str, Any]:
    """What every template sees: `event` (kind, score, severity, reasons, matches,
    payload: the kind's own facts, e.g. a deadline's date or Entity List entries;
    review_url: its page in `monitor web`, when `web.base_url` is set) and `doc` (None
    for a source's health, whose facts are in the payload)."""
    event = {
        "kind": kind,
        "score": score,
        "severity": severity,
        "reasons": reasons,
        "matches": matches,
        "payload": payload or {},
        "review_url": review_url,
    }
    return {"event": event, "doc": doc}


def group_context(env: jinja2.Environment, contexts: list[dict[str, Any]]) -> dict[str, Any]:
    """Several events in one message: `items` (each event's context with its headline
    and `what`), most severe first; `sections`, one per document (a source's health
    has its own) with its `events`; `severities`, [(severity, count)], most severe first."""
    ranked = sorted(contexts, key=lambda c: (-rank(c["event"]["severity"]), -c["event"]["score"]))
    items = [{**c, **_wording(env, template_family(c), c)} for c in ranked]
    sections: dict[Any, dict[str, Any]] = {}
    for i, item in enumerate(items):
        key = item["doc"].key if item["doc"] is not None else i
        sections.setdefault(key, {"doc": item["doc"], "events": []})["events"].append(item)
    counts = Counter(item["event"]["severity"] for item in items)
    severities = [(s, counts[s]) for s in reversed(SEVERITIES) if counts[s]]
    return {"items": items, "sections": list(sections.values()), "severities": severities}
