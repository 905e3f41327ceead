"""CPU time of the parsers of fetched text on hostile input: the old code against the new.

For each case of `tests/hostile.py` (a pattern or parser that was quadratic or cubic),
times the baseline's code (the modules as they were at `--baseline`, loaded from git)
and the current code on the same inputs at two small sizes, then the current code at
the size the tests use. Prints medians of `--runs`, how the old time grows when the
input doubles (2x: linear, 4x: quadratic, 8x: cubic), the old/new ratio, and the old
time extrapolated to the test's size.

    .venv/bin/python bench/hostile_text.py [--baseline c46af93] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile import CASES, Case, resolve  # noqa: E402

# sizes at which the old code takes about a second at most (the second is twice the first)
SMALL = {
    "eccn._TRAILING_CONJ": 300,
    "eccn._labels": 2_500,
    "eccn._ANY_CUE": 5_000,
    "fedreg_xml._CFR": 5_000,
    "amendments._PASSIVE": 2_000,
    "amendments.paragraph_refs": 500,
    "amendments._countries": 1_000,
    "entities._AKA": 10_000,
    "yamlfile._ENV": 3_000,
}


def baseline_modules(commit: str, folder: Path) -> dict[str, Any]:
    """The modules the cases use, as they were at `commit` (imports resolve to today's)."""
    found = {}
    for case in CASES:
        module = case.function.partition(":")[0]
        if module in found:
            continue
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{commit}:{module.replace('.', '/')}.py"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        path = folder / f"{module.replace('.', '_')}_baseline.py"
        path.write_text(source, encoding="utf-8")
        name = f"baseline_{module.replace('.', '_')}"
        spec = importlib.util.spec_from_file_location(name, path)
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded  # dataclasses look their module up
        spec.loader.exec_module(loaded)
        found[module] = loaded
    return found


def old_function(case: Case, modules: dict[str, Any]) -> Any:
    module, _, path = case.function.partition(":")
    found: Any = modules[module]
    for part in path.split("."):
        found = getattr(found, part)
    return found


def cpu(function: Any, argument: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        with contextlib.suppress(ValueError):  # a parse error is an answer too
            function(argument)
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="c46af93", help="commit of the old code")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        modules = baseline_modules(args.baseline, Path(folder))
        print(f"{'case':28} {'n':>7} {'old s':>8} {'2n old s':>9} {'growth':>7} {'new s':>8} "
              f"{'old/new':>8} | {'test n':>7} {'new s':>7} {'old s (extrap.)':>16}")  # fmt: skip
        for case in CASES:
            small = SMALL[case.name]
            old, new = old_function(case, modules), resolve(case.function)
            old_1, old_2 = (cpu(old, case.build(n), args.runs) for n in (small, 2 * small))
            new_2 = cpu(new, case.build(2 * small), args.runs)
            new_test = cpu(new, case.build(case.size), args.runs)
            exponent = math.log2(old_2 / old_1) if old_1 > 0 else 1.0
            extrapolated = old_2 * (case.size / (2 * small)) ** exponent
            print(f"{case.name:28} {small:>7} {old_1:>8.3f} {old_2:>9.3f} {old_2 / old_1:>6.1f}x "
                  f"{new_2:>8.4f} {old_2 / max(new_2, 1e-6):>7.0f}x | {case.size:>7} "
                  f"{new_test:>7.3f} {extrapolated:>16.0f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
