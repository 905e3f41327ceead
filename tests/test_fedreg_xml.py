"""The Federal Register XML parser against the REAL daily issue of 2016-04-15 and the
SYNTHETIC Entity List rule (see tests/fixtures/fr_xml/PROVENANCE.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from monitor.amendments import amendments_of
from monitor.fedreg_xml import (
    FedRegXMLError,
    Issue,
    parse_document,
    parse_issue,
    parse_xml,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "fr_xml"
ISSUE = FIXTURES / "FR-2016-04-15_full_issue.xml"  # real
SYNTHETIC = FIXTURES / "synthetic_entity_list_rule.xml"  # synthetic


@pytest.fixture(scope="module")
def issue() -> Issue:
    return parse_issue(ISSUE.read_bytes())


# --- the real issue -----------------------------------------------------------------


def test_the_issue_has_its_documents_by_type(issue: Issue) -> None:
    assert (issue.volume, issue.number, issue.date) == ("81", "73", "Friday, April 15, 2016")
    assert issue.counts() == {"RULE": 9, "PRORULE": 4, "NOTICE": 132, "PRESDOCU": 1}
    numbers = [d.document_number for d in issue.documents]
    assert len(numbers) == len(set(numbers)) == 146
    # the issue's own table of contents lists the same document numbers
    toc = {el.text.strip() for el in parse_xml(ISSUE.read_bytes()).iter("FRDOCBP")}
    assert set(numbers) == toc


# Type, AGENCY and SUBAGY as in the header lines of the real documents extracted
# into shared/data/rules/negatives/<number>.txt from this same issue.
@pytest.mark.parametrize(
    ("number", "kind", "agency", "subagency"),
    [
        (
            "2016-08679",
            "NOTICE",
            "DEPARTMENT OF HEALTH AND HUMAN SERVICES",
            "Agency for Healthcare Research and Quality",
        ),
        ("2016-08720", "RULE", "DEPARTMENT OF THE TREASURY", "Office of Foreign Assets Control"),
        ("2016-08730", "NOTICE", "DEPARTMENT OF COMMERCE", "Bureau of the Census"),
        ("2016-08794", "NOTICE", "DEPARTMENT OF COMMERCE", "Foreign-Trade Zones Board"),
        ("2016-08508", "PRORULE", "ENVIRONMENTAL PROTECTION AGENCY", None),
        ("2016-08717", "RULE", "FEDERAL DEPOSIT INSURANCE CORPORATION", None),
    ],
)
def test_known_documents_are_found_with_their_agency(
    issue: Issue, number: str, kind: str, agency: str, subagency: str | None
) -> None:
    doc = issue.by_number(number)
    assert doc is not None
    assert (doc.type, doc.agency, doc.subagency) == (kind, agency, subagency)


def test_preamble_fields_of_a_real_rule(issue: Issue) -> None:
    doc = issue.by_number("2016-08717")
    assert doc.filed == "4-14-16; 8:45 am"
    assert doc.cfr == ["12 CFR Part 324"]
    assert doc.rins == ["3064-AE12"]
    assert doc.action == "Correcting amendment."
    assert doc.dates == "The correction is effective April 15, 2016."
    assert doc.summary.startswith("The FDIC is correcting a Final Rule")
    assert doc.subject.startswith("Regulatory Capital Rules: Regulatory Capital, Final Revisions")
    # the REGTEXT is parsed, not repeated in the supplementary text
    assert "Capital measures and capital category definitions" not in doc.supplementary
    assert "List of Subjects in 12 CFR Part 324" in doc.supplementary


def test_a_presidential_document_without_filed_on_the_frdoc_line(issue: Issue) -> None:
    # "<FRDOC>[FR Doc. 2016-08970</FRDOC><FILED>Filed 4-14-16; 11:15 a.m.]</FILED>"
    doc = issue.by_number("2016-08970")
    assert doc.type == "PRESDOCU"
    assert doc.filed == "4-14-16; 11:15 a.m."
    assert doc.subject == "Establishment of the Belmont-Paul Women's Equality National Monument"


def test_regtext_sections_and_amdpars_of_a_real_rule(issue: Issue) -> None:
    doc = issue.by_number("2016-08717")  # FDIC, 12 CFR 324.403 revised in full
    assert [(r.title, r.part) for r in doc.regtexts] == [("12", "324"), ("12", "324")]
    assert doc.amdpars == [
        "1. The authority citation for part 324 continues to read as follows:",
        "2. Section 324.403 is revised to read as follows:",
    ]
    assert doc.regtexts[0].part_heading == "PART 324—CAPITAL ADEQUACY"
    assert doc.regtexts[0].authority.startswith("12 U.S.C. 1815(a), 1815(b)")
    [section] = doc.sections
    assert (section.id, section.number) == ("12 CFR 324.403", "324.403")
    assert section.subject == "Capital measures and capital category definitions."
    ids = [p.id for p in section.paragraphs]
    assert len(ids) == len(set(ids)) == 53
    assert ids[:10] == [
        "12 CFR 324.403(a)",
        "12 CFR 324.403(a)(1)",
        "12 CFR 324.403(a)(2)",
        "12 CFR 324.403(a)(3)",
        "12 CFR 324.403(a)(4)",
        "12 CFR 324.403(a)(5)",
        "12 CFR 324.403(a)(6)",
        "12 CFR 324.403(b)",
        "12 CFR 324.403(b)(1)",
        "12 CFR 324.403(b)(1)(i)",
    ]
    deep = section.paragraph("12 CFR 324.403(c)(1)(iii)(A)")
    assert deep is not None and deep.label == "(c)(1)(iii)(A)"
    assert deep.text.startswith("(A) The OCC to increase its capital equivalency deposit")
    # (v) after (iv) is roman, not the letter v
    assert section.paragraph("12 CFR 324.403(b)(1)(v)").text.startswith("(v) Is not subject")
    assert ids[-1] == "12 CFR 324.403(d)(2)"


def test_a_letter_i_after_b_is_the_letter_not_the_roman_numeral(issue: Issue) -> None:
    doc = issue.by_number("2016-08792")  # FDA: "(b) ... <STARS/> (i) Folic acid may be added"
    section = doc.section("21 CFR 172.345")
    assert [p.id for p in section.paragraphs] == ["21 CFR 172.345(b)", "21 CFR 172.345(i)"]
    assert [(a.action, a.unit) for a in amendments_of(doc)] == [
        ("revised", "21 CFR 172.345(b)"),
        ("added", "21 CFR 172.345(i)"),
    ]


def test_a_first_child_after_an_italic_heading_is_labelled(issue: Issue) -> None:
    # "(c) <E T="03">Regulations.</E> (1) Vessels transiting ..." (Coast Guard)
    section = issue.by_number("2016-08781").section("33 CFR 100.35T09-0208")
    assert [p.label for p in section.paragraphs] == ["(a)", "(b)", "(c)(1)", "(c)(2)", "(c)(3)"]


def test_notes_and_lead_in_text_are_unlabelled_paragraphs(issue: Issue) -> None:
    doc = issue.by_number("2016-08720")  # OFAC, a whole new part with subparts
    assert len(doc.sections) == 40  # the part's table of contents is not read as sections
    section = doc.section("31 CFR 566.201")
    lead = section.paragraphs[0]
    assert (lead.id, lead.label) == ("31 CFR 566.201#p1", None)
    assert lead.text.startswith("Upon a determination by the Secretary of the Treasury")
    note = section.paragraph("31 CFR 566.201(a)(2)#p1")
    assert note.text == "Note to paragraph (a)(2):"
    assert section.paragraph("31 CFR 566.201(a)(3)").text.startswith("(3) Engages in money")


def test_proposed_rule_amendments_printed_without_regtext(issue: Issue) -> None:
    doc = issue.by_number("2016-08622")  # GAO bid protest rules: PART/AMDPAR/SECTION in SUPLINF
    [reg] = doc.regtexts
    assert reg.implicit and (reg.title, reg.part) == ("4", "21")
    section = doc.section("4 CFR 21.2")
    assert [p.label for p in section.paragraphs] == ["(a)(1)", "(a)(2)", "(a)(3)"]
    changes = {(a.action, a.unit, a.new_unit) for a in amendments_of(doc)}
    assert ("redesignated", "4 CFR 21.0(f)", "4 CFR 21.0(g)") in changes
    assert ("added", "4 CFR 21.8(f)(5)", None) in changes  # "(f)(4) through (6)"
    assert ("revised", "4 CFR 21.6", None) in changes


def test_appendix_tables_in_regtext(issue: Issue) -> None:
    doc = issue.by_number("2016-08773")  # PBGC: "In appendix B to part 4022, Rate Set 271 ..."
    appendix = doc.section("Appendix B to Part 4022")
    assert appendix.kind == "appendix"
    assert appendix.subject == "Lump Sum Interest Rates for PBGC Payments"
    [table] = appendix.tables
    assert len(table.headers) == 9
    assert table.headers[1] == "For plans with a valuation date — On or after"
    assert [c.text for c in table.rows[-1]][:4] == ["271", "5-1-16", "6-1-16", "1.00"]


def test_page_markers_do_not_leak_into_text(issue: Issue) -> None:
    doc = issue.by_number("2016-08717")
    assert doc.pages == ["22173", "22174"]
    # "... if it satisfies <PRTPAGE P="22174"/>paragraphs (b)(2)(i) through (v) ..."
    text = doc.section("12 CFR 324.403").paragraph("12 CFR 324.403(b)(2)(vi)").text
    assert "if it satisfies paragraphs (b)(2)(i) through (v) of this section" in text
    assert "22174" not in text
    gao = issue.by_number("2016-08622").section("4 CFR 21.2").paragraph("4 CFR 21.2(a)(1)")
    assert gao.text.endswith("should have been known.")  # <PRTPAGE P="22201"/> followed it
    for doc in issue.documents:
        for page in doc.pages:
            assert f"[[Page {page}]]" not in doc.text


def test_a_single_document_file_parses_like_the_issue_copy(issue: Issue) -> None:
    root = parse_xml(ISSUE.read_bytes())
    rule = next(el for el in root.iter("RULE") if "2016-08792" in etree.tostring(el).decode())
    single = parse_document(etree.tostring(rule))
    copy = issue.by_number("2016-08792")
    assert (single.document_number, single.type, single.agency) == (
        copy.document_number,
        copy.type,
        copy.agency,
    )
    assert [p.id for p in single.sections[0].paragraphs] == [
        p.id for p in copy.sections[0].paragraphs
    ]


# --- the synthetic Entity List rule -------------------------------------------------


def test_the_synthetic_rule_document() -> None:
    doc = parse_document(SYNTHETIC.read_bytes())
    assert (doc.type, doc.document_number, doc.filed) == ("RULE", "2099-00001", "1-1-99; 8:45 am")
    assert (doc.agency, doc.subagency) == (
        "DEPARTMENT OF COMMERCE",
        "Bureau of Industry and Security",
    )
    assert doc.rins == ["0694-ZZ99"] and doc.cfr == ["15 CFR Part 744"]
    assert doc.pages == ["99101", "99102", "99103"]
    assert "under Taiwan. It revises" in doc.supplementary  # a PRTPAGE sat mid-sentence
    [table] = doc.section("Supp. 4 to Part 744").tables
    assert table.headers == [
        "Country",
        "Entity",
        "License requirement",
        "License review policy",
        "Federal Register citation",
    ]
    cell = next(r[1] for r in table.rows if len(r) > 1 and "Fictional Compute" in r[1].text)
    assert "5 Nowhere Road, Kowloon, Hong Kong." in cell.text
    assert cell.lines[0] == "Fictional Compute Research Institute,"
    license_cell = next(r[2] for r in table.rows if len(r) > 2 and r[2].footnotes)
    assert license_cell.footnotes == ("4",)
    assert "734.9(e)(2)⁴ and 744.11" in license_cell.text


# --- hostile and broken input -------------------------------------------------------


def test_entities_in_a_doctype_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-FILE-CONTENT", encoding="utf-8")
    hostile = f"""<?xml version="1.0"?>
