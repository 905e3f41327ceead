"""Loading monitor.yaml and portfolio files.

The promise: a bad configuration or portfolio file gives ONE line naming the
file, the line and the field; `${ENV}` secrets never appear in an error (nor in
the loaded config's repr); relative paths are relative to the config file.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from monitor.channels import outbox_path
from monitor.cli import app
from monitor.config import load_config
from monitor.portfolio import load_portfolio
from monitor.yamlfile import ConfigError
from tests.conftest import DEMO, PORTFOLIO, ROOT
from watchers.federal_register import LIVE_API

SECRET = "hunter2-Xq9vT3-s3cret"
MONITOR = ROOT / ".venv" / "bin" / "monitor"


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may pick up the developer's $MONITOR_CONFIG or data folder."""
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for name in ("SMTP_PASSWORD", "SMTP_HOST", "STATE_DIR", "FR_PER_PAGE", "OUTBOX_FILE"):
        monkeypatch.delenv(name, raising=False)


def config_error(path: Path | None) -> str:
    """The ConfigError message load_config raises; always exactly one line."""
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message
    assert "\n" not in message and "\r" not in message, message
    return message


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --- monitor.yaml mistakes: file:line: field: message -------------------------------------------

# (id, yaml, line, field, fragments the message must also contain)
BAD_CONFIGS = [
    (
        "unknown-top-level-key",
        """\
        data_dir: state
        scheduling: hourly
        """,
        2,
        "scheduling",
        ["unknown setting", "sources", "channels", "portfolio"],
    ),
    (
        "per-page-not-int",
        """\
        sources:
          - name: fr
            kind: federal_register
            agencies: [industry-and-security-bureau]
            per_page: lots
        """,
        5,
        "sources[0].per_page",
        ["valid integer"],
    ),
    (
        "per-page-out-of-range",
        """\
        sources:
          - name: fr
            kind: federal_register
            per_page: 5000
        """,
        4,
        "sources[0].per_page",
        ["1000"],
    ),
    (
        "unknown-source-kind",
        """\
        sources:
          - name: fr
            kind: federal_register
          - name: feed
            kind: rss
        """,
        5,
        "sources[1].kind",
        ["unknown source kind 'rss'", "known: ", "federal_register"],
    ),
    (
        "missing-source-kind",
        """\
        sources:
          - name: fr
            since: 30d
        """,
        2,
        "sources[0].kind",
        ["unknown source kind None", "federal_register"],
    ),
    (
        "bad-since",
        """\
        sources:
          - name: fr
            kind: federal_register
            since: yesterday
        """,
        4,
        "sources[0].since",
        ["'yesterday'", "7d"],
    ),
    (
        "unknown-source-option",
        """\
        sources:
          - name: fr
            kind: federal_register
            agency: commerce
        """,
        4,
        "sources[0].agency",
        ["Extra inputs are not permitted"],
    ),
    (
        "bad-cfr-part",
        """\
        sources:
          - name: fr
            kind: federal_register
            cfr: {title: 15, part: seven}
        """,
        4,
        "sources[0].cfr.part",
        ["pattern"],
    ),
    (
        "bad-source-name",
        """\
        sources:
          - name: "my source!"
            kind: federal_register
        """,
        2,
        "sources[0].name",
        ["pattern"],
    ),
    (
        "sources-not-a-list",
        """\
        sources: federal_register
        """,
        1,
        "sources",
        ["expected a list"],
    ),
    (
        "duplicate-source-names",
        """\
        sources:
          - name: fr
            kind: federal_register
          - name: fr
            kind: federal_register
            term: advanced computing
        """,
        4,
        "sources[1].name",
        ["duplicate name 'fr'"],
    ),
    (
        "duplicate-channel-names",
        """\
        channels:
          - name: out
            url: outbox://a.jsonl
          - name: other
            url: outbox://b.jsonl
          - name: out
            url: outbox://c.jsonl
        """,
        6,
        "channels[2].name",
        ["duplicate name 'out'"],
    ),
    (
        "invalid-apprise-url",
        """\
        channels:
          - name: out
            url: nonsense://x
        """,
        3,
        "channels[0].url",
        ["not a valid apprise URL", "nonsense"],
    ),
    (
        "outbox-without-path",
        """\
        channels:
          - name: out
            url: "outbox://"
        """,
        3,
        "channels[0].url",
        ["outbox:// needs a file path"],
    ),
    (
        "channel-missing-url",
        """\
        channels:
          - name: out
            min_severity: high
        """,
        2,
        "channels[0].url",
        ["Field required"],
    ),
    (
        "bad-min-severity",
        """\
        channels:
          - name: out
            url: outbox://a.jsonl
            min_severity: urgent
        """,
        4,
        "channels[0].min_severity",
        ["'critical'"],
    ),
    (
        "channels-not-a-list",
        """\
        channels:
          name: out
        """,
        1,
        "channels",
        ["expected a list"],
    ),
    (
        "threshold-out-of-range",
        """\
        scoring:
          threshold: 150
        """,
        2,
        "scoring.threshold",
        ["less than or equal to 100"],
    ),
    (
        "unknown-weight",
        """\
        scoring:
          threshold: 50
          weights: {review: -20, vibes: 10}
        """,
        3,
        "scoring.weights",
        ["unknown weight 'vibes'", "review"],
    ),
    (
        "max-attempts-zero",
        """\
        alerting:
          max_attempts: 0
        """,
        2,
        "alerting.max_attempts",
        ["greater than or equal to 1"],
    ),
    (
        "inline-chip-negative-tpp",
        """\
        portfolio:
          chips:
            - id: x100
              name: Example X100
              tpp: -1
        """,
        5,
        "portfolio.chips[0].tpp",
        ["greater than or equal to 0"],
    ),
    (
        "inline-duplicate-customer",
        """\
        portfolio:
          customers:
            - id: acme
              name: Acme Trading
            - id: acme
              name: Acme Trading Two
        """,
        5,
        "portfolio.customers[1].id",
        ["duplicate id 'acme'"],
    ),
    (
        "unknown-portfolio-setting",
        """\
        portfolio:
          path: portfolio/
          chip: []
        """,
        3,
        "portfolio.chip",
        ["unknown portfolio setting"],
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "field", "fragments"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_CONFIGS],
)
def test_bad_config_names_file_line_and_field(
    write_config, text: str, line: int, field: str, fragments: list[str]
) -> None:
    path = write_config(text)
    message = config_error(path)
    assert message.startswith(f"{path}:{line}: {field}: "), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_yaml_syntax_error_names_file_and_line(write_config) -> None:
    path = write_config(
        """\
        data_dir: state
        sources:
          - name: fr
            kind: federal_register
            term: advanced: computing
        """
    )
    message = config_error(path)
    assert message.startswith(f"{path}:5: invalid YAML: "), message
    assert "mapping values are not allowed" in message


