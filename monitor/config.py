"""`monitor.yaml`: sources, portfolio, channels, scoring and where data lives.

Every value is validated by pydantic; an error is one line naming the file,
the line and the field. `${ENV}` references are expanded before validation so
secrets (SMTP passwords, webhook tokens) live in the environment, not the file.
With no file at all the built-in defaults watch BIS in the Federal Register
and keep state in the user's data folder: `monitor check` works out of the box.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.event_kinds import AlertKind
from monitor.health import HealthPolicy
from monitor.portfolio import (
    PORTFOLIO_KEYS,
    Portfolio,
    load_portfolio,
    merge_checked,
    portfolio_from_yaml,
)
from monitor.regulations_gov import RegulationsGovConfig
from monitor.severity import Severity, rank
from monitor.web.settings import WebConfig
from monitor.yamlfile import ConfigError, YamlDoc, expand_env, load_yaml
from watchers import WATCHERS, SourceOptions, load_builtin

CONFIG_ENV = "MONITOR_CONFIG"
DEFAULT_CONFIG_NAME = "monitor.yaml"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "regmonitor"


class ChannelConfig(BaseModel):
    """An alert destination: any apprise URL, plus routing (see monitor.routing)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    url: SecretStr
    min_severity: Severity = "high"
    immediate: Severity = Field(
        default="high", description="at or above: sent at once; below: in the weekly digest"
    )
    kinds: list[AlertKind] | None = Field(default=None, min_length=1)
    tags: list[str] | None = Field(default=None, min_length=1)
    customers: list[str] | None = Field(default=None, min_length=1)
    format: Literal["auto", "email", "slack", "text"] = "auto"
    enabled: bool = True
    timeout: float = Field(
        default=30.0, gt=0, le=600, description="seconds a delivery may take; longer: unknown"
    )

    @property
    def uses_digest(self) -> bool:
        """Some events it takes wait for the digest (between min_severity and immediate)."""
        return rank(self.immediate) > rank(self.min_severity)


class ScoringConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: int = Field(default=50, ge=0, le=100, description="score at which an event alerts")
    weights: dict[str, int] = Field(
        default_factory=dict, description="points added to (or taken from) an impact kind"
    )

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, value: dict[str, int]) -> dict[str, int]:
        from monitor.relevance.impact import IMPACT_KINDS

        unknown = sorted(set(value) - set(IMPACT_KINDS))
        if unknown:
            raise ValueError(
                f"unknown weight {unknown[0]!r}; known (impact kinds): {', '.join(IMPACT_KINDS)}"
            )
        return value


class DeadlinesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offsets: list[int] = Field(
        default_factory=lambda: [30, 14, 7, 1], description="days before a deadline to remind"
    )
    kinds: list[Literal["comments", "effective", "compliance"]] = Field(
        default_factory=lambda: ["comments", "effective", "compliance"]
    )

    @field_validator("offsets")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if not value or any(o < 0 for o in value):
            raise ValueError("offsets must be a non-empty list of days >= 0")
        return sorted(set(value), reverse=True)


class AlertingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=5, ge=1, le=50)
    retry_backoff: float = Field(default=60.0, ge=0, description="seconds, doubled per attempt")
    templates_dir: Path | None = None
    group_above: int = Field(
        default=5, ge=1, description="more messages than this for one channel in one pass: one"
    )


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal[
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tue", "wed", "thu", "fri", "sat", "sun",
]  # fmt: skip


class DigestConfig(BaseModel):
    """The weekly digest: when it goes out, and to which channels (none given: every one)."""

    model_config = ConfigDict(extra="forbid")

    day: Weekday = "monday"
    hour: int = Field(default=8, ge=0, le=23)
    minute: int = Field(default=0, ge=0, le=59)
    timezone: str = "America/New_York"
    channels: list[str] | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as America/New_York"
            ) from None
        return value

    @property
    def weekday(self) -> int:
        """Monday is 0, as `date.weekday()` counts."""
        return next(i for i, name in enumerate(WEEKDAYS) if name.startswith(self.day))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


BROKER_ENV = "MONITOR_BROKER_URL"


def default_broker_url() -> str:
    return os.environ.get(BROKER_ENV) or "redis://localhost:6379/0"


