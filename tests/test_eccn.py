"""ECCN thresholds (monitor/eccn.py) against the demo portfolio and CCL-style text.

The demo chips come from examples/demo/portfolio/chips.yaml. The CCL paragraphs below are
SYNTHETIC: no real CCL text is available offline, so they were written for these tests in
the CCL's drafting style (lettered paragraphs, 'quoted' defined terms, "N or more", "less
than N", "; or"). They are not copies of any rule.
"""

from __future__ import annotations

import math
import re
from datetime import date

import pytest
import yaml

from monitor.eccn import (
    UNKNOWN,
    Comparison,
    ParseError,
    all_of,
    any_of,
    assess,
    classify,
    compare,
    crossings,
    parse_parameters,
)
from monitor.knowledge import controls
from monitor.portfolio import Chip, Portfolio, load_portfolio
from tests.conftest import PORTFOLIO

RATE = "bidirectional_transfer_rate_gbs"
# the rules in force on each rule's effective date (monitor/knowledge/data/controls.yaml)
RULES_2022 = controls.rules_on(date(2022, 10, 7))
RULES_2023 = controls.rules_on(date(2023, 11, 17))
RULES_2024 = controls.rules_on(date(2024, 12, 2))

# Aggregate bidirectional transfer rates (GB/s) for the 2022 interconnect test. chips.yaml has
# no such field (checked in `with_rate`), so these are supplied here, in test-local copies only:
# A100 600 (chips.yaml notes: "has 600 GB/s NVLink"); A800 400 (chips.yaml eccn_2022: "NVLink cut
# to 400 GB/s"); H800 400 (DOMAIN.md section 2: A800 and H800 cut NVLink to 400 GB/s); H100 900
# (NVIDIA's published NVLink 4 figure, not in chips.yaml); L40S 64 (PCIe 4.0 x16, about 32 GB/s
# each way; chips.yaml: "PCIe card, no 600 GB/s interconnect").
LOCAL_RATES = {
    "nvidia-a100": 600,
    "nvidia-a800": 400,
    "nvidia-h800": 400,
    "nvidia-h100-sxm": 900,
    "nvidia-l40s": 64,
}


@pytest.fixture(scope="module")
def portfolio() -> Portfolio:
    return load_portfolio(PORTFOLIO)


@pytest.fixture(scope="module")
def raw() -> dict[str, dict]:
    """chips.yaml as written: eccn_2022 / eccn_2023 are kept for people, not by the Chip model."""
    data = yaml.safe_load((PORTFOLIO / "chips.yaml").read_text(encoding="utf-8"))
    return {entry["id"]: entry for entry in data["chips"]}


@pytest.fixture(scope="module")
def chips(portfolio) -> dict[str, Chip]:
    return {chip.id: chip for chip in portfolio.chips}


def with_rate(chip: Chip, raw_entry: dict) -> Chip | dict:
    """The chip with its transfer rate: from chips.yaml if it has the field, else a test-local
    copy with LOCAL_RATES, else the chip unchanged (rate unknown)."""
    if RATE in raw_entry:
        return {**chip.model_dump(), RATE: raw_entry[RATE]}
    if chip.id in LOCAL_RATES:
        return {**chip.model_dump(), RATE: LOCAL_RATES[chip.id]}
    return chip


UNCLEAR = "unclear"


def stated(text: object) -> str | None:
    """A chips.yaml class: "3A090.a", None for "not 3A090 ...", or UNCLEAR ("n/a",
    "uncertain", "(verify)")."""
    value = str(text).strip()
    if re.fullmatch(r"3A090\.[ab]", value):
        return value
    if value.startswith("not 3A090") and not re.search(r"uncertain|verify", value):
        return None
    return UNCLEAR


CLEAR_2023 = [
    "nvidia-a100", "nvidia-a800", "nvidia-h100-sxm", "nvidia-h800", "nvidia-h20", "nvidia-l20",
    "nvidia-l40s", "nvidia-b200", "amd-mi250x", "amd-mi300x", "intel-gaudi2", "intel-gaudi3",
]  # fmt: skip


