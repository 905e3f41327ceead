"""Loading a 100,000-customer portfolio: `load_config` today against the old loading path.

Writes a synthetic portfolio (fixed seed: 100,000 customers with three aliases, a
country, a city and an address each; 21 MB of YAML) and a monitor.yaml naming it, then
loads it in a fresh process per run: with today's code (`load_config`: one parse with
libyaml's parser, the data built from that tree, the garbage collector paused), and
with the baseline's `load_portfolio` (modules as they were at `--baseline`, from git:
composed and then loaded again with the pure-Python loader). Prints the median wall
time and peak RSS of each, and the ratio. Goal: <= 10 s.

    .venv/bin/python bench/portfolio_load.py [--customers 100000] [--runs 3] [--old-runs 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile import big_portfolio, peak_mb  # noqa: E402


def baseline_load_portfolio(commit: str):
    """The baseline's `load_portfolio`, its yamlfile module the baseline's too."""

    def module(name: str, source: str) -> types.ModuleType:
        loaded = types.ModuleType(name)
        sys.modules[name] = loaded
        exec(compile(source, f"{name}.py", "exec"), loaded.__dict__)
        return loaded

    def show(path: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{path}"],
                              check=True, capture_output=True, text=True).stdout  # fmt: skip

    module("baseline_yamlfile", show("monitor/yamlfile.py"))
    source = show("monitor/portfolio.py").replace("from monitor.yamlfile", "from baseline_yamlfile")
    return module("baseline_portfolio", source).load_portfolio


def child(which: str, config: Path, commit: str) -> None:
    start = time.perf_counter()
    if which == "new":
        from monitor.config import load_config

        count = len(load_config(config).portfolio.customers)
    else:
        count = len(baseline_load_portfolio(commit)(config.parent / "customers.yaml").customers)
    seconds = time.perf_counter() - start
    peak = peak_mb()
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "customers": count}))


def run(which: str, config: Path, commit: str, runs: int) -> tuple[float, float]:
    results = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, __file__, "--child", which, "--config", str(config),
                               "--baseline", commit], check=True, capture_output=True, text=True,
                              cwd=ROOT)  # fmt: skip
        results.append(json.loads(done.stdout))
    return (statistics.median(r["seconds"] for r in results),
            statistics.median(r["peak_mb"] for r in results))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--old-runs", type=int, default=1, help="the old path takes minutes")
    parser.add_argument("--baseline", default="c46af93", help="commit of the old code")
    parser.add_argument("--child", choices=["new", "old"], help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.config, args.baseline)
        return
    with tempfile.TemporaryDirectory() as folder:
        config = big_portfolio(Path(folder), args.customers)
        size = (Path(folder) / "customers.yaml").stat().st_size / 1e6
        new_s, new_mb = run("new", config, args.baseline, args.runs)
        old_s, old_mb = run("old", config, args.baseline, args.old_runs)
    print(f"{args.customers:,} customers ({size:.1f} MB of YAML)")
    goal = "met" if new_s <= 10 else "NOT met"
    print(f"new load_config:           {new_s:6.1f} s, peak RSS {new_mb:6.0f} MB "
          f"(median of {args.runs}; goal <= 10 s: {goal})")  # fmt: skip
    print(f"old load_portfolio ({args.baseline}): {old_s:6.1f} s, peak RSS {old_mb:6.0f} MB "
          f"(median of {args.old_runs})")  # fmt: skip
    print(
        f"ratio new/old: {new_s / old_s:.3f} ({old_s / new_s:.1f}x faster), "
        f"memory {new_mb / old_mb:.2f}"
    )


if __name__ == "__main__":
    main()
