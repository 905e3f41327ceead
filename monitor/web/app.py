"""The web application: Starlette routes rendering Jinja2 pages from the store.

Closed by default: `Guard` lets a request through to a page only with a session of a
configured user (a signed cookie, `SessionMiddleware`) or an API token; without one a
browser is sent to the login page and anything else gets 401. Every form carries the
session's CSRF token and a POST without it changes nothing (403). The review author is
the logged-in user (or the token's name). Pages show no secret: no channel URL; source
URLs, and every URL in an error, with credentials and secret parameters masked; every
configured secret removed. Pages read through a read-only store (`monitor.store.
open_reader`); recording a decision is the one write. `/healthz` answers without a
login, for a load balancer.
"""

from __future__ import annotations

import io
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from monitor import review
from monitor.config import Config
from monitor.ics import LABELS, to_ics
from monitor.logs import config_secrets
from monitor.severity import SEVERITIES
from monitor.store import Store
from monitor.web import auth, queries

HERE = Path(__file__).parent
PUBLIC = ("/login", "/healthz", "/static/")
SESSION_COOKIE = "regmonitor_session"
HEADERS = [
    (b"content-security-policy", b"default-src 'none'; style-src 'self'; img-src 'self'; "
     b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]  # fmt: skip
EXPIRED = (
    "This form has expired or was not sent from regmonitor (no valid CSRF token):"
    " nothing was changed."
)
CHANGED = "Someone recorded a change to this review meanwhile: read it, then record yours."
log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
ASGI = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Any]