# --- the data itself ----------------------------------------------------------------------


def test_stated_performance_density_is_tpp_over_die_area(chips):
    checked = 0
    for chip in chips.values():
        if chip.die_area_mm2 and chip.performance_density is not None:
            computed = chip.tpp / chip.die_area_mm2
            assert math.isclose(chip.performance_density, computed, rel_tol=0.01), chip.id
            assert assess(chip, RULES_2023).notes == ()  # no discrepancy note
            checked += 1
    assert checked == 10  # all but MI250X, Gaudi 2 and Gaudi 3 (no die area)


# --- the 2023 rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tpp", "pd", "expected"),
    [
        (4800, None, "3A090.a"),  # TPP alone decides .a; PD unknown does not matter
        (4799.9, 5.92, "3A090.a"),  # a.2 at its PD line
        (4799.9, 5.91, "3A090.b"),  # b.1 and b.2
        (1600, 5.92, "3A090.a"),
        (1599.9, 50, None),  # every prong needs TPP >= 1600
        (2400, 1.6, "3A090.b"),  # b.1 lower corner
        (2399.9, 1.6, None),  # b.1 fails on TPP, b.2 on PD
        (2399.9, 3.2, "3A090.b"),  # b.2 lower PD line
        (1600, 3.19, None),
        (3000, 1.59, None),
    ],
)
def test_2023_rules_at_their_lines(tpp, pd, expected):
    assert classify({"id": "probe", "tpp": tpp, "performance_density": pd}, RULES_2023) == expected


@pytest.mark.parametrize("chip_id", CLEAR_2023)
def test_2023_class_matches_chips_yaml(chip_id, chips, raw):
    expected = stated(raw[chip_id]["eccn_2023"])
    assert expected != UNCLEAR
    assert classify(chips[chip_id], RULES_2023) == expected, assess(chips[chip_id], RULES_2023)


def test_only_the_ascend_has_no_clear_2023_class(raw):
    # Ascend 910B: "n/a (PRC-made)". It is not a chip anyone here exports, so chips.yaml
    # gives no class; by its parameters alone it would meet 3A090.a (checked below).
    unclear = {cid for cid, entry in raw.items() if stated(entry["eccn_2023"]) == UNCLEAR}
    assert unclear == {"huawei-ascend-910b"}
    assert set(CLEAR_2023) | unclear == set(raw)


def test_ascend_parameters_alone_meet_3a090a(chips):
    assert classify(chips["huawei-ascend-910b"], RULES_2023) == "3A090.a"


# --- the 2022 rules and the interconnect test ------------------------------------------------


def test_2022_interconnect_test_keeps_a800_and_h800_out(chips, raw):
    got = {cid: classify(with_rate(chips[cid], raw[cid]), RULES_2022) for cid in LOCAL_RATES}
    assert got["nvidia-a100"] == "3A090.a"
    assert got["nvidia-h100-sxm"] == "3A090.a"
    assert got["nvidia-a800"] is None
    assert got["nvidia-h800"] is None
    assert got["nvidia-l40s"] is None


def test_2022_classes_match_chips_yaml_where_decidable(chips, raw):
    decided = unknown = 0
    for cid, chip in chips.items():
        expected = stated(raw[cid]["eccn_2022"])
        if expected == UNCLEAR:
            continue  # Gaudi 2 "uncertain", MI250X/Gaudi 3 "(verify)", Ascend "n/a"
        got = classify(with_rate(chip, raw[cid]), RULES_2022)
        if cid in LOCAL_RATES or chip.tpp < 4800:
            assert got == expected, cid
            decided += 1
        else:
            # TPP >= 4800 and no transfer rate anywhere: open, never guessed either way
            assert got == UNKNOWN, cid
            unknown += 1
    assert (decided, unknown) == (7, 2)  # B200 and MI300X stay open