<!DOCTYPE RULE [
<!ENTITY leak SYSTEM "{secret.as_uri()}">
<!ENTITY word "EXPANDED-INTERNAL-ENTITY">
<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<RULE><PREAMB><AGENCY>TEST &word; AGENCY</AGENCY><SUBJECT>A &leak; B &lol2;</SUBJECT>
<SUM><HD SOURCE="HED">SUMMARY:</HD><P>x &leak; y</P></SUM></PREAMB>
<FRDOC>[FR Doc. 2099-00002 Filed 1-1-99; 8:45 am]</FRDOC></RULE>""".encode()
    doc = parse_document(hostile)
    assert doc.document_number == "2099-00002"
    assert doc.agency == "TEST AGENCY"
    assert doc.subject == "A B"
    for text in (doc.preamble, doc.summary, doc.subject):
        for leaked in ("TOP-SECRET", "EXPANDED-INTERNAL", "lol"):
            assert leaked not in text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<RULE><PREAMB><AGENCY>cut short", "malformed"),
        (b"<html><body>Not XML from the FR</body></html>", "not Federal Register XML"),
    ],
)
def test_broken_input_is_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(FedRegXMLError, match=message):
        parse_issue(data)


def test_a_table_of_contents_in_regtext_is_not_read_as_units() -> None:
    # SYNTHETIC placeholder text, in the layout of the OFAC rule 2016-08720 (PART > CONTENTS)
    xml = """<RULE><PREAMB><AGENCY>TEST AGENCY</AGENCY><CFR>15 CFR Part 744</CFR></PREAMB>
<SUPLINF><REGTEXT TITLE="15" PART="744"><PART><HD SOURCE="HED">PART 744—TEST HEADING</HD>
<CONTENTS><SECHD>Sec.</SECHD><SECTNO>744.1 </SECTNO><SUBJECT>Test heading.</SUBJECT>
<HD SOURCE="HED">Supplement No. 4 to Part 744—Entity List</HD></CONTENTS></PART>
<AMDPAR>2. Section 744.1 is revised to read as follows:</AMDPAR>
<SECTION><SECTNO>§ 744.1 </SECTNO><SUBJECT>Test heading.</SUBJECT>
<P>(a) Test paragraph (a).</P></SECTION></REGTEXT></SUPLINF>
<FRDOC>[FR Doc. 2099-00003 Filed 1-1-99; 8:45 am]</FRDOC></RULE>"""
    doc = parse_document(xml.encode())
    assert [s.id for s in doc.sections] == ["15 CFR 744.1"]
    assert [p.id for p in doc.sections[0].paragraphs] == ["15 CFR 744.1(a)"]