def test_yaml_indentation_error_names_the_line(write_config) -> None:
    path = write_config("data_dir: state\nscoring:\n  threshold: 50\n weights: {}\n")
    message = config_error(path)
    assert message.startswith(f"{path}:4: invalid YAML: "), message


def test_top_level_must_be_a_mapping(write_config) -> None:
    path = write_config("- data_dir: state\n")
    assert config_error(path) == f"{path}:1: expected a mapping of settings at the top level"


def test_missing_config_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    assert config_error(path) == f"{path}: file not found"


def test_config_file_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_bytes(b"data_dir: \xff\xfe\n")
    message = config_error(path)
    assert message.startswith(f"{path}: cannot read: "), message


def test_several_errors_report_the_first_and_count_the_rest(write_config) -> None:
    path = write_config(
        """\
        sources:
          - name: fr
            kind: federal_register
            per_page: lots
            retries: many
            timeout: never
        """
    )
    message = config_error(path)
    # pydantic reports in model-field order; whichever comes first, its own line is named
    heads = [
        f"{path}:{n}: sources[0].{f}: "
        for n, f in [(4, "per_page"), (5, "retries"), (6, "timeout")]
    ]
    assert any(message.startswith(head) for head in heads), message
    assert message.endswith("(and 2 more errors)"), message


