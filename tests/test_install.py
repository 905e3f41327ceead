"""A non-editable install finds its templates and migrations away from the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.conftest import ROOT

PROBE = textwrap.dedent(
    """
    import json, sys
    import monitor
    from monitor.alerts import builtin_templates, load_templates
    from monitor.store import open_store
    from monitor.cli import STARTER
    from monitor.web.app import HERE as WEB
    folder = builtin_templates()
    env = load_templates()
    store = open_store("sqlite:///" + sys.argv[1])
    print(json.dumps({"package": monitor.__file__, "templates": str(folder),
                      "names": sorted(env.list_templates()), "starter": STARTER.is_file(),
                      "web": [str(p.relative_to(WEB)) for p in sorted(WEB.rglob("*.*"))
                              if p.suffix in (".html", ".css")]}))
    """
)


def test_wheel_install_ships_templates_and_migrations(tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--target", str(target), str(ROOT)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "db.sqlite")],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["package"].startswith(str(target))
    assert info["templates"] == str(target / "monitor" / "_templates")
    assert {"entity_listed.email.html", "entity_listed.slack.md", "entity_listed.txt",
            "entity_listed.title.txt", "_layout.email.html", "_email.html", "_slack.jinja",
            "group.txt", "digest.email.html"} <= set(info["names"])  # fmt: skip
    assert info["starter"] is True
    assert {"templates/event.html", "templates/events.html", "static/app.css"} <= set(info["web"])
    assert (tmp_path / "db.sqlite").stat().st_size > 0