class CeleryConfig(BaseModel):
    """The scheduled runtime (`monitor worker`, `monitor beat`); unused by `monitor check`."""

    model_config = ConfigDict(extra="forbid")

    broker_url: SecretStr = Field(default_factory=lambda: SecretStr(default_broker_url()))
    result_backend: SecretStr | None = None  # none: task results are not kept
    lock_timeout: int = Field(
        default=900, ge=1, description="seconds a task may run (and hold its lock) at most"
    )
    fan_out_above: int | None = Field(
        default=None,
        ge=0,
        description="a poll that finds more documents hands each to its own process_document"
        " task, spread over the workers; fewer are processed by the poll's worker at once."
        " Default: 200 on PostgreSQL; never on SQLite, which writes one at a time",
    )

    visibility_timeout: int = Field(
        default=3600, ge=2, description="seconds before an unacknowledged task is redelivered"
    )
    timezone: str = "America/New_York"  # of the deadline scan's time
    deadline_scan_at: str = Field(default="07:00", pattern=r"^\d{2}:\d{2}$")

    @model_validator(mode="before")
    @classmethod
    def _digest_moved(cls, data: Any) -> Any:
        moved = sorted({"digest_day", "digest_at"} & set(data)) if isinstance(data, dict) else []
        if moved:
            raise ValueError(
                f"{', '.join(moved)} moved: the digest's schedule is the top-level"
                " `digest: {day, hour, minute, timezone, channels}`"
            )
        return data

    @field_validator("visibility_timeout")
    @classmethod
    def _longer_than_tasks(cls, value: int, info: Any) -> int:
        lock = info.data.get("lock_timeout")
        if lock is not None and value <= lock:
            raise ValueError(
                f"must be longer than lock_timeout ({lock} s), the longest a task runs;"
                " else a running task is delivered a second time"
            )
        return value

    def fan_out(self, database_url: str) -> int | None:
        """`fan_out_above`, or its default for the store (None: never)."""
        if self.fan_out_above is not None:
            return self.fan_out_above
        return None if database_url.startswith("sqlite") else 200


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    path: Path | None = None
    data_dir: Path = Field(default_factory=default_data_dir)
    store_url: SecretStr | None = None
    sources: list[SourceOptions] = Field(default_factory=list)
    portfolio: Portfolio = Field(default_factory=Portfolio)
    channels: list[ChannelConfig] = Field(default_factory=list)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    deadlines: DeadlinesConfig = Field(default_factory=DeadlinesConfig)
    health: HealthPolicy = Field(default_factory=HealthPolicy)
    regulations_gov: RegulationsGovConfig = Field(default_factory=RegulationsGovConfig)
    celery: CeleryConfig = Field(default_factory=CeleryConfig)
    web: WebConfig = Field(default_factory=WebConfig)

    @property
    def database_url(self) -> str:
        if self.store_url is not None:
            return self.store_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'regmonitor.db'}"

    def source(self, name: str) -> SourceOptions:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} (configured: {known})")


def default_sources() -> list[SourceOptions]:
    load_builtin()
    return [WATCHERS["federal_register"].options(name="federal-register")]


def find_config(explicit: Path | None) -> Path | None:
    """--config, else $MONITOR_CONFIG, else ./monitor.yaml if present, else none."""
    if explicit is not None:
        return explicit
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    local = Path(DEFAULT_CONFIG_NAME)
    return local if local.exists() else None


def load_config(path: Path | None) -> Config:
    path = find_config(path)
    if path is None:
        return Config(sources=default_sources())
    doc = load_yaml(path)
    raw = doc.data if doc.data is not None else {}
    if not isinstance(raw, dict):
        raise doc.error((), "expected a mapping of settings at the top level")
    raw = expand_env(doc, raw)
    base = path.parent.resolve()
    known = set(Config.model_fields) - {"path"}
    for key in raw:
        if key not in known:
            raise doc.error((key,), f"unknown setting; expected one of: {', '.join(sorted(known))}")

    sources = _sources(doc, raw.get("sources"))
    portfolio = _portfolio(doc, raw.get("portfolio"), base)
    channels = [_channel(doc, raw, i, base) for i in range(len(_list(doc, raw, "channels")))]
    rest = {k: v for k, v in raw.items() if k not in ("sources", "portfolio", "channels")}
    try:
        config = Config(path=path, sources=sources, portfolio=portfolio, channels=channels, **rest)
    except ValidationError as exc:
        raise doc.validation_error(exc) from None
    config.data_dir = _resolve(config.data_dir, base)
    if config.alerting.templates_dir is not None:
        config.alerting.templates_dir = _resolve(config.alerting.templates_dir, base)
    _unique(doc, "sources", [s.name for s in sources])
    _unique(doc, "channels", [c.name for c in channels])
    _check_routing(doc, config)
    return config


def digest_channels(config: Config) -> list[ChannelConfig]:
    """The enabled channels the weekly digest goes to."""
    named = config.digest.channels
    return [c for c in config.channels if c.enabled and (named is None or c.name in named)]


