"""A 100,000-customer portfolio loads in seconds, not minutes (goal <= 10 s; the old path
took 82-140 s and 1.8-2.5 GB, see bench/portfolio_load.py): parsed once with libyaml's
parser, the data built from that tree, the garbage collector paused."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from monitor.config import load_config
from monitor.yamlfile import ConfigError
from tests.conftest import ROOT
from tests.hostile import big_portfolio

LOAD = """
import json, sys, time
from pathlib import Path
from monitor.config import load_config
from tests.hostile import peak_mb
start = time.process_time()
config = load_config(Path(sys.argv[1]))
print(json.dumps({"cpu": time.process_time() - start, "customers": len(config.portfolio.customers),
                  "peak_mb": peak_mb()}))
"""


def test_a_100000_customer_portfolio_loads_in_seconds(tmp_path):
    path = big_portfolio(tmp_path)
    done = subprocess.run([sys.executable, "-c", LOAD, str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)  # fmt: skip
    measured = json.loads(done.stdout)
    assert measured["customers"] == 100_000
    # its own CPU time (a busy machine does not inflate it): ~6 s here, the old path 140 s
    assert measured["cpu"] < 20
    assert measured["peak_mb"] < 1500  # ~950 MB; the old path 2,473 MB


def test_a_validation_error_in_a_big_portfolio_still_names_its_line(tmp_path):
    path = big_portfolio(tmp_path, customers=2_000)
    customers = tmp_path / "customers.yaml"
    text = customers.read_text().replace("    country: ", "    country: XXX", 1)
    customers.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(
        f"{customers}:5: customers[0].country: String should have at most"
    )
