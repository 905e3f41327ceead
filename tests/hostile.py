"""Hostile but plausible text for the parsers, and a CPU-time meter that cannot hang.

Each builder makes the text that drove a pattern or a parser of fetched text into
quadratic (or worse) time before it was made linear; `bench/hostile_text.py` times
the old code against the new on the same inputs. `CASES` are the sizes the tests
use: the old code took a minute or more on each (see the bench), the new code takes
well under a second, and a test allows it a few seconds of CPU.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TPP = ": a.1. A 'TPP' of 4800 or more; or a.2. A 'TPP' of 1600 or more."


def trailing_separators(n: int) -> str:
    """The issue's 3A090 paragraph: `n` repetitions of ", " inside its header."""
    return f"3A090 Items: a. Integrated circuits having{', ' * n}either of the following{TPP}"


def label_candidates(n: int) -> str:
    """`n` paragraph labels out of sequence, each checked for the text before it."""
    return "3A090 Items: " + "b. " * n


def cue_words(n: int) -> str:
    """A header of `n` "any" with no "following" in its sentence."""
    return "3A090 Items: a. Integrated circuits having " + "any " * n + TPP


def cfr_digits(n: int) -> bytes:
    """A rule whose `<CFR>` holds `n` digits."""
    return f"<RULE><PREAMB><CFR>{'1' * n} x</CFR></PREAMB></RULE>".encode()


def verbs(n: int) -> str:
    """An amendatory instruction of `n` verbs, each checked for "is"/"are" before it."""
    return "Supplement No. 4 to part 744 is amended by " + "adding " * n


def paragraph_keywords(n: int) -> str:
    """`n` "paragraph (a)" in one list of references."""
    return "Section 744.1 is amended by revising " + "paragraph (a) " * n


def headings(n: int) -> str:
    """`n` country headings, then `n` more after "under"."""
    return "Supplement No. 4 to part 744 is amended by adding " + "CHINA " * n + "under RUSSIA " * n


def spaces(n: int) -> str:
    """A run of `n` spaces with no "a.k.a." after it."""
    return "Foo" + " " * n + "x"


def env_defaults(n: int) -> str:
    """`n` unclosed `${A:-` defaults."""
    return "${A:-" * n


WORDS = ("Advanced", "Micro", "Quantum", "Silicon", "Photon", "Nano", "Vector", "Tensor", "Logic",
         "Wave", "Core", "Edge", "Cloud", "Data", "Neural", "Sigma", "Delta", "Orbit")  # fmt: skip
FORMS = ("Co., Ltd.", "Inc.", "GmbH", "Technology Co., Ltd.", "Corporation", "Ltd.")
COUNTRIES = ("CN", "US", "DE", "JP", "KR", "TW", "SG", "IN", "GB", "FR")


def big_portfolio(folder: Path, customers: int = 100_000) -> Path:
    """A SYNTHETIC portfolio (fixed seed): `customers` customers with three aliases, a
    country, a city and an address each (21 MB for 100,000), and a monitor.yaml naming it."""
    rnd = random.Random(7)
    lines = ["customers:"]
    for i in range(customers):
        a, b = rnd.sample(WORDS, 2)
        lines += [
            f"  - id: c{i:06d}",
            f'    name: "{a} {b} {i} {rnd.choice(FORMS)}"',
            f'    aliases: ["{a}{b} {i}", "{a} {i}", "{b} {a} {i}"]',
            f"    country: {rnd.choice(COUNTRIES)}",
            f"    city: City{i % 500}",
            f'    addresses: ["No. {i} {a} Road, City{i % 500}"]',
        ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "customers.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = folder / "monitor.yaml"
    config.write_text("data_dir: state\nportfolio: {path: customers.yaml}\n", encoding="utf-8")
    return config


@dataclass(frozen=True)
class Case:
    name: str
    function: str  # "module:attribute" applied to the text
    build: Callable[[int], Any]
    size: int


CASES = [
    Case("eccn._TRAILING_CONJ", "monitor.eccn:parse_parameters", trailing_separators, 3_000),
    Case("eccn._labels", "monitor.eccn:parse_parameters", label_candidates, 30_000),
    Case("eccn._ANY_CUE", "monitor.eccn:parse_parameters", cue_words, 50_000),
    Case("fedreg_xml._CFR", "monitor.fedreg_xml:parse_document", cfr_digits, 100_000),
    Case("amendments._PASSIVE", "monitor.amendments:parse_amdpar", verbs, 30_000),
    Case(
        "amendments.paragraph_refs", "monitor.amendments:parse_amdpar", paragraph_keywords, 10_000
    ),
    Case("amendments._countries", "monitor.amendments:parse_amdpar", headings, 25_000),
    Case("entities._AKA", "monitor.entities:_AKA.search", spaces, 200_000),
    Case("yamlfile._ENV", "monitor.yamlfile:_ENV.findall", env_defaults, 50_000),
]


def peak_mb() -> float:
    """This process's peak resident memory in MB (VmHWM). Not ru_maxrss: Linux carries
    that across exec, so a child of a big pytest process would report the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def resolve(function: str) -> Callable[..., Any]:
    import importlib

    module, _, path = function.partition(":")
    found: Any = importlib.import_module(module)
    for part in path.split("."):
        found = getattr(found, part)
    return found


def _child(function: str, argument: Any, pipe: Any) -> None:
    call = resolve(function)
    start = time.process_time()
    with contextlib.suppress(ValueError):  # a parse error is an answer too: the time counts
        call(argument)
    pipe.send(time.process_time() - start)


def cpu_seconds(function: str, argument: Any, give_up: float = 120.0) -> float:
    """The CPU time `function(argument)` takes in a child process (its CPU alone, so a
    busy machine does not inflate it); inf if it has not finished after `give_up` s."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(function, argument, send))
    child.start()
    try:
        if not receive.poll(give_up):
            return float("inf")
        return receive.recv()
    finally:
        child.kill()
        child.join()