def test_a_missing_transfer_rate_is_unknown_not_false(chips):
    a100 = assess(chips["nvidia-a100"], RULES_2022)  # chips.yaml has no rate
    assert a100.result == UNKNOWN
    assert a100.missing == (RATE,)
    assert a100.explanation == "A100: unknown (transfer rate not known; TPP 4992 >= 4800)"
    # ... but a TPP below the line decides without it
    h20 = assess(chips["nvidia-h20"], RULES_2022)
    assert h20.result is None and h20.missing == ()
    assert h20.why == "TPP 2368 < 4800"


# --- crossings ----------------------------------------------------------------------------------


def test_crossings_2022_to_2023(chips, raw):
    supplied = [with_rate(chip, raw[chip.id]) for chip in chips.values()]
    found = {c.chip_id: c for c in crossings(supplied, RULES_2022, RULES_2023)}
    known = {cid for cid, c in found.items() if c.known}
    assert known == {"nvidia-a800", "nvidia-h800", "nvidia-l40s"}
    assert "nvidia-h100-sxm" not in found and "nvidia-h20" not in found
    assert found["nvidia-a800"].reason == (
        "A800: not 3A090 -> 3A090.a (TPP 4992 >= 4800; the 600 GB/s interconnect test is gone)"
    )
    assert found["nvidia-l40s"].reason.startswith("L40S: not 3A090 -> 3A090.a (TPP 5864 >= 4800;")
    # chips without a transfer rate may have crossed: listed, flagged, and said so
    maybe = {cid for cid, c in found.items() if not c.known}
    assert maybe == {
        "nvidia-b200", "amd-mi250x", "amd-mi300x", "intel-gaudi2", "intel-gaudi3",
        "huawei-ascend-910b",
    }  # fmt: skip
    b200 = found["nvidia-b200"]
    assert (b200.before, b200.after) == (UNKNOWN, "3A090.a")
    assert b200.reason == (
        "B200: unknown -> 3A090.a (TPP 36000 >= 4800; before: transfer rate not known; "
        "the 600 GB/s interconnect test is gone)"
    )


def test_extra_figures_are_given_by_chip_id(portfolio):
    extra = {"nvidia-a800": {RATE: 400}, "nvidia-a100": {RATE: 600}}
    found = {c.chip_id: c for c in crossings(portfolio, RULES_2022, RULES_2023, extra=extra)}
    assert found["nvidia-a800"].known and found["nvidia-a800"].before is None
    assert "nvidia-a100" not in found  # 3A090.a under both
    assert not found["nvidia-h800"].known  # no figure given: still open


def test_compare_explains_the_chips_that_stay(chips, raw):
    supplied = [with_rate(chip, raw[chip.id]) for chip in chips.values()]
    every = {c.chip_id: c for c in compare(supplied, RULES_2022, RULES_2023)}
    assert len(every) == len(chips)
    h20 = every["nvidia-h20"]
    assert not h20.changed
    assert h20.reason == "HGX H20 stays outside 3A090 (TPP 2368 < 2400; PD 2.91 < 3.2)"
    assert every["nvidia-h100-sxm"].reason == "H100 SXM5 stays 3A090.a (TPP 15832 >= 4800)"
    assert every["nvidia-l20"].reason == "L20 stays outside 3A090 (TPP 1912 < 2400; PD 3.14 < 3.2)"


def test_hbm_paragraph_moves_no_logic_chip_but_catches_hbm(portfolio):
    assert crossings(portfolio, RULES_2023, RULES_2024) == []
    # SYNTHETIC memory items (made-up figures): 3A090.c tests HBM stacks, not logic ICs
    stacks = [
        {
            "id": "hbm-fast",
            "name": "Fast HBM stack",
            "kind": "hbm",
            "memory_bandwidth_density": 2.6,
        },
        {
            "id": "hbm-at-line",
            "name": "Line HBM stack",
            "kind": "hbm",
            "memory_bandwidth_density": 2,
        },
    ]
    found = crossings(stacks, RULES_2023, RULES_2024)
    assert [(c.chip_id, c.before, c.after) for c in found] == [("hbm-fast", None, "3A090.c")]
    assert found[0].reason == (
        "Fast HBM stack: not 3A090 -> 3A090.c (memory bandwidth density 2.6 GB/s/mm² > 2 GB/s/mm²)"
    )