def test_unknown_key_with_block_value_points_at_the_key(write_config) -> None:
    path = write_config(
        """\
        data_dir: state
        schedule:
          every: 1h
        """
    )
    assert config_error(path).startswith(f"{path}:2: schedule: unknown setting"), path


def test_moved_digest_schedule_says_where_it_went(write_config) -> None:
    path = write_config(
        """\
        data_dir: state
        celery:
          digest_day: monday
        """
    )
    message = config_error(path)
    assert message.startswith(f"{path}:2: celery: "), message
    assert "digest_day moved" in message and "top-level `digest:" in message


def test_unknown_capitalised_option_is_named(write_config) -> None:
    path = write_config(
        """\
        sources:
          - name: fr
            kind: federal_register
            Since: 30d
        """
    )
    message = config_error(path)
    assert message.startswith(f"{path}:4: sources[0].Since: "), message


def test_source_kind_that_is_a_list_is_a_config_error(write_config) -> None:
    path = write_config(
        """\
        sources:
          - name: fr
            kind: [federal_register]
        """
    )
    message = config_error(path)
    assert message.startswith(f"{path}:3: sources[0].kind: "), message


def test_impossible_since_date_is_a_config_error(write_config) -> None:
    path = write_config(
        """\
        sources:
          - name: fr
            kind: federal_register
            since: 2025-13-01
        """
    )
    message = config_error(path)
    assert message.startswith(f"{path}:4: "), message
    assert "month must be in 1..12" in message or "since" in message, message


# --- secrets from the environment -------------------------------------------------------------

MAIL_CHANNEL = (
    "channels:\n"
    "  - name: compliance-email\n"
    "    url: mailtos://alerts:${SMTP_PASSWORD}@smtp.example.com?to=tc@example.com\n"
    "    min_severity: medium\n"
)


def test_env_secret_is_substituted_and_hidden(write_config, monkeypatch) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", SECRET)
    config = load_config(write_config(MAIL_CHANNEL))
    url = config.channels[0].url.get_secret_value()
    assert url == f"mailtos://alerts:{SECRET}@smtp.example.com?to=tc@example.com"
    for shown in (repr(config), str(config), config.model_dump_json(), repr(config.channels)):
        assert SECRET not in shown
    assert "${SMTP_PASSWORD}" not in url


def test_missing_env_var_names_variable_and_field(write_config, monkeypatch) -> None:
    # the password is set and substituted first; the host is missing
    monkeypatch.setenv("SMTP_PASSWORD", SECRET)
    path = write_config(
        """\
        data_dir: state
        channels:
          - name: compliance-email
            url: mailtos://alerts:${SMTP_PASSWORD}@${SMTP_HOST}?to=tc@example.com
        """
    )
    message = config_error(path)
    assert message == f"{path}:4: channels[0].url: environment variable SMTP_HOST is not set"
    assert SECRET not in message


def test_missing_env_var_in_a_nested_setting(write_config) -> None:
    path = write_config(
        """\
        sources:
          - name: fr
            kind: federal_register
            per_page: ${FR_PER_PAGE}
        """
    )
    assert config_error(path) == (
        f"{path}:4: sources[0].per_page: environment variable FR_PER_PAGE is not set"
    )


def test_invalid_channel_with_secret_does_not_leak_it(write_config, monkeypatch) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", SECRET)
    for text, field in [
        (MAIL_CHANNEL.replace("medium", "urgent"), "channels[0].min_severity"),
        (MAIL_CHANNEL.replace("mailtos://", "nonsense://"), "channels[0].url"),
        (MAIL_CHANNEL + "    enabled: ${SMTP_PASSWORD}\n", "channels[0].enabled"),
        (MAIL_CHANNEL + "  - name: compliance-email\n    url: outbox://x.jsonl\n",
         "channels[1].name"),
    ]:  # fmt: skip
        path = write_config(text)
        message = config_error(path)
        assert f": {field}: " in message, message
        assert SECRET not in message
        assert "alerts:" not in message  # nor the URL around it