class Guard:
    """Every request but the public paths needs a user: a session's or an API token's.

    Sets `scope["user"]` and `scope["auth"]` (`session` or `token`); adds the security
    headers to every response.
    """

    def __init__(self, app: ASGI, config: Config) -> None:
        self.app, self.settings = app, config.web

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *HEADERS]
            await send(message)

        path = scope["path"]
        request = Request(scope)
        user = auth.token_user(self.settings, request.headers.get("authorization"))
        scope["auth"] = "token" if user else None
        if user is None and "authorization" not in request.headers:
            user = auth.session_user(self.settings, scope.get("session", {}))
            scope["auth"] = "session" if user else None
        scope["user"] = user
        if user is None and not path.startswith(PUBLIC):
            await _refused(request)(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def _refused(request: Request) -> Response:
    """A browser goes to the login page; a script, a POST or a bad token gets 401."""
    browser = "text/html" in request.headers.get("accept", "")
    if request.method == "GET" and browser and "authorization" not in request.headers:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return JSONResponse({"error": "login required"}, status_code=401,
                        headers={"www-authenticate": "Bearer"})  # fmt: skip


def _download(name: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="{name}"'}


def _text(form: Any, name: str) -> str:
    """A form field's text ("" when missing, or a file where text was expected)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _safe_next(value: str | None) -> str:
    """Only a path of this site (never `//elsewhere` or `https://...`)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/events"
    return value


class Pages:
    """The handlers, sharing the configuration, the store and the templates."""

    def __init__(self, config: Config, db: Store, reader: Store) -> None:
        self.config, self.db, self.reader = config, db, reader
        self.limiter = auth.LoginLimiter()
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(HERE / "templates")),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            SEVERITIES=SEVERITIES, STATUSES=review.STATUSES, LABELS=LABELS, urlencode=urlencode
        )
        secrets_of_config = config_secrets(config)
        self.env.filters["masked"] = lambda value: queries.masked(str(value), secrets_of_config)

    def render(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> Response:
        """The page `template` with the request, the user, the CSRF token and the config."""
        session = request.scope.get("session", {})
        page = self.env.get_template(template).render(
            request=request, user=request.scope.get("user"), csrf=auth.csrf_token(session),
            config=self.config, **context,
        )  # fmt: skip
        return HTMLResponse(page, status_code=status)

    def problem(self, request: Request, status: int, message: str) -> Response:
        return self.render(request, "problem.html", status=status, status_code=status,
                           message=message)  # fmt: skip

    def _csrf_refused(self, request: Request, form: Any) -> Response | None:
        """403 when a session's form lacks its CSRF token (a token's request needs none)."""
        if request.scope.get("auth") == "token":
            return None
        if not auth.csrf_ok(request.scope.get("session", {}), form.get("csrf")):
            return self.problem(request, 403, EXPIRED)
        return None

    # --- login --------------------------------------------------------------------------

    def login_page(self, request: Request) -> Response:
        if request.scope.get("user"):
            return RedirectResponse(_safe_next(request.query_params.get("next")), 303)
        return self.render(request, "login.html", next=request.query_params.get("next", ""),
                           error=None, name="")  # fmt: skip

    async def login(self, request: Request) -> Response:
        form = await request.form()
        refused = self._csrf_refused(request, form)
        if refused is not None:
            return refused
        name, password = _text(form, "name").strip(), _text(form, "password")
        target = _safe_next(_text(form, "next"))
        if self.limiter.blocked(name):
            error = "Too many wrong passwords for this user: try again later."
            return self.render(request, "login.html", 429, next=target, name=name, error=error)
        user = await run_in_threadpool(auth.check_password, self.config.web, name, password)
        if user is None:
            self.limiter.failed(name)
            # a name that is no user may be a password typed into the wrong field: not logged
            known = any(u.name == name for u in self.config.web.users)
            log.warning("failed login for %s", f"user {name}" if known else "an unknown name")
            error = "Wrong user name or password."
            return self.render(request, "login.html", 401, next=target, name=name, error=error)
        self.limiter.succeeded(name)
        session = request.scope["session"]
        session.clear()  # a new session: no fixation of one made before the login
        session.update(user=user.name, fp=auth.fingerprint(user), at=int(time.time()),
                       csrf=secrets.token_urlsafe(32))  # fmt: skip
        return RedirectResponse(target, status_code=303)

    async def logout(self, request: Request) -> Response:
        form = await request.form()
        refused = self._csrf_refused(request, form)
        if refused is not None:
            return refused
        request.scope["session"].clear()
        return RedirectResponse("/login", status_code=303)

    # --- pages ---------------------------------------------------------------------------

    def health(self, request: Request) -> Response:
        try:
            with self.reader.session() as session:
                session.execute(text("SELECT 1"))
        except Exception:  # the store is down: say so, without its details
            log.exception("health check: the store does not answer")
            return JSONResponse({"status": "error", "store": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    def events(self, request: Request) -> Response:
        with self.reader.session() as session:
            kinds = queries.event_kinds(session)
            try:
                filters = queries.parse_filters(request.query_params, self.config, kinds)
            except queries.BadRequest as exc:
                return self.problem(request, 400, str(exc))
            lines, total = queries.list_events(session, filters)
        return self.render(request, "events.html", lines=lines, total=total, filters=filters,
                           kinds=kinds, per_page=queries.PER_PAGE)  # fmt: skip

    def event(self, request: Request) -> Response:
        event_id = request.path_params["event_id"]
        with self.reader.session() as session:
            page = queries.event_page(session, self.config, event_id)
        if page is None:
            return self.problem(request, 404, f"There is no event with ID {event_id}.")
        return self.render(request, "event.html", page=page, error=None)

    async def record(self, request: Request) -> Response:
        event_id = request.path_params["event_id"]
        form = await request.form()
        refused = self._csrf_refused(request, form)
        if refused is not None:
            return refused
        return await run_in_threadpool(self._record, request, event_id, form)

    def _record(self, request: Request, event_id: int, form: Any) -> Response:
        seen = _text(form, "seen").strip()
        with self.db.session() as session:  # the writer's session, closed before any page
            try:
                review.record(
                    session, event_id, request.scope["user"],
                    status=_text(form, "status") or None, note=_text(form, "note"),
                    assignee=_text(form, "assignee"), actions=_text(form, "actions").splitlines(),
                    seen=int(seen) if seen.isdigit() else None,
                )  # fmt: skip
                session.commit()
                refused = None
            except review.ReviewConflict:
                refused = (409, CHANGED)
            except review.ReviewError as exc:
                refused = (400, str(exc))
        if refused is None:
            return RedirectResponse(f"/events/{event_id}#review", status_code=303)
        with self.reader.session() as session:
            page = queries.event_page(session, self.config, event_id)
        if page is None:
            return self.problem(request, 404, f"There is no event with ID {event_id}.")
        return self.render(request, "event.html", refused[0], page=page, error=refused[1])

    def _days(self, request: Request) -> tuple[int, bool]:
        days = request.query_params.get("days", "90")
        if not days.isdigit() or not 1 <= int(days) <= 3650:
            raise queries.BadRequest(f"days: {days!r} is not a number of days (1 to 3650)")
        return int(days), request.query_params.get("all") == "1"

    def deadlines(self, request: Request) -> Response:
        try:
            days, everything = self._days(request)
        except queries.BadRequest as exc:
            return self.problem(request, 400, str(exc))
        with self.reader.session() as session:
            lines = queries.upcoming_deadlines(session, self.config, days, everything)
        months: dict[str, list[queries.DeadlineLine]] = {}
        for line in lines:
            months.setdefault(f"{line.entry.due:%B %Y}", []).append(line)
        return self.render(request, "deadlines.html", months=months, days=days,
                           everything=everything, total=len(lines))  # fmt: skip

    def deadlines_ics(self, request: Request) -> Response:
        try:
            days, everything = self._days(request)
        except queries.BadRequest as exc:
            return self.problem(request, 400, str(exc))
        with self.reader.session() as session:
            lines = queries.upcoming_deadlines(session, self.config, days, everything)
        body = to_ics([line.entry for line in lines])
        return Response(body, media_type="text/calendar", headers=_download("deadlines.ics"))

    def sources(self, request: Request) -> Response:
        with self.reader.session() as session:
            lines, health = queries.sources(session, self.config)
        return self.render(request, "sources.html", lines=lines, health=health)

    def customers(self, request: Request) -> Response:
        with self.reader.session() as session:
            counts = queries.customer_counts(session)
        return self.render(request, "customers.html", customers=self.config.portfolio.customers,
                           counts=counts)  # fmt: skip

    def customer(self, request: Request) -> Response:
        wanted = request.path_params["customer_id"]
        found = next((c for c in self.config.portfolio.customers if c.id == wanted), None)
        if found is None:
            return self.problem(request, 404, f"There is no customer {wanted!r} in the portfolio.")
        with self.reader.session() as session:
            touches = queries.customer_history(session, wanted)
        return self.render(request, "customer.html", customer=found, touches=touches)

    def export(self, request: Request) -> Response:
        from monitor.digest import period_start

        bounds = {}
        for name in ("since", "until"):
            value = request.query_params.get(name)
            try:
                bounds[name] = period_start(value) if value else None
            except ValueError as exc:
                return self.problem(request, 400, f"{name}: {exc}")
        with self.reader.session() as session:
            rows = review.export_rows(session, bounds["since"], bounds["until"])
        out = io.StringIO()
        review.write_csv(rows, out)
        name = f"regmonitor-reviews-{date.today().isoformat()}.csv"
        return Response(
            out.getvalue(), media_type="text/csv; charset=utf-8", headers=_download(name)
        )


def create_app(config: Config, db: Store, reader: Store, secret_key: str) -> Starlette:
    """The application: `db` records reviews, `reader` serves every page."""
    pages = Pages(config, db, reader)
    routes = [
        Route("/", lambda request: RedirectResponse("/events", status_code=303)),
        Route("/login", pages.login_page, methods=["GET"]),
        Route("/login", pages.login, methods=["POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/healthz", pages.health, methods=["GET"]),
        Route("/events", pages.events, methods=["GET"]),
        Route("/events/{event_id:int}", pages.event, methods=["GET"]),
        Route("/events/{event_id:int}/review", pages.record, methods=["POST"]),
        Route("/deadlines", pages.deadlines, methods=["GET"]),
        Route("/deadlines.ics", pages.deadlines_ics, methods=["GET"]),
        Route("/sources", pages.sources, methods=["GET"]),
        Route("/customers", pages.customers, methods=["GET"]),
        Route("/customers/{customer_id}", pages.customer, methods=["GET"]),
        Route("/reviews.csv", pages.export, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=int(config.web.session_hours * 3600),
            same_site="lax",
            https_only=config.web.secure,
        ),
        Middleware(Guard, config=config),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.add_exception_handler(404, lambda request, exc: pages.problem(
        request, 404, "There is no such page."))  # fmt: skip
    return app
