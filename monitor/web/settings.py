"""The `web:` settings: where `monitor web` listens, who may log in, where alerts link.

Users carry argon2 hashes made by `monitor web hash-password`, never passwords; API
tokens and the session key come from the environment (`${REGMONITOR_WEB_TOKEN}`), so
no secret lives in monitor.yaml.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$"
MIN_TOKEN = 24
MIN_KEY = 32


class WebUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME, max_length=100)
    password_hash: SecretStr

    @field_validator("password_hash")
    @classmethod
    def _a_hash(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("$argon2"):
            raise ValueError(
                "expected an argon2 hash made by `monitor web hash-password`, not a password"
            )
        return value


class WebToken(BaseModel):
    """An API token (`Authorization: Bearer ...`) for scripts; its name is the author."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME, max_length=100)
    token: SecretStr

    @field_validator("token")
    @classmethod
    def _long(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_TOKEN:
            raise ValueError(f"a token needs at least {MIN_TOKEN} characters")
        return value


class WebConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="the address to listen on")
    port: int = Field(default=8080, ge=1, le=65535)
    base_url: str | None = Field(
        default=None, description="where users reach it (https://...); alerts link there"
    )
    secret_key: SecretStr | None = Field(
        default=None, description="signs the session cookies; none: a new key per start"
    )
    session_hours: float = Field(default=12, gt=0, le=24 * 30)
    users: list[WebUser] = Field(default_factory=list)
    tokens: list[WebToken] = Field(default_factory=list)

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
            raise ValueError("expected an http:// or https:// address without credentials")
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise ValueError("monitor web is served at the root of its host: give no path")
        return f"{parts.scheme}://{parts.netloc}/"

    @field_validator("secret_key")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_KEY:
            raise ValueError(f"the session key needs at least {MIN_KEY} characters")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> WebConfig:
        names = [u.name for u in self.users] + [t.name for t in self.tokens]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"the name {twice[0]!r} is given to more than one user or token")
        return self

    @property
    def secure(self) -> bool:
        """Served over HTTPS: cookies are sent over HTTPS only."""
        return bool(self.base_url and self.base_url.startswith("https://"))

    def event_url(self, event_id: int) -> str | None:
        """The event's page, for alerts and the digest (None: no base_url configured)."""
        return f"{self.base_url}events/{event_id}" if self.base_url else None
