"""The deployment files: docker-compose.yml runs the Procfile's entry points."""

from __future__ import annotations

import re

import yaml

from tests.conftest import ROOT


def test_compose_runs_the_procfile_commands():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    procfile = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert procfile == {
        "worker": "monitor worker",
        "beat": "monitor beat",
        "web": "monitor web --host 0.0.0.0 --port ${PORT:-8080}",
    }
    entrypoint = re.search(r"^ENTRYPOINT \[\"(\w+)\"\]", (ROOT / "Dockerfile").read_text(), re.M)
    services = compose["services"]
    assert set(services) == {"redis", "postgres", "worker", "beat", "web"}
    for name in ("worker", "beat"):
        service = services[name]
        assert " ".join([entrypoint.group(1), *service["command"]]) == procfile[name]
        assert service["env_file"] == ".env"
        assert {"redis", "postgres"} <= set(service["depends_on"])
        named = [v.split(":")[0] for v in service["volumes"]]
        assert "regmonitor-data" in named and "regmonitor-data" in compose["volumes"]
    for name in ("redis", "postgres", "worker", "web"):
        assert services[name]["healthcheck"]["test"]
    web = services["web"]
    assert web["command"][0] == "web" and web["env_file"] == ".env"
    assert web["ports"] == ["127.0.0.1:8080:8080"]  # published on the host's loopback only
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
    example = (ROOT / ".env.example").read_text()
    assert "POSTGRES_PASSWORD=" in example
