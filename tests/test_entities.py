"""Entity List entries from a rule's table (the SYNTHETIC fixture rule, see
tests/fixtures/fr_xml/PROVENANCE.md) and from the REAL Consolidated Screening List
samples (tests/fixtures/screening/PROVENANCE.md); preamble counts; list diffs."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from monitor.entities import (
    CountMismatch,
    EntityEntry,
    country_code,
    cross_check,
    diff_entries,
    merge_duplicates,
    parse_csl,
    parse_entity_cell,
    parse_rule,
    preamble_counts,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RULE = FIXTURES / "fr_xml" / "synthetic_entity_list_rule.xml"  # synthetic
CSL = FIXTURES / "screening" / "watchman_csl.csv"  # real
CSL_2023 = FIXTURES / "screening" / "csl_consolidated_2023_sample.csv"  # real


@pytest.mark.parametrize(
    ("heading", "code"),
    [
        ("CHINA, PEOPLE'S REPUBLIC OF", "CN"),
        ("CHINA, PEOPLE’S REPUBLIC OF", "CN"),
        ("China, People's Republic of (China)", "CN"),
        ("HONG KONG", "HK"),
        ("TAIWAN", "TW"),
        ("RUSSIA", "RU"),
        ("UNITED ARAB EMIRATES", "AE"),
        ("the United Arab Emirates (UAE)", "AE"),
        ("MACAU", "MO"),
        ("SINGAPORE", "SG"),
        ("KOREA, DEMOCRATIC PEOPLE'S REPUBLIC OF", "KP"),
        ("BURMA", "MM"),
        ("ATLANTIS", None),
    ],
)
def test_country_headings_map_to_iso_codes(heading: str, code: str | None) -> None:
    assert country_code(heading) == code


# --- a rule's table (synthetic fixture) -----------------------------------------------


def test_entries_of_the_synthetic_rule() -> None:
    rule = parse_rule(RULE.read_bytes())
    assert rule.document_number == "2099-00001"
    assert [(e.country, e.name) for e in rule.added] == [
        ("CN", "Example Semiconductor Test Co., Ltd."),
        ("CN", "Fictional Compute Research Institute"),
        ("CN", "Placeholder Photonics Ltd."),
        ("CN", "Test Vector Microsystems Co., Ltd."),
        ("TW", "Mock Foundry Services Corporation"),
    ]
    assert [(e.country, e.name) for e in rule.revised] == [
        ("CN", "Sample Legacy Devices Co., Ltd.")
    ]
    assert rule.removed == []

    first, second, third, fourth, taiwan = rule.added
    assert first.country_heading == "CHINA, PEOPLE'S REPUBLIC OF"
    assert first.aliases == ("Example Semi Test", "ESTC Placeholder Holdings")
    assert first.addresses == (
        "Room 101, Building 1, No. 1 Example Road, Placeholder District, Shenzhen, China",
    )
    assert first.license_requirement == (
        "For all items subject to the EAR. See §§ 734.9(e)(2)⁴ and 744.11 of the EAR."
    )
    assert first.footnotes == (4,)
    assert first.review_policy == "Presumption of denial."
    assert first.citation == "99 FR 99101, 1/2/2099."
    # two addresses, the second in Hong Kong, listed under China; a page break inside
    assert second.addresses == (
        "No. 2 Sample Street, Imaginary District, Beijing, China",
        "Unit 3, 4/F, Imaginary Tower, 5 Nowhere Road, Kowloon, Hong Kong",
    )
    assert third.aliases == ("Placeholder Optics",) and third.footnotes == ()
    assert third.review_policy.startswith("Case-by-case review for items necessary")
    # name and address on one line
    assert fourth.aliases == ()
    assert fourth.addresses == (
        "Floor 9, Demo Science Park, 10 Mock Boulevard, Hefei, Anhui, China",
    )
    assert taiwan.country_heading == "TAIWAN" and taiwan.footnotes == (4,)
    revised = rule.revised[0]
    assert revised.aliases == ("Sample Legacy", "SLD Example Co.", "Legacy Sample Devices")
    assert revised.citation == "98 FR 98765, 3/3/2098; 99 FR 99101, 1/2/2099."


def test_the_preamble_counts_agree_with_the_synthetic_table() -> None:
    rule = parse_rule(RULE.read_bytes())
    assert rule.counts.by_country == {"CN": 4, "TW": 1}
    assert rule.counts.entities == 5
    assert rule.mismatches == []


def _without_row(data: bytes, name: str) -> bytes:
    root = etree.fromstring(data)
    row = next(r for r in root.iter("ROW") if name in "".join(r.itertext()))
    row.getparent().remove(row)
    return etree.tostring(root)


def test_a_count_mismatch_is_reported_not_hidden() -> None:
    data = _without_row(RULE.read_bytes(), "Test Vector Microsystems")
    rule = parse_rule(data)
    assert len(rule.added) == 4
    assert rule.mismatches == [CountMismatch("CN", 4, 3), CountMismatch(None, 5, 4)]
    assert str(rule.mismatches[0]) == "CN: preamble says 4, table has 3"


def test_real_preamble_counts() -> None:
    # REAL: the SUMMARY of FR Doc. 2023-25684 ("Additions to the Entity List") as recorded
    # in shared/data/fr_docs/2023-25684.json; note the missing comma after "India (1)".
    summary = (
        "In this rule, the Bureau of Industry and Security (BIS) amends the Export "
        "Administration Regulations (EAR) by adding four entities under nine entries to the "
        "Entity List. These entities are listed under the destinations of Costa Rica (1), "
        "Ecuador (1), India (1) Panama (2), Spain (1), Russia (1), and Venezuela (2). These "
        "entities have been determined by the U.S. Government to be acting contrary to the "
        "national security or foreign policy interests of the United States. Some entities are "
        "added under multiple entries, accounting for the difference in the totals."
    )
    counts = preamble_counts(summary)
    assert (counts.entities, counts.entries) == (4, 9)
    assert counts.by_country == {"CR": 1, "EC": 1, "IN": 1, "PA": 2, "ES": 1, "RU": 1, "VE": 2}
    entries = [
        EntityEntry(code, f"Example {code} {i}")
        for code, n in counts.by_country.items()
        for i in range(n)
    ]
    assert cross_check(counts, entries) == []
    assert cross_check(counts, entries[1:]) == [
        CountMismatch("CR", 1, 0),
        CountMismatch(None, 9, 8),
    ]


def test_preamble_counts_in_other_wordings() -> None:
    # SYNTHETIC sentences in the wording DOMAIN.md section 6 quotes
    counts = preamble_counts(
        "This rule amends the EAR by adding 12 entities to the Entity List under the "
        "destinations of China, People's Republic of (China) (11) and Taiwan (1)."
    )
    assert (counts.entities, counts.by_country) == (12, {"CN": 11, "TW": 1})
    counts = preamble_counts(
        "BIS is adding 70 entities under the destinations of China, People's Republic of "
        "(China) (42); Iran (2); Pakistan (19); South Africa (3); and the United Arab Emirates "
        "(UAE) (4)."
    )
    assert counts.by_country == {"CN": 42, "IR": 2, "PK": 19, "ZA": 3, "AE": 4}
    unknown = preamble_counts("adding two entities under the destinations of Atlantis (2).")
    assert unknown.unmapped == {"Atlantis": 2}
    assert CountMismatch("Atlantis", 2, 0) in cross_check(unknown, [])
    assert preamble_counts("This rule revises the Export Administration Regulations.") is None


def test_a_flattened_entity_cell() -> None:
    # SYNTHETIC names, in the one-line form of the eCFR text of Supplement No. 4
    cell = (
        "Beijing Example Atlas Co., Ltd., a.k.a., the following two aliases: —Example AI; "
        "and —Beijing Knowledge Sample Technology Co., Ltd. Floor 10, Building 9, No. 1, "
        "Example East Road, Haidian District, Beijing, 100080, China."
    )
    assert parse_entity_cell([cell]) == (
        "Beijing Example Atlas Co., Ltd.",
        ("Example AI", "Beijing Knowledge Sample Technology Co., Ltd."),
        (
            "Floor 10, Building 9, No. 1, Example East Road, Haidian District, Beijing, "
            "100080, China",
        ),
    )
    assert parse_entity_cell(
        ["Example Trading LLC, a.k.a., Sample Trading, P.O. Box 1, Dubai, U.A.E."]
    ) == (
        "Example Trading LLC",
        ("Sample Trading",),
        ("P.O. Box 1, Dubai, U.A.E.",),
    )


# --- the Consolidated Screening List (real) -------------------------------------------


def test_entity_list_rows_of_the_csl() -> None:
    entries = parse_csl(CSL.read_bytes())
    assert len(entries) == 22  # of 115 rows, only the Entity List's
    assert {e.source for e in entries} == {"csl"}
    assert Counter(e.country for e in entries) == {
        "AE": 4,
        "NO": 4,
        "CN": 3,
        "HK": 2,
        "TR": 2,
        "IL": 1,
        "GB": 1,
        "IR": 1,
        "SG": 1,
        "AF": 1,
        "AT": 1,
        "ZA": 1,
    }
    first = entries[0]
    assert (first.name, first.country, first.citation) == (
        "32 Group China Ltd.",
        "HK",
        "80 FR 69852",
    )
    assert len(first.addresses) == 2
    assert first.review_policy == "Presumption of denial."
    by_name = {e.name: e for e in entries}
    assert by_name["3K Aviation Consulting and Logistics"].aliases == (
        "3K Havacilik ve Danismanlik SAN. TIC. LTD. ST.",
    )
    # a cp1252 apostrophe stored as the C1 character U+0092 is read back (as a plain ')
    assert "\x92" in CSL.read_text(encoding="utf-8")
    assert by_name["A. Leib Ltd."].addresses == ("HA'Assif 19, Binyamina, IL",)
    assert "Huawei Technologies" not in " ".join(by_name)  # no SDN, DPL or UVL rows


def test_the_2023_csl_layout_and_a_flattened_footnote() -> None:
    [entry] = parse_csl(CSL_2023.read_bytes())
    assert entry.name.startswith("China Electronics Technology Group Corporation 13th")
    assert entry.country == "CN"  # from "..., Shijiazhuang, Hebei, China"
    assert entry.addresses[:2] == (
        "113 Hezuo Road, Shijiazhuang, Hebei, China",
        "21 Changsheng Street, Shijiazhuang, Hebei, China",
    )
    assert "HSRI" in entry.aliases
    # "See §§ 734.9(g),3 746.8(a)(3), and 744.21(b)": the superscript 3 flattened
    assert entry.footnotes == (3,)
    assert entry.citation == "83 FR 37423; 87 FR 77505"


def test_a_file_that_is_not_the_csl_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a Consolidated Screening List"):
        parse_csl(b"ent_num,name\n1,EXAMPLE\n")


# --- diff -----------------------------------------------------------------------------


def test_rows_repeating_a_key_are_merged() -> None:
    merged = merge_duplicates(parse_csl(CSL.read_bytes()))
    norway = merged[("NO", "gunther migeotte")]
    assert len(norway.addresses) == 4
    assert ("ZA", "gunther migeotte") in merged  # another destination, another entry
    assert len(merged) == 19


def test_diff_of_two_csl_versions() -> None:
    old = parse_csl(CSL.read_bytes())
    by_name = {e.name: e for e in old}
    new = [e for e in old if e.name != "GBNTT"]  # removed
    new = [
        replace(
            e, license_requirement=e.license_requirement + " See § 734.9(e)(2)⁴.", footnotes=(4,)
        )
        if e.name == "Gryphon Aerospace"
        else e
        for e in new
    ]
    new = [
        replace(e, aliases=("Example Alias",)) if e.name == "A.C. International" else e for e in new
    ]
    # a respelling that normalises to the same key, with extra spaces: not a change
    new = [
        replace(e, name="32 Group China Ltd", review_policy="Presumption  of denial.")
        if e.name == "32 Group China Ltd."
        else e
        for e in new
    ]
    # SYNTHETIC added entry
    new.append(EntityEntry("SG", "Example Newly Listed Pte. Ltd.", source="csl"))

    diff = diff_entries(old, new)
    assert [e.name for e in diff.added] == ["Example Newly Listed Pte. Ltd."]
    assert [e.name for e in diff.removed] == ["GBNTT"]
    changes = {c.new.name: c.fields for c in diff.modified}
    assert changes == {
        "Gryphon Aerospace": ("license_requirement", "footnotes"),
        "A.C. International": ("aliases",),
        "32 Group China Ltd": ("name",),
    }
    change = next(c for c in diff.modified if c.new.name == "Gryphon Aerospace")
    assert change.old is by_name["Gryphon Aerospace"] and change.key == ("SG", "gryphon aerospace")
    assert diff_entries(old, old).empty


def test_diff_of_a_revised_rule_entry() -> None:
    rule = parse_rule(RULE.read_bytes())
    before = rule.added + rule.revised
    after = [
        replace(e, citation=e.citation + "; 99 FR 99999, 12/31/2099.", addresses=e.addresses[:1])
        if e.name == "Fictional Compute Research Institute"
        else e
        for e in before
    ]
    diff = diff_entries(before, after)
    assert not diff.added and not diff.removed
    [change] = diff.modified
    assert change.key == ("CN", "fictional compute research institute")
    assert change.fields == ("addresses", "citation")
