"""The public-inspection manuscript read into the same rule facts as the rule's XML.

No real BIS manuscript is stored offline (see tests/fixtures/public_inspection/
PROVENANCE.md); the manuscripts here are SYNTHETIC, in the manuscript's layout (the desk's
"scheduled to be published" stamp, the billing code, date placeholders), and the Entity
List one prints the same fictional rule as tests/fixtures/fr_xml/synthetic_entity_list_rule.xml.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from monitor import rule_facts
from monitor.inspection_text import manuscript, read, resolve_placeholders

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEXT = (FIXTURES / "public_inspection" / "texts" / "2099-99901.txt").read_text()
XML = (FIXTURES / "fr_xml" / "synthetic_entity_list_rule.xml").read_bytes()
PUBLISHED = date(2099, 1, 2)


def test_placeholders_resolve_against_the_scheduled_publication_date():
    text = ("This rule is effective [INSERT DATE OF PUBLICATION IN THE FEDERAL REGISTER]. "
            "Comments are due [INSERT DATE 30 DAYS AFTER DATE OF PUBLICATION IN THE FEDERAL\n"
            "REGISTER] and replies [INSERT DATE SIXTY DAYS AFTER THE DATE OF PUBLICATION IN THE "
            "FEDERAL REGISTER]; see [INSERT FR PAGE NUMBER].")  # fmt: skip
    assert resolve_placeholders(text, date(2025, 1, 16)) == (
        "This rule is effective January 16, 2025. Comments are due February 15, 2025 and "
        "replies March 17, 2025; see [INSERT FR PAGE NUMBER]."
    )
    assert resolve_placeholders(text, None) == text  # no date: nothing guessed


def test_the_header_and_front_matter():
    found = manuscript(TEXT, PUBLISHED)
    assert (found.action, found.cfr_parts, found.dockets, found.rins) == (
        "Final rule.",
        (744,),
        ("990101-9999",),
        ("0694-ZZ99",),
    )
    assert found.summary.startswith("This synthetic test fixture imitates the layout")
    assert found.dates == (
        "This rule is effective January 2, 2099. Comments must be received by BIS no later "
        "than February 1, 2099."
    )


def test_the_manuscript_gives_the_entries_the_xml_gives():
    text, xml = read(TEXT, PUBLISHED), rule_facts.from_xml(XML)
    assert text.source == "inspection" and xml.source == "xml"

    def comparable(facts):
        return sorted(
            (e.action, e.country, e.name, tuple(e.aliases), tuple(e.addresses),
             tuple(e.footnotes), e.review_policy)
            for e in facts.entities
        )  # fmt: skip

    assert comparable(text) == comparable(xml)
    assert text.entity_counts_stated == xml.entity_counts_stated == {"CN": 4, "TW": 1}
    assert text.entity_mismatches == [] and text.entity_list_amended
    first = next(e for e in text.entities if e.name.startswith("Example Semiconductor"))
    assert first.citation == "[INSERT FR PAGE NUMBER] January 2, 2099"
    assert (text.action, text.cfr_parts, text.rins) == ("Final rule.", [744], ["0694-ZZ99"])
    assert (xml.action, xml.cfr_parts, xml.rins) == ("Final rule.", [744], ["0694-ZZ99"])


def test_a_truncated_manuscript_keeps_the_whole_entries_and_says_what_is_missing():
    cut = TEXT[: TEXT.index("Placeholder Photonics Ltd., a.k.a.")]
    facts = read(cut, PUBLISHED)
    assert [e.name for e in facts.entities] == [
        "Example Semiconductor Test Co., Ltd.", "Fictional Compute Research Institute"
    ]  # fmt: skip
    assert "CN: preamble says 4, table has 2" in facts.entity_mismatches


def test_a_notice_is_no_rule_and_lists_nothing():
    notice = """This document is scheduled to be published in the
Federal Register on 03/04/2099 and available online at
https://federalregister.gov/d/2099-99902, and on https://govinfo.gov
SYNTHETIC TEST FIXTURE: not a Federal Register document.
DEPARTMENT OF COMMERCE
Bureau of Industry and Security
Sensors and Instrumentation Technical Advisory Committee; Notice of Partially Closed Meeting
AGENCY:  Bureau of Industry and Security, Commerce.
ACTION:  Notice of partially closed meeting.
SUMMARY:  The committee will meet on [INSERT DATE 15 DAYS AFTER DATE OF PUBLICATION IN THE
FEDERAL REGISTER] to discuss export control matters.
"""
    facts = read(notice, date(2099, 3, 4))
    assert facts.entities == [] and not facts.entity_list_amended and facts.amended == []
    assert facts.summary.endswith("meet on March 19, 2099 to discuss export control matters.")


def test_the_3a090_text_a_manuscript_prints():
    text = (
        TEXT
        + """
3.  In Supplement No. 1 to part 774, ECCN 3A090 is revised to read as follows:
3A090 Integrated circuits as follows (see List of Items Controlled).
Items:
a. Integrated circuits having one or more digital processing units having either of the
following:
a.1. A 'total processing performance' of 4000 or more; or
a.2. A 'total processing performance' of 1600 or more and a 'performance density' of 5.92 or
more.
"""
    )  # SYNTHETIC: the 4000 figure is invented
    facts = read(text, PUBLISHED)
    assert "TPP' of 4000" in facts.eccn_text["3A090"].replace("total processing performance", "TPP")