def _check_routing(doc: YamlDoc, config: Config) -> None:
    """Names a channel's routing refers to exist; nothing routed to a digest waits forever."""
    names = [c.name for c in config.channels]
    for i, name in enumerate(config.digest.channels or []):
        if name not in names:
            known = ", ".join(names) or "none"
            raise doc.error(("digest", "channels", i), f"no channel {name!r} (configured: {known})")
    customers = {c.id for c in config.portfolio.customers}
    getting = {c.name for c in digest_channels(config)}
    for i, channel in enumerate(config.channels):
        for j, customer in enumerate(channel.customers or []):
            if customer not in customers:
                known = ", ".join(sorted(customers)) or "none"
                raise doc.error(
                    ("channels", i, "customers", j),
                    f"no customer {customer!r} in the portfolio (known: {known})",
                )
        if channel.enabled and channel.uses_digest and channel.name not in getting:
            raise doc.error(
                ("channels", i, "immediate"),
                f"events from {channel.min_severity} up to {channel.immediate} wait for the digest,"
                f" but digest.channels leaves out {channel.name!r}: add it there, or set"
                f" immediate: {channel.min_severity}",
            )


def _resolve(path: Path, base: Path) -> Path:
    path = path.expanduser()
    return (path if path.is_absolute() else base / path).resolve()


def _list(doc: YamlDoc, raw: dict, key: str) -> list:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise doc.error((key,), "expected a list")
    return value


def _sources(doc: YamlDoc, value: Any) -> list[SourceOptions]:
    if value is None:
        return default_sources()
    if not isinstance(value, list):
        raise doc.error(("sources",), "expected a list of sources")
    load_builtin()
    sources = []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise doc.error(("sources", i), "expected a mapping with name: and kind:")
        kind = entry.get("kind")
        if not isinstance(kind, str) or kind not in WATCHERS:
            known = ", ".join(sorted(WATCHERS))
            raise doc.error(("sources", i, "kind"), f"unknown source kind {kind!r}; known: {known}")
        try:
            sources.append(WATCHERS[kind].options.model_validate(entry))
        except ValidationError as exc:
            raise doc.validation_error(exc, ("sources", i)) from None
        if sources[-1].base_url.startswith("file:"):
            sources[-1].base_url = _file_url(sources[-1].base_url, doc.path.parent)
    return sources


def _file_url(url: str, base: Path) -> str:
    """`file:recorded/` is relative to the config file; make it absolute.

    The `localhost` host keeps httpx's cookie handling happy with file URLs.
    """
    rest = url.removeprefix("file:").removeprefix("//localhost").removeprefix("//")
    folder = _resolve(Path(unquote(rest)), base.resolve())
    return "file://localhost" + quote(str(folder)) + ("/" if url.endswith("/") else "")


def _portfolio(doc: YamlDoc, value: Any, base: Path) -> Portfolio:
    """`portfolio:` is a path, `{path: ...}`, inline lists, or both."""
    if value is None:
        return Portfolio()
    if isinstance(value, str):
        value = {"path": value}
    if not isinstance(value, dict):
        raise doc.error(("portfolio",), "expected a path or a mapping")
    unknown = set(value) - PORTFOLIO_KEYS - {"path"}
    if unknown:
        key = sorted(unknown)[0]
        raise doc.error(
            ("portfolio", key),
            "unknown portfolio setting; expected path, chips, customers, watch_terms or countries",
        )
    inline = {k: v for k, v in value.items() if k != "path"}
    portfolio = portfolio_from_yaml(doc, inline, ("portfolio",))
    path = value.get("path")
    if path is None:
        return portfolio
    if not isinstance(path, str) or not path.strip():
        raise doc.error(("portfolio", "path"), "expected the path of a portfolio file or folder")
    folder = _resolve(Path(path), base)
    if not folder.exists():
        raise doc.error(("portfolio", "path"), f"{folder}: portfolio file or folder not found")
    return merge_checked(load_portfolio(folder), portfolio, doc, ("portfolio",))


def _channel(doc: YamlDoc, raw: dict, i: int, base: Path) -> ChannelConfig:
    from monitor.channels import validate_url

    entry = raw["channels"][i]
    if not isinstance(entry, dict):
        raise doc.error(("channels", i), "expected a mapping with name: and url:")
    try:
        channel = ChannelConfig.model_validate(entry)
    except ValidationError as exc:
        raise doc.validation_error(exc, ("channels", i)) from None
    try:
        channel.url = SecretStr(validate_url(channel.url.get_secret_value(), base))
    except ValueError as exc:
        raise doc.error(("channels", i, "url"), str(exc)) from None
    return channel


def _unique(doc: YamlDoc, key: str, names: list[str]) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise doc.error((key, i, "name"), f"duplicate name {name!r}")
        seen.add(name)