def test_whole_url_from_env_not_echoed_when_invalid(write_config, monkeypatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK", f"hooks.slack.com/services/{SECRET}")
    path = write_config(
        """\
        channels:
          - name: slack
            url: ${SLACK_WEBHOOK}
        """
    )
    message = config_error(path)
    assert message.startswith(f"{path}:3: channels[0].url: not a valid apprise URL"), message
    assert SECRET not in message


def test_store_url_password_not_in_repr(write_config, monkeypatch) -> None:
    monkeypatch.setenv("PGPASSWORD", SECRET)
    config = load_config(
        write_config("store_url: postgresql+psycopg://regmonitor:${PGPASSWORD}@db/regmonitor\n")
    )
    assert SECRET in config.database_url
    for shown in (repr(config), str(config), config.model_dump_json()):
        assert SECRET not in shown


def test_env_defaults(write_config, tmp_path: Path, monkeypatch) -> None:
    text = """\
        data_dir: ${STATE_DIR:-state}
        sources:
          - name: fr
            kind: federal_register
            per_page: ${FR_PER_PAGE:-20}
            term: "${FR_TERM:-}"
        channels:
          - name: out
            url: outbox://${OUTBOX_FILE:-alerts.jsonl}
        """
    config = load_config(write_config(text))
    assert config.data_dir == tmp_path / "state"
    assert config.sources[0].per_page == 20
    assert config.sources[0].term == ""
    assert outbox_path(config.channels[0].url.get_secret_value()) == tmp_path / "alerts.jsonl"

    monkeypatch.setenv("STATE_DIR", "elsewhere")
    monkeypatch.setenv("FR_PER_PAGE", "7")
    monkeypatch.setenv("OUTBOX_FILE", "out/mail.jsonl")
    config = load_config(write_config(text))
    assert config.data_dir == tmp_path / "elsewhere"
    assert config.sources[0].per_page == 7
    assert outbox_path(config.channels[0].url.get_secret_value()) == tmp_path / "out/mail.jsonl"


# --- portfolio files ------------------------------------------------------------------------------


def test_demo_portfolio_folder_loads(write_config) -> None:
    for text in (f"portfolio: {PORTFOLIO}\n", f"portfolio:\n  path: {PORTFOLIO}\n"):
        portfolio = load_config(write_config(text)).portfolio
        assert len(portfolio.chips) == 13
        assert len(portfolio.customers) == 31
        assert len({c.id for c in portfolio.chips}) == 13
        assert len({c.id for c in portfolio.customers}) == 31
    assert load_portfolio(PORTFOLIO) == portfolio


def test_portfolio_path_merges_with_inline_lists(write_config) -> None:
    path = write_config(
        f"""\
        portfolio:
          path: {PORTFOLIO}
          watch_terms: [Entity List]
          chips:
            - id: my-x100
              name: Example X100
              tpp: 5000
        """
    )
    portfolio = load_config(path).portfolio
    assert len(portfolio.chips) == 14
    assert portfolio.chips[-1].id == "my-x100"
    assert portfolio.watch_terms == ["Entity List"]


CHIPS = """\
    chips:
      - id: x100
        name: Example X100
        tpp: 5000
      - id: x200
        name: Example X200
      - id: x300
        name: Example X300
        tpp: -4800
    """


def test_bad_chip_names_the_portfolio_file(write_config, tmp_path: Path) -> None:
    chips = write(tmp_path / "pf" / "chips.yaml", CHIPS)
    path = write_config("data_dir: state\nportfolio:\n  path: pf/chips.yaml\n")
    message = config_error(path)
    assert message.startswith(f"{chips}:9: chips[2].tpp: "), message
    assert "greater than or equal to 0" in message
    assert str(path) not in message


def test_a_misspelt_chip_parameter_is_reported_not_dropped(write_config, tmp_path: Path) -> None:
    chips = write(
        tmp_path / "pf" / "chips.yaml",
        """\
        chips:
          - id: probe
            name: Probe Accelerator
            tpp: 4800
            vendor_sku: PA-1              # a key of one's own: allowed
            memory_bandwith_density: 3.1  # a parameter the rules need, misspelt
        """,
    )
    path = write_config("data_dir: state\nportfolio:\n  path: pf/chips.yaml\n")
    assert config_error(path) == (
        f"{chips}:6: chips[0].memory_bandwith_density: unknown key; did you mean "
        "'memory_bandwidth_density'?"
    )
    chips.write_text(chips.read_text().replace("memory_bandwith", "memory_bandwidth"))
    (chip,) = load_config(path).portfolio.chips
    assert chip.memory_bandwidth_density == 3.1 and chip.tpp == 4800


def test_customer_without_id_names_file_line_and_field(write_config, tmp_path: Path) -> None:
    write(tmp_path / "pf" / "chips.yaml", CHIPS.replace("-4800", "4800"))
    customers = write(
        tmp_path / "pf" / "customers.yml",
        """\
        customers:
          - id: acme
            name: Acme Trading
          - name: Nameless Trading
            country: CN
        """,
    )
    path = write_config("portfolio: pf\n")
    assert config_error(path) == f"{customers}:4: customers[1].id: Field required"


def test_duplicate_chip_id_in_a_portfolio_file(tmp_path: Path) -> None:
    chips = write(tmp_path / "chips.yaml", CHIPS.replace("x300", "x100").replace("-4800", "1"))
    with pytest.raises(ConfigError) as info:
        load_portfolio(chips)
    assert str(info.value) == f"{chips}:7: chips[2].id: duplicate id 'x100'"


def test_duplicate_chip_id_across_portfolio_files(write_config, tmp_path: Path) -> None:
    write(tmp_path / "pf" / "a.yaml", "chips:\n  - id: x100\n    name: Example X100\n")
    write(tmp_path / "pf" / "b.yaml", "chips:\n  - id: x100\n    name: Example X100 v2\n")
    message = config_error(write_config("portfolio: pf/\n"))
    assert "duplicate id 'x100'" in message, message


def test_nonexistent_portfolio_path_is_reported(write_config, tmp_path: Path) -> None:
    path = write_config("portfolio:\n  path: missing/\n")
    message = config_error(path)
    assert str(tmp_path / "missing") in message
    assert "not found" in message


def test_portfolio_folder_without_yaml_is_reported(write_config, tmp_path: Path) -> None:
    (tmp_path / "pf").mkdir()
    (tmp_path / "pf" / "notes.txt").write_text("nothing here\n", encoding="utf-8")
    message = config_error(write_config("portfolio: pf\n"))
    assert message.startswith(f"{tmp_path / 'pf'}: no portfolio"), message


def test_nonexistent_portfolio_path_names_config_line(write_config) -> None:
    path = write_config("data_dir: state\nportfolio:\n  path: missing/\n")
    assert config_error(path).startswith(f"{path}:3: portfolio.path: "), path


def test_portfolio_path_that_is_not_a_string(write_config) -> None:
    path = write_config("portfolio:\n  path: 5\n")
    assert config_error(path).startswith(f"{path}:2: portfolio.path: "), path


# --- paths relative to the config file ----------------------------------------------------------


def test_relative_paths_resolve_against_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "conf"
    write(conf / "pf" / "chips.yaml", CHIPS.replace("-4800", "4800"))
    path = write(
        conf / "monitor.yaml",
        """\
        data_dir: state
        sources:
          - name: fr
            kind: federal_register
            base_url: file:recorded/
        portfolio:
          path: pf/
        channels:
          - name: out
            url: outbox://out/alerts.jsonl
        alerting:
          templates_dir: tpl
        """,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for given in (path, Path("..") / "conf" / "monitor.yaml"):
        config = load_config(given)
        assert config.data_dir == conf / "state"
        assert config.database_url == f"sqlite:///{conf / 'state' / 'regmonitor.db'}"
        assert [c.id for c in config.portfolio.chips] == ["x100", "x200", "x300"]
        assert config.sources[0].base_url == f"file://localhost{quote(str(conf / 'recorded'))}/"
        url = config.channels[0].url.get_secret_value()
        assert outbox_path(url) == conf / "out" / "alerts.jsonl"
        assert config.alerting.templates_dir == conf / "tpl"
    assert not (elsewhere / "state").exists()


def test_absolute_and_home_paths_are_kept(write_config, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = write_config(f"data_dir: ~/regmon\nalerting:\n  templates_dir: {tmp_path / 'tpl'}\n")
    config = load_config(path)
    assert config.data_dir == tmp_path / "home" / "regmon"
    assert config.alerting.templates_dir == tmp_path / "tpl"


def test_demo_config_loads_from_another_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(DEMO / "monitor.yaml")
    assert config.data_dir.resolve() == ROOT / ".demo"
    assert config.sources[0].base_url == f"file://localhost{quote(str(DEMO / 'recorded'))}/"
    assert len(config.portfolio.chips) == 13
    assert len(config.portfolio.customers) == 31
    outbox = outbox_path(config.channels[0].url.get_secret_value())
    assert outbox.resolve() == ROOT / ".demo" / "outbox.jsonl"


# --- finding the config; defaults ---------------------------------------------------------------


def test_no_config_gives_defaults(tmp_path: Path, monkeypatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    config = load_config(None)
    assert config.path is None
    assert len(config.sources) == 1
    source = config.sources[0]
    assert source.kind == "federal_register"
    assert source.base_url == LIVE_API
    assert source.agencies == ["industry-and-security-bureau"]
    assert config.data_dir == tmp_path / "xdg" / "regmonitor"
    assert config.database_url == f"sqlite:///{tmp_path / 'xdg' / 'regmonitor' / 'regmonitor.db'}"
    assert config.channels == []
    assert config.portfolio.chips == [] and config.portfolio.customers == []


def test_empty_config_file_gives_default_source(write_config) -> None:
    config = load_config(write_config("# nothing set yet\n"))
    assert [(s.name, s.kind) for s in config.sources] == [("federal-register", "federal_register")]


def test_config_found_in_cwd_then_env(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path / "here" / "monitor.yaml", "data_dir: here-state\n")
    write(tmp_path / "there" / "other.yaml", "data_dir: there-state\n")
    monkeypatch.chdir(tmp_path / "here")
    assert load_config(None).data_dir == tmp_path / "here" / "here-state"
    monkeypatch.setenv("MONITOR_CONFIG", str(tmp_path / "there" / "other.yaml"))
    assert load_config(None).data_dir == tmp_path / "there" / "there-state"
    monkeypatch.setenv("MONITOR_CONFIG", str(tmp_path / "there" / "nope.yaml"))
    assert config_error(None) == f"{tmp_path / 'there' / 'nope.yaml'}: file not found"


# --- through the command line -------------------------------------------------------------------


def test_cli_check_bad_config_one_error_line(write_config) -> None:
    path = write_config(
        """\
        sources:
          - name: fr
            kind: federal_register
            per_page: lots
        """
    )
    result = CliRunner().invoke(app, ["check", "-c", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}:4: sources[0].per_page: "), lines[0]


def test_cli_check_bad_channel_does_not_print_secret(write_config) -> None:
    path = write_config(MAIL_CHANNEL.replace("mailtos://", "nonsense://"))
    result = CliRunner(env={"SMTP_PASSWORD": SECRET}).invoke(app, ["check", "-c", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {path}:3: channels[0].url: "), result.stderr
    assert SECRET not in result.output


def test_cli_check_warns_of_an_empty_portfolio(write_config, tmp_path: Path) -> None:
    """Judgement is against the portfolio: without one nothing can alert, and check says so."""
    empty = tmp_path / "empty"
    empty.mkdir()
    source = f'{{name: fr, kind: federal_register, base_url: "file:{empty}/"}}'
    base = f"data_dir: state\nsources:\n  - {source}\n"
    without = CliRunner().invoke(app, ["check", "-c", str(write_config(base))])
    assert "warning: the portfolio is empty" in without.stderr, without.output
    with_one = CliRunner().invoke(app, ["check", "-c", str(write_config(
        base + "portfolio: {customers: [{id: a, name: Acme Test Compute Ltd., country: CN}]}\n"
    ))])  # fmt: skip
    assert "portfolio is empty" not in with_one.stderr, with_one.output


def test_cli_score_bad_portfolio_names_that_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    chips = write(tmp_path / "chips.yaml", CHIPS)
    result = CliRunner().invoke(
        app, ["score", "--portfolio", str(chips), str(DEMO / "records" / "nothing.json")]
    )
    assert result.exit_code == 2, result.output
    assert (
        result.stderr == f"error: {chips}:9: chips[2].tpp: Input should be greater than or "
        "equal to 0\n"
    )


def test_subprocess_check_yaml_error(write_config) -> None:
    path = write_config("data_dir: state\nsources:\n  - name: fr\n    kind: [federal_register\n")
    proc = subprocess.run(
        [str(MONITOR), "check", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(path.parent), "COLUMNS": "40"},
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr  # not wrapped, even in 40 columns
    assert lines[0].startswith(f"error: {path}:"), lines[0]
    assert "invalid YAML" in lines[0]


def test_subprocess_check_unknown_kind(write_config) -> None:
    path = write_config("sources:\n  - name: fr\n    kind: rss\n")
    proc = subprocess.run(
        [str(MONITOR), "check", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(path.parent)},
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(
        f"error: {path}:3: sources[0].kind: unknown source kind 'rss'; known: "
    )
    assert "federal_register" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_init_writes_a_loadable_starter(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    written = tmp_path / "monitor.yaml"
    assert written.exists()
    config = load_config(written)  # loads without error
    assert [s.kind for s in config.sources] == ["federal_register"]
    assert config.sources[0].since == "30d"
    assert config.scoring.threshold == 50
    assert "Entity List" in config.portfolio.watch_terms
    # also picked up as ./monitor.yaml with no --config
    assert load_config(None).path == Path("monitor.yaml")

    written.write_text("data_dir: mine\n", encoding="utf-8")
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 2
    assert result.stderr == "error: monitor.yaml exists; use --force to overwrite it\n"
    assert written.read_text(encoding="utf-8") == "data_dir: mine\n"

    result = runner.invoke(app, ["init", "--force"])
    assert result.exit_code == 0, result.output
    assert written.read_text(encoding="utf-8") != "data_dir: mine\n"
    load_config(written)


def test_init_to_a_named_path(tmp_path: Path) -> None:
    target = tmp_path / "deploy" / "regmonitor.yaml"
    target.parent.mkdir()
    result = CliRunner().invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    config = load_config(target)
    assert config.path == target


def test_fan_out_defaults_to_the_store(write_config) -> None:
    """A poll's documents are spread over the workers on PostgreSQL (above 200), never
    on SQLite (one writer at a time) unless asked; an explicit value wins."""
    default = load_config(write_config("data_dir: state\n")).celery
    assert default.fan_out("sqlite:////tmp/x.db") is None
    assert default.fan_out("postgresql+psycopg://u@127.0.0.1/db") == 200
    asked = load_config(write_config("celery: {fan_out_above: 0}\n")).celery
    assert asked.fan_out("sqlite:////tmp/x.db") == 0
    with pytest.raises(ConfigError, match="fan_out_above"):
        load_config(write_config("celery: {fan_out_above: -1}\n"))
