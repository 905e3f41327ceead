"""The `web:` settings: a mistake is one line naming the file, the line and the field, and
no password hash, token or session key ever appears in an error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.logs import config_secrets
from monitor.web.auth import hash_password
from monitor.yamlfile import ConfigError

TOKEN = "Tk-never-in-an-error-0123456789"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("yaml", "where", "fragment"),
    [
        ("web:\n  port: 0\n", ":2: web.port", "greater than or equal to 1"),
        ("web:\n  hots: 0.0.0.0\n", ":2: web.hots", "Extra inputs"),
        ("web:\n  base_url: ftp://x.example/\n", ":2: web.base_url", "http:// or https://"),
        ("web:\n  base_url: https://x.example/regmonitor/\n", ":2: web.base_url", "no path"),
        ("web:\n  base_url: https://u:p@x.example/\n", ":2: web.base_url", "without credentials"),
        ("web:\n  secret_key: short\n", ":2: web.secret_key", "at least 32"),
        ("web:\n  users:\n    - {name: dana, password_hash: hunter2hunter2}\n",
         ":3: web.users[0].password_hash", "not a password"),
        ("web:\n  tokens:\n    - {name: ci, token: abc}\n", ":3: web.tokens[0].token",
         "at least 24"),
        ("web:\n  users:\n    - {name: 'bad name', password_hash: '$argon2id$x'}\n",
         ":3: web.users[0].name", "pattern"),
    ],
)  # fmt: skip
def test_a_web_mistake_is_one_line_naming_file_line_and_field(tmp_path, yaml, where, fragment):
    path = write(tmp_path, yaml)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}{where}: "), message
    assert fragment in message
    assert "hunter2hunter2" not in message  # a password typed where the hash goes


def test_one_name_for_two_users_or_tokens_is_an_error(tmp_path):
    hashed = hash_password("a long enough password")
    path = write(tmp_path, f"""
        web:
          users:
            - {{name: dana, password_hash: "{hashed}"}}
          tokens:
            - {{name: dana, token: "{TOKEN}"}}
        """)  # fmt: skip
    with pytest.raises(ConfigError, match="'dana' is given to more than one") as info:
        load_config(path)
    assert TOKEN not in str(info.value) and hashed not in str(info.value)


def test_tokens_and_the_session_key_come_from_the_environment_and_are_log_secrets(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("WEB_TOKEN", TOKEN)
    monkeypatch.setenv("WEB_KEY", "K" * 40)
    path = write(tmp_path, """
        web:
          secret_key: ${WEB_KEY}
          tokens:
            - {name: ci, token: "${WEB_TOKEN}"}
        """)  # fmt: skip
    config = load_config(path)
    assert config.web.tokens[0].token.get_secret_value() == TOKEN
    assert TOKEN not in repr(config) and "K" * 40 not in repr(config)
    assert {TOKEN, "K" * 40} <= set(config_secrets(config))
    assert (config.web.host, config.web.port, config.web.event_url(7)) == ("127.0.0.1", 8080, None)