# --- unknown and computed figures --------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "any_result", "all_result"),
    [
        (True, None, True, None),
        (False, None, None, False),
        (None, None, None, None),
        (False, False, False, False),
        (True, True, True, True),
    ],
)
def test_three_valued_logic(a, b, any_result, all_result):
    def probe(result: bool | None, parameter: str) -> tuple[Comparison, dict]:
        test = Comparison(parameter, ">=", 10)
        return test, ({} if result is None else {parameter: 20 if result else 0})

    (ta, va), (tb, vb) = probe(a, "tpp"), probe(b, "performance_density")
    values = {**va, **vb}
    assert any_of(ta, tb).test(values) is any_result
    assert all_of(ta, tb).test(values) is all_result


def test_missing_performance_density_is_computed_from_die_area_and_said(chips):
    l20 = {**chips["nvidia-l20"].model_dump(), "performance_density": None}
    got = assess(l20, RULES_2023)
    assert got.result is None
    assert got.notes == ("PD 3.14 computed as TPP 1912 / die area 609 mm²",)
    assert got.explanation.endswith("; PD 3.14 computed as TPP 1912 / die area 609 mm²")
    # chips.yaml: "A 2 % spec error flips the classification"
    faster = {**l20, "tpp": 1912 * 1.02}
    assert classify(faster, RULES_2023) == "3A090.b"
    assert "3.2 <= PD 3.2 < 5.92" not in assess(faster, RULES_2023).why  # never a false tie
    assert assess(faster, RULES_2023).why == "TPP 1950.24 >= 1600; 3.2 <= PD 3.202 < 5.92"


def test_without_die_area_performance_density_stays_unknown(chips):
    # a made-up probe: TPP in the .b band, no PD, no die area
    probe = assess({"id": "probe", "name": "Probe", "tpp": 3000}, RULES_2023)
    assert probe.result == UNKNOWN
    assert probe.missing == ("performance_density",)
    assert probe.why.startswith("PD not known")
    assert classify({"id": "slow", "tpp": 1500}, RULES_2023) is None  # below every TPP line
    assert chips["amd-mi250x"].performance_density is None
    assert classify(chips["amd-mi250x"], RULES_2023) == "3A090.a"  # TPP alone decides


# --- parsing CCL-style text ---------------------------------------------------------------------

# SYNTHETIC: 3A090 after Oct 2023, written in the CCL's style for this test (typographic quotes,
# a License Requirements block before "Items:", a note and technical notes after the items,
# with a numbered and a lettered item of their own that are not paragraphs of 3A090).
CCL_2023 = """\
3A090 Integrated circuits as follows (see List of Items Controlled).
License Requirements
Reason for Control: NS, RS, AT
NS applies to 3A090.a and .b. RS applies to items with a ‘TPP’ of 4800 or more.
List of Items Controlled
Related Definitions: N/A
Items:
a. Integrated circuits having one or more digital processing units having either of the
following:
a.1. A ‘total processing performance’ (‘TPP’) of 4800 or more; or
a.2. A ‘TPP’ of 1600 or more and a ‘performance density’ of 5.92 or more.
b. Integrated circuits having one or more digital processing units having either of the
following:
b.1. A ‘TPP’ of 2400 or more but less than 4800 and a ‘performance density’ of 1.6 or more
but less than 5.92; or
b.2. A ‘TPP’ of 1600 or more and a ‘performance density’ of 3.2 or more but less than 5.92.
Note to 3A090.b: 3A090.b does not apply to an integrated circuit not designed or marketed
for use in datacenters having a ‘TPP’ of less than 4800.
Technical Notes:
1. ‘Total processing performance’ (‘TPP’) is 2 x ‘MacTOPS’ x ‘bit length of the operation’:
a. For an integrated circuit with a ‘TPP’ of 4800 or more, every processing unit is counted.
2. ‘Performance density’ is ‘TPP’ divided by ‘applicable die area’ in mm2.
"""

