"""The fast line and word matching behind `monitor diff` (`monitor.matching`), against
difflib on the REAL daily issue of 2016-04-15 (tests/fixtures/fr_xml/PROVENANCE.md);
the edits made to it here, and the short texts, are placeholders written for these
tests, not regulatory text."""

from __future__ import annotations

import difflib
import itertools
import random
from pathlib import Path

import pytest

from monitor.diff import units_from_fr, word_diff
from monitor.matching import equal_runs, opcodes, quick_opcodes, runs_opcodes
from tests.bounded import at_most

ISSUE = Path(__file__).resolve().parent / "fixtures" / "fr_xml" / "FR-2016-04-15_full_issue.xml"


@pytest.fixture(scope="module")
def texts() -> list[list[str]]:
    """The texts of the real issue's units, by section."""
    units, _ = units_from_fr(ISSUE.read_bytes())
    by_section = itertools.groupby(units, key=lambda u: u.section)
    return [[u.text for u in group] for _, group in by_section]


@pytest.fixture(scope="module")
def lines(texts: list[list[str]]) -> list[str]:
    """The lines of the longest document of the real issue (~22,000)."""
    return max(texts, key=len)


def difflib_runs(a: list[str], b: list[str]) -> list[tuple[int, int, int]]:
    blocks = difflib.SequenceMatcher(None, a, b).get_matching_blocks()
    return [tuple(block) for block in blocks if block.size]


def test_equal_runs_are_difflibs_on_a_real_document_with_scattered_edits_and_a_moved_block(
    lines: list[str],
) -> None:
    assert len(lines) > 20_000
    edited = list(lines)
    for k in range(100, len(edited), 997):  # ~20 edits spread over the whole document
        edited[k] = edited[k].replace(" ", " EDITED ", 1)
    del edited[5_000:5_003]
    edited.insert(300, "A line added at the start.")
    block = edited[8_000:8_008]
    del edited[8_000:8_008]
    edited[15_000:15_000] = block  # moved further down
    runs = equal_runs(lines, edited)
    assert runs == difflib_runs(lines, edited)
    assert sum(n for _, _, n in runs) > len(lines) - 40


def test_equal_runs_are_equal_and_in_order_where_no_line_is_unique() -> None:
    rng = random.Random(7)
    for _ in range(300):
        a = [str(rng.randrange(4)) for _ in range(rng.randrange(400))]
        b = list(a)
        for _ in range(rng.randrange(8)):
            b.insert(rng.randrange(len(b) + 1), str(rng.randrange(4)))
        i0 = j0 = 0
        for i, j, n in equal_runs(a, b):
            assert i >= i0 and j >= j0 and n > 0
            assert a[i : i + n] == b[j : j + n]
            i0, j0 = i + n, j + n
    assert equal_runs(["x"] * 3, ["x"] * 3) == [(0, 0, 3)]
    assert equal_runs(["x", "y"], ["z"]) == []


def test_quick_opcodes_are_difflibs() -> None:
    for m, n in itertools.product(range(3), repeat=2):
        for a in itertools.product("xy", repeat=m):
            for b in itertools.product("xy", repeat=n):
                for junk in (True, False):
                    expected = difflib.SequenceMatcher(None, a, b, autojunk=junk).get_opcodes()
                    assert quick_opcodes(a, b, junk) == expected, (a, b)


def test_opcodes_of_a_paragraph_revised_in_one_word_are_difflibs(
    texts: list[list[str]],
) -> None:
    rng = random.Random(3)
    paragraphs = [text for section in texts for text in section if len(text.split()) > 30]
    for line in rng.sample(paragraphs, 200):
        a = line.split()
        b = list(a)
        b[rng.randrange(len(b))] = "EDITED"
        assert opcodes(a, b) == difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def test_word_diffs_match_the_shared_start_first() -> None:
    # a quoted word printed twice: the second one is the insertion
    words = word_diff(
        "The term “item” means a test item.", 'The term "item" "item" means a test item.'
    )
    assert words == [
        ("equal", 'The term "item" '),
        ("insert", '"item"'),
        ("equal", " means a test item."),
    ]


def sound(a: list[str], b: list[str], ops: list[tuple[str, int, int, int, int]]) -> None:
    """Opcodes that cover both sequences in order, their equal parts equal."""
    assert ops[0][1] == ops[0][3] == 0 and (ops[-1][2], ops[-1][4]) == (len(a), len(b))
    for (_, _, i2, _, j2), (_, i1, _, j1, _) in itertools.pairwise(ops):
        assert (i2, j2) == (i1, j1)
    for tag, i1, i2, j1, j2 in ops:
        assert tag != "equal" or a[i1:i2] == b[j1:j2]


def test_a_document_printed_twice_is_matched_on_lines_found_as_often_on_each_side(
    lines: list[str],
) -> None:
    """No line of it is found once: lines found twice on each side anchor the match
    (without them the stretch is too large for difflib and nothing would match)."""
    twice = lines + lines
    edited = list(twice)
    # the first and the last line too: nothing equal at the ends to trim, after which
    # the lines there would be found once in what is left
    for k in [0, len(twice) - 1, *random.Random(8).sample(range(1, len(twice) - 1), 58)]:
        edited[k] += " EDITED"
    with at_most(30, "equal_runs on a document printed twice"):
        runs = equal_runs(twice, edited)
    sound(twice, edited, runs_opcodes(runs, len(twice), len(edited)))
    assert sum(n for _, _, n in runs) == len(twice) - 60


def test_opcodes_of_a_long_word_sequence_revised_in_many_places_are_found_fast(
    texts: list[list[str]],
) -> None:
    """The 280,000 words of the real issue, 400 of them replaced: difflib alone takes
    minutes (its time grows with the product of the lengths); anchored matching finds
    the 400 replacements in a fraction of a second."""
    words = " ".join(text for section in texts for text in section).split()
    assert len(words) > 250_000
    edited = list(words)
    spots = sorted(random.Random(9).sample(range(len(words)), 400))
    for k in spots:
        edited[k] = "EDITED"
    with at_most(30, "opcodes of 280,000 words"):
        ops = opcodes(words, edited, autojunk=True)
    sound(words, edited, ops)
    changed = [(i1, i2) for tag, i1, i2, _, _ in ops if tag != "equal"]
    expected: list[tuple[int, int]] = []
    for k in (k for k in spots if words[k] != "EDITED"):
        if expected and expected[-1][1] == k:  # next to the one before: one replacement
            expected[-1] = (expected[-1][0], k + 1)
        else:
            expected.append((k, k + 1))
    assert changed == expected


def test_opcodes_without_any_anchor_stay_sound_and_bounded() -> None:
    """Two words alternating, shifted by one: no word is rare on either side, and
    difflib without its junk heuristic would compare every pair (hours). What is not
    matched is reported replaced, never wrong."""
    a = ["x", "y"] * 50_000
    b = ["y", "x"] * 50_000
    with at_most(30, "opcodes of two alternating words"):
        ops = opcodes(a, b, autojunk=False)
    sound(a, b, ops)
