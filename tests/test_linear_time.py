"""Every pattern and parser that reads fetched text runs in linear time: each gets the
hostile input that took the old code a minute or more (`bench/hostile_text.py` times
both in one run) and must finish it within a few seconds of its own CPU time."""

from __future__ import annotations

import pytest

from tests.hostile import CASES, Case, cpu_seconds, cue_words, resolve, trailing_separators

BUDGET = 3.0  # CPU seconds; the new code takes 0.01-0.3 s on these inputs, the old 60-360 s


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_text_is_read_in_linear_time(case: Case):
    seconds = cpu_seconds(case.function, case.build(case.size))
    assert seconds < BUDGET, f"{case.function} took {seconds:.1f} s of CPU on {case.name}'s input"


def test_the_hostile_3a090_paragraph_still_parses():
    """Linear and still right: the issue's paragraph reads as the text says, and a header
    of cue words with no "following" is no cue."""
    from monitor.eccn import parse_parameters

    (threshold,) = parse_parameters(trailing_separators(3_000))
    assert threshold.paragraph == "3A090.a" and threshold.criterion.mode == "any"
    assert threshold.test({"tpp": 4800}) and not threshold.test({"tpp": 1599})
    with pytest.raises(ValueError, match="cannot tell whether its sub-paragraphs"):
        parse_parameters(cue_words(1_000).replace("; or a.2.", "; a.2."))
    assert resolve(CASES[0].function) is parse_parameters