# SYNTHETIC: 3A090.a as the project reads the Oct 2022 rule, in the CCL's style.
CCL_2022 = """\
3A090 Integrated circuits as follows.
Items:
a. Integrated circuits having one or more digital processing units having both of the
following:
a.1. A 'total processing performance' of 4800 or more; and
a.2. An aggregate bi-
directional transfer rate over all inputs and outputs of 600 Gbyte/s or more to or from
integrated circuits other than volatile memories.
b. [Reserved]
"""

# SYNTHETIC: the Dec 2024 HBM paragraph, in the CCL's style.
CCL_2024_C = """\
c. High bandwidth memory (HBM) having a ‘memory bandwidth density’ greater than 2 GB/s/mm2.
"""


def test_parser_reads_the_2023_paragraphs_into_the_constants():
    parsed = parse_parameters(CCL_2023)
    assert tuple(parsed) == RULES_2023.thresholds  # same structure, not only the same logic
    assert [t.paragraph for t in parsed] == ["3A090.a", "3A090.b"]


def test_parser_reads_the_2022_paragraph_into_the_constant():
    assert tuple(parse_parameters(CCL_2022)) == RULES_2022.thresholds


def test_parser_reads_the_hbm_paragraph_and_its_scope():
    with_c = CCL_2023.replace("Technical Notes:", CCL_2024_C + "Technical Notes:")
    parsed = parse_parameters(with_c)
    assert tuple(parsed) == RULES_2024.thresholds
    assert parsed[2].applies_to == "hbm"
    # the .c paragraph alone: the ECCN from the argument, the letter from the label
    assert parse_parameters(CCL_2024_C, eccn="3A090")[0] == RULES_2024.thresholds[2]


def test_parser_reads_one_paragraph_with_inline_or():
    # SYNTHETIC: .a written as one sentence, "and" binding tighter than "or"
    text = (
        "a. Integrated circuits having a 'TPP' of 4800 or more, or a 'TPP' of 1600 or more and "
        "a 'performance density' of 5.92 or more."
    )
    (parsed,) = parse_parameters(text)
    assert parsed == RULES_2023.get("3A090.a")


def test_parser_reads_bare_numbered_sub_paragraphs():
    # SYNTHETIC: the same .a as some web renderings print it ("1.", "2." under "a.")
    text = (
        "a. Integrated circuits having one or more digital processing units having either of "
        "the following:\n1. A 'total processing performance' of 4800 or more; or\n"
        "2. A 'total processing performance' of 1600 or more and a 'performance density' of "
        "5.92 or more."
    )
    assert parse_parameters(text) == [RULES_2023.get("3A090.a")]


@pytest.mark.parametrize(
    ("phrase", "parameter", "op", "value"),
    [
        ("a 'TPP' equal to or greater than 4800", "tpp", ">=", 4800),
        ("a 'TPP' of at least 4,800", "tpp", ">=", 4800),
        ("a 'TPP' greater than or equal to 4800", "tpp", ">=", 4800),
        ("a 'TPP' of less than 4800", "tpp", "<", 4800),
        ("a 'TPP' exceeding 4800", "tpp", ">", 4800),
        ("a 'TPP' not exceeding 4800", "tpp", "<=", 4800),
        ("a 'TPP' of 4800 or less", "tpp", "<=", 4800),
        ("a 'performance density' of more than 5.92", "performance_density", ">", 5.92),
        ("an aggregate bidirectional transfer rate of 4800 Gbit/s or more", RATE, ">=", 600),
        (
            "a 'memory bandwidth density' greater than 2 GB/s/mm²",
            "memory_bandwidth_density",
            ">",
            2,
        ),
    ],
)
def test_parser_phrasings(phrase, parameter, op, value):
    (parsed,) = parse_parameters(f"a. Integrated circuits having {phrase}.")
    assert parsed.criterion == Comparison(parameter, op, value)


def test_parsed_rules_classify_the_portfolio_like_the_constants(portfolio):
    parsed = parse_parameters(CCL_2023)
    for chip in portfolio.chips:
        assert classify(chip, parsed) == classify(chip, RULES_2023), chip.id
    assert [c.chip_id for c in crossings(portfolio, parsed, RULES_2023)] == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a. Integrated circuits having 4800 or more processing units.", "names no parameter"),
        (
            "a. Integrated circuits having: a.1. A 'TPP' of 4800 or more. "
            "a.2. A 'performance density' of 5.92 or more.",
            "any-of or all-of",
        ),
        (
            "a. Integrated circuits having either of the following: a.1. A 'TPP' of 4800 or "
            "more; or a.2. Designed for datacenters.",
            "no numeric test",
        ),
    ],
)
def test_parser_refuses_to_guess(text, message):
    with pytest.raises(ParseError, match=message):
        parse_parameters(text)


# --- .z paragraphs -------------------------------------------------------------------------


def test_z_paragraphs_are_the_rules_own_list():
    # Note 4 to 3A090.a and 3A090.b, § 740.8(a), § 744.23(a)(3)(i): 4A005.z is one, 4A994.z
    # is none
    assert controls.z_paragraphs() == {
        "3A001.z", "4A003.z", "4A004.z", "4A005.z", "5A002.z",
        "5A004.z", "5A992.z", "5D002.z", "5D992.z",
    }  # fmt: skip


# The current 3A090 layout: Note 1 to 3A090.a, with lettered items of its own, sits between
# 3A090.a.2 and 3A090.b (the foundry due-diligence rule, 2025-00711). SYNTHETIC text in the
# CCL's layout; the note's items open with the words of the conditions as a secondary copy
# of the eCFR prints them (lenzo.ai/eccn/3a090), shortened.
CCL_WITH_NOTE_1 = """\
3A090 Integrated circuits as follows (see List of Items Controlled).
Items:
a. Integrated circuits having one or more digital processing units having either of the
following:
a.1. A 'total processing performance' of 4800 or more; or
a.2. A 'total processing performance' of 1600 or more and a 'performance density' of 5.92 or
more.
Note 1 to 3A090.a: The presumption for an "applicable advanced logic integrated circuit" is
overcome as follows:
a. If the designer of the "applicable advanced logic integrated circuit" is an approved or
authorized integrated circuit designer, then a datasheet or other attestation will overcome
the presumption.
b. If the integrated circuit die is packaged by the "front-end fabricator" at a location
outside of Macau or a destination specified in Country Group D:5, then the attestation that
the "aggregated approximated transistor count" is below 30 billion transistors, or below
(i) 35 billion transistors for exports completed in 2027; or (ii) 40 billion transistors
in 2029 or thereafter.
c. If the integrated circuit is packaged by an approved "OSAT" company listed in supplement
no. 7 to part 740, then the attestation of the approved "OSAT" company.
b. Integrated circuits having one or more digital processing units having either of the
following:
b.1. A 'total processing performance' of 2400 or more but less than 4800 and a 'performance
density' of 1.6 or more but less than 5.92; or
b.2. A 'total processing performance' of 1600 or more and a 'performance density' of 3.2 or
more but less than 5.92.
c. High bandwidth memory (HBM) having a 'memory bandwidth density' greater than 2 GB/s/mm2.
"""


def test_parser_reads_the_current_text_with_note_1_to_3a090a_in_it():
    # the note's a./b./c. are its own conditions, not 3A090.b and .c
    assert tuple(parse_parameters(CCL_WITH_NOTE_1)) == RULES_2024.thresholds
