"""Rule-text and Entity List diffs (`monitor.diff`) and `monitor diff`.

Data: the real Federal Register daily issue (FR-2016-04-15) and the real CSL
samples; the SYNTHETIC Entity List rule and eCFR part 744 fixtures (placeholder
text, see their PROVENANCE.md files); short texts written here, marked as such.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from monitor.config import load_config
from monitor.diff import (
    Unit,
    clean,
    country_name,
    diff_documents,
    diff_files,
    diff_mappings,
    diff_texts,
    diff_units,
    label_paragraphs,
    load_bytes,
    normalise,
    units_from_text,
)
from monitor.entities import country_code
from monitor.pipeline import check
from tests.bounded import at_most, in_fresh_interpreter
from tests.synthetic_entity_list import COUNTRIES, edited, part_xml, rows

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ISSUE = FIXTURES / "fr_xml" / "FR-2016-04-15_full_issue.xml"  # real
RULE = FIXTURES / "fr_xml" / "synthetic_entity_list_rule.xml"  # SYNTHETIC
CSL = FIXTURES / "screening" / "watchman_csl.csv"  # real
CSL_2023 = FIXTURES / "screening" / "csl_consolidated_2023_sample.csv"  # real
ECFR_V1 = FIXTURES / "ecfr" / "part-744-2024-12-05.xml"  # SYNTHETIC
ECFR_V2 = FIXTURES / "ecfr" / "part-744-2025-01-16.xml"  # SYNTHETIC

# Written for these tests: placeholder regulatory-style text, not the EAR.
SECTION = "15 CFR 744.23"


def ops(diff) -> list[tuple[str, str]]:
    return [(c.op, c.ident) for c in diff.changes]


# --- normalisation: what is not a change ------------------------------------------------


def test_reflowed_respaced_and_requoted_text_is_no_change() -> None:
    old = (
        "§ 744.23 Test section heading.\n"
        "\n"
        "(a) Test paragraph. The “semi-\n"
        "conductor” items   are controlled — see\n"
        "paragraph (b) of this section.\n"
        "(b) A test\u00a0paragraph about end-\n"
        "user checks\u2026 and ‘quoted’ words.\n"
        "\n"
        "An unlabelled closing note that\n"
        "wraps over two lines.\n"
    )
    new = (
        "§744.23 Test section heading.\n"
        "\n"
        '(a) Test paragraph. The "semiconductor" items are controlled -- see paragraph (b)'
        " of this section.\n"
        "(b) A test paragraph about end-user checks... and 'quoted' words.\n"
        "\n"
        "An unlabelled closing note\n"
        "that wraps over two lines.\n"
    )
    diff = diff_texts(old, new)
    assert diff.empty, diff.render_text()
    assert diff.changes == []
    assert diff.summary() == "no changes"
    # the comparison is not blind: one changed word is seen
    changed = diff_texts(old, new.replace("controlled", "decontrolled"))
    assert ops(changed) == [("modified", "§744.23(a)")]


def test_soft_hyphens_and_line_breaks_inside_unlabelled_lines_are_no_change() -> None:
    old = {"FR Doc. 2099-00001": "A first line of the preamble.\nA sec\u00adond line\nof it."}
    new = {"FR Doc. 2099-00001": "A first line of the preamble.\nA second line of it."}
    assert diff_mappings(old, new).empty
    assert normalise("semi-\nconductor “chips” — A") == normalise('semiconductor "chips" -- A')
    new["FR Doc. 2099-00001"] += "\nA third line."
    assert [c.op for c in diff_mappings(old, new).changes] == ["added"]


def test_every_kind_of_whitespace_is_collapsed_in_a_long_text() -> None:
    """A long text is checked for whitespace to collapse rather than split and joined:
    every character Python counts as whitespace is found."""
    spaces = [c for c in map(chr, range(0x110000)) if c.isspace()]
    assert len(spaces) > 25
    for c in spaces:
        text = "a" * 1000 + c + "b" + c
        assert clean(text) == normalise(text) == "a" * 1000 + " b", repr(c)
    assert clean("a" * 1000 + " b") == "a" * 1000 + " b"


def test_an_accent_kept_from_its_letter_by_an_invisible_character_joins_it() -> None:
    """`clean` drops invisible characters before it composes accents: what it gives is
    in NFC, as comparing clean texts takes it to be."""
    import unicodedata

    assert clean("Test cafe\u00ad\u0301") == "Test caf\u00e9"
    assert unicodedata.is_normalized("NFC", clean("a\u200b\u0327 " * 600))


# Placeholder words and the characters normalising folds (written for this test), and
# what they may be replaced by: the same text once normalised, or a change.
FOLDS = {
    "—": ["--", "-"], "“": ['"'], "’": ["'"], "…": ["..."], "end-user": ["enduser"],
    "§ 744.2": ["§744.2"], "Test.": ["Tost."], "word": ["ward"], "-": ["‐"],
}  # fmt: skip


def _long_lines(rng: random.Random) -> list[str]:
    """Lines that make one labelled paragraph (none opens one), the characters that
    fold at their ends too (but a hyphen, which joins lines otherwise)."""
    bits = [*FOLDS, "test", "text", "."]
    ends = ["—", "“", "’", "…", ".", "Test.", "--x", "text"] * 150 + ["§"]
    return [
        "Test " + " ".join(rng.choice(bits) for _ in range(rng.randrange(10, 40))) + " "
        + rng.choice(ends)
        for _ in range(400)
    ]  # fmt: skip


def test_two_long_paragraphs_compare_as_their_normalised_texts() -> None:
    """Two long paragraphs are compared stretch by stretch (by the lines they were read
    from, or else by sentence), a stretch they share normalised once: the verdict is
    the one normalising each whole text gives, on texts made of what normalising
    folds, next to the cuts too (a dash or "--" by a ". " or a line break)."""
    rng = random.Random(13)
    verdicts: Counter[tuple[bool, bool]] = Counter()
    for _ in range(80):
        lines = _long_lines(rng)
        edited = list(lines)
        for k in rng.sample(range(len(lines)), rng.randrange(1, 4)):
            found = [f for f in FOLDS if f in edited[k][5:]]
            if found:
                fold = rng.choice(found)
                edited[k] = edited[k][:5] + edited[k][5:].replace(fold, rng.choice(FOLDS[fold]), 1)
        old, new = "(a) " + "\n".join(lines), "(a) " + "\n".join(edited)
        same = normalise(clean(old)) == normalise(clean(new))
        read: dict[str, list[str]] = {}
        [unit] = units_from_text(old, lines=read)
        # compared by its lines, unless one ends with "§" (which takes the space after it)
        by_lines = not any(line.endswith("§") for line in lines)
        assert len(unit.text) > 20_000 and (unit.text in read) == by_lines
        assert diff_texts(old, new).empty == same
        # the same texts in one line each: compared by sentence
        key = "15 CFR 744.2(a)"
        by_sentence = diff_mappings({key: " ".join(lines)}, {key: " ".join(edited)})
        assert [c.op for c in by_sentence.changes] == ([] if same else ["modified"])
        verdicts[same, by_lines] += 1
    assert all(verdicts[same, True] > 10 for same in (True, False)), verdicts
    assert verdicts[True, False] + verdicts[False, False] > 5, verdicts


def _numbered_lines(seed: int, count: int) -> list[str]:
    """Lines of placeholder words, one paragraph together, each numbered (no two alike)."""
    rng = random.Random(seed)
    bits = ["Test", "text", "end-user", "word", "—", "“item”", "rule"]
    return [
        "Test " + " ".join(rng.choice(bits) for _ in range(rng.randrange(8, 20))) + f" {k}."
        for k in range(count)
    ]


def test_long_paragraphs_moved_between_labels_are_moved() -> None:
    """A long paragraph found different from the one at its label is not normalised
    unless a paragraph on the other side holds as many "e": the two moved here are
    found, one of them across 20,000 characters (the same text once normalised, its
    spaced dashes closed up), in both directions."""
    a, b, c = (_numbered_lines(seed, count) for seed, count in ((1, 300), (2, 300), (3, 250)))
    folded = [line.replace(" — ", "—") for line in c]
    assert len("(c) " + " ".join(c)) > 20_000 >= len("(b) " + " ".join(folded))
    revised = [*a[:100], a[100] + " Revised.", *a[101:]]
    old, new = (
        "\n".join(f"({label}) " + "\n".join(text) for label, text in zip("abc", side, strict=True))
        for side in ((a, b, c), (revised, folded, b))
    )
    expected = [("modified", "(a)", None), ("moved", "(b)", "(c)"), ("moved", "(c)", "(b)")]
    for first, second in ((old, new), (new, old)):
        diff = diff_texts(first, second)
        assert [(c.op, c.ident, c.old_ident) for c in diff.changes] == expected
        [words] = [c.words for c in diff.changes if c.op == "modified"]
        marks = [(op, t) for op, t in words if op != "equal"]
        assert marks == [("insert" if first is old else "delete", "Revised.")]


# --- labels -------------------------------------------------------------------------------


def test_paragraph_labels_follow_the_cfr_hierarchy() -> None:
    paragraphs = [
        "(a) A.",
        "(1) One.",
        "(i) Roman one.",
        "(ii) Roman two.",
        "(A) Upper.",
        "(1) Italic one.",
        "(2) Two.",
        "A note under (a)(2).",
        "(h) H.",
        "(i) I, a letter after (h).",
    ]
    labels = [label or f"#{parent}" for label, parent in label_paragraphs(paragraphs)]
    assert labels == [
        "(a)",
        "(a)(1)",
        "(a)(1)(i)",
        "(a)(1)(ii)",
        "(a)(1)(ii)(A)",
        "(a)(1)(ii)(A)(1)",
        "(a)(2)",
        "#(a)(2)",
        "(h)",
        "(i)",
    ]


# --- paragraphs revised, added, deleted, moved ----------------------------------------------


def test_a_revised_paragraph_is_reported_by_its_label_with_word_detail() -> None:
    old = {
        f"{SECTION}(a)(3)": "(3) Items with a test parameter of 4800 or more are controlled.",
        f"{SECTION}(a)(4)": "(4) Test paragraph four.",
    }
    new = {
        f"{SECTION}(a)(3)": "(3) Items with a test parameter of 1600 or more are controlled.",
        f"{SECTION}(a)(4)": "(4) Test paragraph four.",
    }
    diff = diff_mappings(old, new)
    [change] = diff.changes
    assert (change.op, change.ident, change.display) == (
        "modified",
        "15 CFR 744.23(a)(3)",
        "§744.23(a)(3)",
    )
    assert [w for w in change.words if w[0] != "equal"] == [("delete", "4800"), ("insert", "1600")]
    assert "".join(t for op, t in change.words if op != "delete") == new[f"{SECTION}(a)(3)"]
    assert "".join(t for op, t in change.words if op != "insert") == old[f"{SECTION}(a)(3)"]
    assert diff.summary() == "§744.23(a)(3) revised"
    text = diff.render_text()
    assert "~ (3) Items with a test parameter of [-4800-]{+1600+} or more are controlled." in text


def test_added_and_deleted_paragraphs() -> None:
    old = {
        f"{SECTION}(a)": "(a) Test paragraph a.",
        f"{SECTION}(b)": "(b) Test paragraph b, removed in the new version.",
        f"{SECTION}(c)": "(c) Test paragraph c.",
    }
    new = {
        f"{SECTION}(a)": "(a) Test paragraph a.",
        f"{SECTION}(c)": "(c) Test paragraph c.",
        f"{SECTION}(d)": "(d) Test paragraph d, added.",
        f"{SECTION}(e)": "(e) Test paragraph e, added too.",
    }
    diff = diff_mappings(old, new)
    assert ops(diff) == [
        ("deleted", "15 CFR 744.23(b)"),
        ("added", "15 CFR 744.23(d)"),
        ("added", "15 CFR 744.23(e)"),
    ]
    assert diff.summary() == "2 paragraphs added; §744.23(b) removed"
    assert diff.counts()["added"] == 2 and diff.counts()["deleted"] == 1


def test_a_redesignated_paragraph_is_moved_not_deleted_and_added() -> None:
    old = {
        f"{SECTION}(a)": "(a) Test paragraph a.",
        f"{SECTION}(b)": "(b) Test text that is redesignated as paragraph (c).",
        f"{SECTION}(c)": "(c) Test text that is redesignated as paragraph (d).",
    }
    new = {
        f"{SECTION}(a)": "(a) Test paragraph a.",
        f"{SECTION}(b)": "(b) A new test paragraph b.",
        f"{SECTION}(c)": "(c) Test text that is redesignated as paragraph (c).",
        f"{SECTION}(d)": "(d) Test text that is redesignated as paragraph (d).",
    }
    diff = diff_mappings(old, new)
    assert sorted((c.op, c.old_ident, c.ident) for c in diff.changes) == [
        ("added", None, "15 CFR 744.23(b)"),
        ("moved", "15 CFR 744.23(b)", "15 CFR 744.23(c)"),
        ("moved", "15 CFR 744.23(c)", "15 CFR 744.23(d)"),
    ]
    assert diff.summary() == "§744.23(b) added; 2 moved"


def test_a_paragraph_moved_to_another_section_and_a_line_moved_in_the_text() -> None:
    moving = "(c) Test paragraph that leaves section 744.23 for section 744.24."
    old = {
        f"{SECTION}(a)": "(a) Test paragraph a.",
        f"{SECTION}(c)": moving,
        "15 CFR 744.24(a)": "(a) Test paragraph a of 744.24.",
        "FR Doc. 2099-00001": "First preamble line.\nSecond preamble line.\nThe line that moves.",
    }
    new = {
        f"{SECTION}(a)": "(a) Test paragraph a.",
        "15 CFR 744.24(a)": "(a) Test paragraph a of 744.24.",
        "15 CFR 744.24(b)": moving.replace("(c)", "(b)", 1),
        "FR Doc. 2099-00001": "The line that moves.\nFirst preamble line.\nSecond preamble line.",
    }
    diff = diff_mappings(old, new)
    assert [(c.op, c.old_ident, c.ident) for c in diff.changes] == [
        ("moved", "15 CFR 744.23(c)", "15 CFR 744.24(b)"),
        ("moved", "FR Doc. 2099-00001#p3", "FR Doc. 2099-00001#p1"),
    ]
    assert diff.summary() == "2 moved"
    assert "> §744.24(b) moved from §744.23(c)" in diff.render_text()


def test_a_whole_section_added_or_removed_is_one_change_in_the_summary() -> None:
    old = units_from_text("§ 744.1 Test one.\n\n(a) Test a.\n\n§ 744.2 Test two.\n\n(a) Test b.")
    new = units_from_text("§ 744.1 Test one.\n\n(a) Test a.\n\n§ 744.3 Test three.\n\n(a) Test c.")
    diff = diff_units(old, new)
    assert [(s.section, s.status) for s in diff.sections] == [
        ("§744.2", "removed"),
        ("§744.3", "added"),
    ]
    assert diff.summary() == "§744.3 added; §744.2 removed"


# --- renders ------------------------------------------------------------------------------


def test_html_escapes_markup_found_in_the_text() -> None:
    old = {f"{SECTION}(a)": "(a) Test <b>bold</b> & <script>alert(1)</script> text."}
    new = {
        f"{SECTION}(a)": "(a) Test <b>bold</b> & <script>alert(2)</script> text.",
        f"{SECTION}(b)": '(b) <img src=x onerror="alert(3)"> added.',
    }
    html = diff_mappings(old, new).render_html()
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(" in html
    assert "&lt;img src=x onerror=&#34;alert(3)&#34;&gt;" in html
    assert "&amp; &lt;script&gt;alert(<del>1</del><ins>2</ins>)&lt;/script&gt;" in html
    assert "<ins>(b) &lt;img" in html


def test_the_summary_line_and_the_json_structure() -> None:
    old = {
        f"{SECTION}(a)": "(a) Test lead-in.",
        f"{SECTION}(a)(1)": "(1) Test item one.",
        f"{SECTION}(a)(2)": "(2) Test item that moves to the end of the list.",
        f"{SECTION}(a)(3)": "(3) Test threshold of 4800.",
    }
    new = {
        f"{SECTION}(a)": "(a) Test lead-in.",
        f"{SECTION}(a)(1)": "(1) Test item one.",
        f"{SECTION}(a)(3)": "(3) Test threshold of 1600.",
        f"{SECTION}(a)(4)": "(4) Test item that moves to the end of the list.",
        f"{SECTION}(b)": "(b) Test paragraph b.",
        f"{SECTION}(c)": "(c) Test paragraph c.",
    }
    diff = diff_mappings(old, new)
    assert diff.summary() == "§744.23(a)(3) revised; 2 paragraphs added; 1 moved"
    data = json.loads(json.dumps(diff.to_json()))
    assert data["summary"] == diff.summary()
    assert data["counts"] == {
        "sections_added": 0,
        "sections_removed": 0,
        "sections_changed": 1,
        "modified": 1,
        "added": 2,
        "deleted": 0,
        "moved": 1,
    }
    [section] = data["sections"]
    assert section["section"] == SECTION and section["status"] == "changed"
    moved = next(c for c in section["changes"] if c["op"] == "moved")
    assert (moved["old_id"], moved["id"]) == ("15 CFR 744.23(a)(2)", "15 CFR 744.23(a)(4)")
    revised = next(c for c in section["changes"] if c["op"] == "modified")
    assert ["delete", "4800"] in revised["words"] and ["insert", "1600"] in revised["words"]
    assert data["entity_list"] is None


# --- the eCFR fixtures (SYNTHETIC placeholder text) ------------------------------------------


def test_ecfr_parts_give_the_section_level_changes() -> None:
    diff = diff_files(ECFR_V1, ECFR_V2)
    assert [(s.section, s.status) for s in diff.sections] == [
        ("15 CFR 744.2", "changed"),
        ("15 CFR 744.4", "added"),
    ]
    [change] = diff.sections[0].changes
    assert (change.op, change.ident) == ("modified", "15 CFR 744.2(a)")
    assert [w for w in change.words if w[0] != "equal"] == [("delete", "1"), ("insert", "2")]
    added = [c.ident for c in diff.sections[1].changes]
    assert added == ["15 CFR 744.4 heading", "15 CFR 744.4(a)", "15 CFR 744.4(a)#p1"]
    assert diff.summary() == "§744.2(a) revised; §744.4 added"
    assert diff_files(ECFR_V2, ECFR_V1).summary() == "§744.2(a) revised; §744.4 removed"
    assert diff_files(ECFR_V1, ECFR_V1).empty


# --- the real Federal Register issue ---------------------------------------------------------


def test_the_real_daily_issue_an_edited_paragraph_and_a_moved_one(tmp_path: Path) -> None:
    root = etree.fromstring(ISSUE.read_bytes())
    # the CFR section 31 CFR 566.701 is printed in a REGTEXT of this real issue
    printed = (s for s in root.iter("SECTNO") if (s.text or "").startswith("§"))  # not the TOC
    sectno = next(s for s in printed if "566.701" in s.text)
    target = next(p for p in sectno.getparent().iter("P") if (p.text or "").startswith("(d)"))
    assert " false," in target.text
    target.text = target.text.replace(" false,", " untrue,", 1)
    # a paragraph of a rule printed again later in the same document: moved
    frdoc = next(f for f in root.iter("FRDOC") if "2016-08792" in "".join(f.itertext()))
    body = next(a for a in frdoc.iterancestors() if a.tag == "RULE").find("SUPLINF")
    paragraphs = [
        p
        for p in body.iter("P")
        if len("".join(p.itertext())) > 80
        and not any(a.tag == "REGTEXT" for a in p.iterancestors())
    ]
    first = paragraphs[0]
    first.getparent().remove(first)
    paragraphs[-1].addnext(first)
    edited = tmp_path / "issue-edited.xml"
    edited.write_bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))

    diff = diff_files(ISSUE, edited)
    assert [(c.op, c.display) for c in diff.changes if c.op != "moved"] == [
        ("modified", "§566.701(d)")
    ]
    [revised] = [c for c in diff.changes if c.op == "modified"]
    assert [w for w in revised.words if w[0] != "equal"] == [
        ("delete", "false"),
        ("insert", "untrue"),
    ]
    [moved] = [c for c in diff.changes if c.op == "moved"]
    assert moved.section == "FR Doc. 2016-08792"
    assert moved.new == " ".join("".join(first.itertext()).split())
    assert diff.summary() == "§566.701(d) revised; 1 moved"
    assert diff_files(ISSUE, ISSUE).empty


# --- Entity List ------------------------------------------------------------------------------


def edited_rule(tmp_path: Path) -> Path:
    """A modified copy of the SYNTHETIC rule: an entry added under China and one under
    Taiwan, one dropped, one address changed (all fictional)."""
    text = RULE.read_text(encoding="utf-8")
    start = text.index("<ENT>Test Vector Microsystems")
    row_start, row_end = text.rindex("<ROW", 0, start), text.index("</ROW>", start) + 6
    text = text[:row_start] + text[row_end:]
    text = text.replace("No. 8 Test Avenue,", "No. 88 Changed Test Avenue,", 1)

    def row(entity: str) -> str:
        return (
            '<ROW EXPSTB="00"><ENT I="22"> </ENT>'
            f"<ENT>{entity}</ENT>"
            "<ENT>For all items subject to the EAR. See § 744.11 of the EAR.</ENT>"
            "<ENT>Presumption of denial.</ENT><ENT>99 FR 99101, 1/2/2099.</ENT></ROW>\n"
        )

    china = text.index('<ROW EXPSTB="00">\n          <ENT I="22"> </ENT>\n          <ENT>Example')
    text = (
        text[:china]
        + row("Added Fixture Devices Co., Ltd., No. 11 Sample Road, Nowhere, Xi'an, China.")
        + text[china:]
    )
    taiwan = text.index("</ROW>", text.index("<ENT>Mock Foundry")) + 6
    text = (
        text[:taiwan]
        + row("Added Fixture Foundry Corporation, No. 12 Example Road, Hsinchu, Taiwan.")
        + text[taiwan:]
    )
    path = tmp_path / "synthetic_entity_list_rule_v2.xml"
    path.write_text(text, encoding="utf-8")
    return path


def test_entity_list_diff_of_two_versions_of_the_rule(tmp_path: Path) -> None:
    diff = diff_files(RULE, edited_rule(tmp_path))
    assert diff.sections == []  # the prose is the same; the table is compared entry by entry
    assert diff.entities is not None
    assert sorted((e.country, e.name) for e in diff.entities.added) == [
        ("CN", "Added Fixture Devices Co., Ltd."),
        ("TW", "Added Fixture Foundry Corporation"),
    ]
    assert [(e.country, e.name) for e in diff.entities.removed] == [
        ("CN", "Test Vector Microsystems Co., Ltd.")
    ]
    [revised] = diff.entities.modified
    assert (revised.new.name, revised.fields) == ("Placeholder Photonics Ltd.", ("addresses",))
    assert diff.summary() == (
        "2 Entity List entries added: China 1, Taiwan 1; 1 revised; 1 removed"
    )
    data = diff.to_json()["entity_list"]
    assert data["added_by_country"] == {"CN": 1, "TW": 1}
    assert data["revised"][0]["new"]["addresses"] == [
        "No. 88 Changed Test Avenue, Example High-Tech Zone, Wuhan, Hubei, China"
    ]
    assert diff_files(RULE, RULE).entities.empty


def csl_copy(tmp_path: Path) -> Path:
    """The real CSL sample with GBNTT dropped, Gryphon Aerospace's address changed and a
    SYNTHETIC entry added."""
    rows = list(csv.DictReader(io.StringIO(CSL.read_text(encoding="utf-8"))))
    fields = list(rows[0])
    rows = [r for r in rows if r["name"] != "GBNTT"]
    for r in rows:
        if r["name"] == "Gryphon Aerospace":
            r["addresses"] = "1 Example Changed Road, Singapore, 000000, SG"
    added = dict.fromkeys(fields, "")
    added |= {
        "source": "Entity List (EL) - Bureau of Industry and Security",
        "name": "Example Newly Listed Pte. Ltd.",
        "addresses": "2 Example Road, Singapore, 000001, SG",
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    writer.writerows([*rows, added])
    path = tmp_path / "csl_v2.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_entity_list_diff_of_csl_samples(tmp_path: Path) -> None:
    diff = diff_files(CSL, csl_copy(tmp_path))
    assert diff.summary() == ("1 Entity List entry added: Singapore 1; 1 revised; 1 removed")
    assert [e.name for e in diff.entities.removed] == ["GBNTT"]
    assert [(c.new.name, c.fields) for c in diff.entities.modified] == [
        ("Gryphon Aerospace", ("addresses",))
    ]
    # the two real samples share no Entity List entry: 19 merged entries out, 1 in
    real = diff_files(CSL, CSL_2023)
    assert real.summary() == "1 Entity List entry added: China 1; 19 removed"


# The Entity List supplement as the eCFR watcher stores it: a SYNTHETIC table
# (tests/synthetic_entity_list.py: fictional entries in the eCFR's layout) read by the
# real watcher's parser.


def supplement(entries, intro: str = "Test paragraph before the synthetic table."):
    from watchers.ecfr import parse_part

    documents, _ = parse_part(part_xml(entries, intro), "test.xml", 15, "744", {})
    [doc] = [d for d in documents if d.document_number == "15 CFR 744 Supp. 4"]
    return doc


def test_the_entity_list_supplement_is_compared_entry_by_entry() -> None:
    """1,000 entries, 40 added, 5 removed, 10 revised (a new address) and the text
    before the table revised: each entry changed is one change, keyed by country and
    name, counted by destination as a rule's entries are; the text is diffed as text."""
    before = rows(1000)
    after, changed = edited(before, added=40, removed=5, revised=10)
    old = supplement(before)
    new = supplement(after, intro="Test paragraph before the synthetic table, revised.")
    assert old.text.count("\n") > 1000  # a row per line, "cell | cell"
    diff = diff_documents(old, new)
    entities = diff.entities
    assert entities is not None
    code = {h: country_code(h) for h in COUNTRIES}
    assert [(e.country, e.name) for e in entities.added] == [
        (code[r.country], r.name) for r in after if r in changed["added"]
    ]
    assert [(e.country, e.name) for e in entities.removed] == [
        (code[r.country], r.name) for r in before if r in changed["removed"]
    ]
    assert [(c.new.name, c.fields) for c in entities.modified] == [
        (r.name, ("addresses",)) for r in before if r in changed["revised"]
    ]
    [revised] = [c for c in entities.modified if c.new.name == changed["revised"][0].name]
    assert "Revised Test Avenue" in revised.new.addresses[0]
    by_country = Counter(country_name(code[r.country]) for r in changed["added"])
    listed = ", ".join(
        f"{c} {n}" for c, n in sorted(by_country.items(), key=lambda x: (-x[1], x[0]))
    )
    assert diff.summary() == (
        f"15 CFR 744 Supp. 4 ¶1 revised; 40 Entity List entries added: {listed}; "
        "10 revised; 5 removed"
    )
    assert [c.op for c in diff.changes] == ["modified"]  # the paragraph, not the rows
    assert diff.counts()["entities_added"] == 40
    assert diff_documents(old, supplement(before)).empty


def test_a_row_read_no_way_stays_a_line_and_a_table_may_appear() -> None:
    """A row with a cell missing inside it is compared as a line of text (nothing is
    lost); a supplement that gains the table lists every entry as added."""
    entries = rows(50)
    old = supplement(entries)
    lines = old.text.split("\n")
    k = next(k for k, line in enumerate(lines) if line.count(" | ") == 3)
    cells = lines[k].split(" | ")
    lines[k] = " | ".join(cells[:1] + cells[2:])  # its license requirement left out
    new = old.model_copy(update={"text": "\n".join(lines)})
    diff = diff_documents(old, new)
    [removed] = diff.entities.removed
    assert cells[0].startswith(removed.name) and not diff.entities.added
    assert [(c.op, c.new) for c in diff.changes] == [("added", lines[k])]

    prose = [line for line in old.text.split("\n") if " | " not in line]
    without = old.model_copy(update={"text": "\n".join(prose)})
    grown = diff_documents(without, old)
    assert len(grown.entities.added) == 50 and grown.changes == []


def test_monitor_diff_of_two_ecfr_parts_compares_the_entity_list(tmp_path: Path) -> None:
    """The command on two eCFR XML files of part 744, and the event a change to the
    stored supplement carries (`rule_text_changed`'s diff)."""
    from monitor.events import text_diff_payload

    before = rows(200)
    after, _ = edited(before, added=3, removed=1, revised=2)
    (tmp_path / "old.xml").write_bytes(part_xml(before))
    (tmp_path / "new.xml").write_bytes(part_xml(after))
    proc = run_monitor(str(tmp_path / "old.xml"), str(tmp_path / "new.xml"), "-f", "json",
                       cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["sections"] == []
    assert data["summary"] == data["entity_list"]["summary"]
    assert data["summary"].startswith("3 Entity List entries added: ")
    assert data["summary"].endswith("; 2 revised; 1 removed")
    payload = text_diff_payload(supplement(before), supplement(after))
    assert payload["summary"] == data["summary"]
    assert "@@ Entity List @@" in payload["unified"]


# --- inputs and errors ------------------------------------------------------------------------


def test_inputs_are_recognised_by_content() -> None:
    assert load_bytes(ECFR_V1.read_bytes(), "part.txt").kind == "ecfr_xml"
    assert load_bytes(RULE.read_bytes(), "rule.dat").kind == "fr_xml"
    assert load_bytes(CSL.read_bytes(), "list.txt").kind == "csl"
    assert load_bytes(b"(a) Test text.\n", "notes").kind == "text"
    [unit] = load_bytes(b"(a) Test text.\n", "notes").units
    assert unit == Unit("", "(a)", "(a) Test text.")


def run_monitor(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "MONITOR_CONFIG": str(cwd / "none.yaml")}
    return subprocess.run(
        [sys.executable, "-m", "monitor", "diff", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_cli_diff_on_files(tmp_path: Path) -> None:
    text = run_monitor(str(ECFR_V1), str(ECFR_V2), cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[:3] == [
        f"--- {ECFR_V1}",
        f"+++ {ECFR_V2}",
        "# §744.2(a) revised; §744.4 added",
    ]
    assert "~ (a) Test paragraph (a) for section 744.2, version [-1-]{+2+}." in text.stdout

    as_json = run_monitor(str(RULE), str(edited_rule(tmp_path)), "--format", "json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["summary"] == "2 Entity List entries added: China 1, Taiwan 1; 1 revised; 1 removed"
    assert len(data["entity_list"]["added"]) == 2

    html = run_monitor(str(ECFR_V1), str(ECFR_V2), "-f", "html", cwd=tmp_path)
    assert html.returncode == 0, html.stderr
    assert "version <del>1</del><ins>2</ins>." in html.stdout


@pytest.mark.parametrize(
    ("old", "new", "parser"),
    [(RULE, RULE, "monitor.fedreg_xml"), (ECFR_V1, ECFR_V2, "monitor.ecfr_xml")],
    ids=["fr-xml", "ecfr-xml"],
)
def test_cli_diff_starts_without_typer_and_the_heavy_libraries(
    tmp_path: Path, old: Path, new: Path, parser: str
) -> None:
    """`monitor diff` is run before typer (and the pydantic it imports) is loaded, and
    loads neither the store, the alerting stack nor Jinja2 for a text diff; on eCFR
    XML it reads the part as the `ecfr` watcher does without loading the watcher, its
    HTTP client or its document model."""
    env = {**os.environ, "MONITOR_CONFIG": str(tmp_path / "none.yaml")}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "monitor", "diff", str(old), str(new)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    assert {"monitor.diff", "lxml.etree", parser} <= imported
    heavy = {"typer", "click", "pydantic", "rich", "jinja2", "sqlalchemy", "celery", "yaml"}
    heavy |= {"httpx", "httpcore", "watchers"}
    assert heavy.isdisjoint({name.split(".")[0] for name in imported})


def test_cli_diff_help_and_the_typer_entry(tmp_path: Path) -> None:
    """`monitor --help` lists diff; `monitor diff --help` shows its options; the typer
    app runs it with the same arguments and output as the lean entry."""
    env = {**os.environ, "COLUMNS": "200"}
    listing = subprocess.run([sys.executable, "-m", "monitor", "--help"], env=env,
                             capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert listing.returncode == 0 and "What changed, by CFR paragraph label" in listing.stdout
    usage = run_monitor("--help", cwd=tmp_path)
    assert usage.returncode == 0 and usage.stdout.startswith("usage: monitor diff")
    assert "--format" in usage.stdout and "--doc" in usage.stdout

    from typer.testing import CliRunner

    from monitor.cli import app

    lean = run_monitor(str(ECFR_V1), str(ECFR_V2), "-f", "json", cwd=tmp_path)
    typer_run = CliRunner().invoke(app, ["diff", str(ECFR_V1), str(ECFR_V2), "-f", "json"])
    assert typer_run.exit_code == 0 and typer_run.stdout == lean.stdout
    assert CliRunner().invoke(app, ["diff", "--format", "xml"]).exit_code == 2


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: (d / "missing.xml", ECFR_V2), "missing.xml: file not found"),
        (lambda d: (d / "weird.xml", ECFR_V2), "unknown format: XML with root <weird>"),
        (lambda d: (d / "bytes.bin", ECFR_V2), "unknown format: binary data"),
        (lambda d: (d / "broken.xml", d / "broken.xml"), "malformed Federal Register XML"),
        (lambda d: (CSL, ECFR_V2), "cannot compare a Consolidated Screening List CSV"),
    ],
)
def test_cli_diff_errors_are_one_line(tmp_path: Path, make, message: str) -> None:
    (tmp_path / "weird.xml").write_text("<weird><P>x</P></weird>", encoding="utf-8")
    (tmp_path / "bytes.bin").write_bytes(b"\x00\x01\x02 not text")
    (tmp_path / "broken.xml").write_text("<RULE><P>cut short", encoding="utf-8")
    old, new = make(tmp_path)
    proc = run_monitor(str(old), str(new), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: ") and message in proc.stderr, proc.stderr


# --- stored versions: `monitor diff --doc` --------------------------------------------------

API = "/api/versioner/v1/"


def serve_part(server, day: str) -> None:
    """The eCFR versions list as of `day` and the part's XML of that day."""
    data = json.loads((FIXTURES / "ecfr" / "versions-title-15-part-744.json").read_text())
    entries = [e for e in data["content_versions"] if e["amendment_date"] <= day]
    meta = {**data["meta"], "latest_amendment_date": max(e["amendment_date"] for e in entries)}
    server.clear_all_handlers()
    server.expect_request(API + "versions/title-15.json").respond_with_json(
        {"content_versions": entries, "meta": meta}
    )
    body = (FIXTURES / "ecfr" / f"part-744-{day}.xml").read_bytes()
    server.expect_request(f"{API}full/{day}/title-15.xml").respond_with_data(
        body, content_type="application/xml"
    )


def test_cli_diff_of_the_two_latest_stored_versions(httpserver, write_config, tmp_path) -> None:
    config_path = write_config(
        f"""
        data_dir: {tmp_path / "state"}
        sources:
          - name: ecfr
            kind: ecfr
            base_url: {httpserver.url_for(API)}
            parts: [744]
            retries: 0
            backoff: 0
        """
    )
    config = load_config(config_path)
    missing = run_monitor("--doc", "ecfr:15 CFR 744.2", "-c", str(config_path), cwd=tmp_path)
    assert missing.returncode == 2 and "unknown document key" in missing.stderr
    serve_part(httpserver, "2024-12-05")
    assert check(config).errors == {}
    serve_part(httpserver, "2025-01-16")
    report = check(config)
    assert report.errors == {} and len(report.found) == 2

    proc = run_monitor("--doc", "ecfr:15 CFR 744.2", "-c", str(config_path), "-f", "json",
                       cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["summary"] == "§744.2(a) revised"
    [section] = data["sections"]
    [change] = section["changes"]
    assert change["id"] == "15 CFR 744.2(a)" and ["insert", "2"] in change["words"]
    assert data["old"].startswith("ecfr:15 CFR 744.2 (seen ")

    # the document number alone finds the one document that has it
    short = run_monitor("--doc", "15 CFR 744.2", "-c", str(config_path), cwd=tmp_path)
    assert short.returncode == 0 and "# §744.2(a) revised" in short.stdout

    for key, message in (
        ("ecfr:15 CFR 744.4", "ecfr:15 CFR 744.4: only one stored version"),
        ("ecfr:15 CFR 799.1", "unknown document key 'ecfr:15 CFR 799.1'"),
    ):
        proc = run_monitor("--doc", key, "-c", str(config_path), cwd=tmp_path)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert message in proc.stderr
    both = run_monitor(str(ECFR_V1), "--doc", "ecfr:15 CFR 744.2", cwd=tmp_path)
    assert both.returncode == 2 and "not both" in both.stderr


# --- hostile input: every regular expression linear -------------------------------------

# Each case runs in a fresh interpreter (tests/bounded.py) on an input sized so that the
# quadratic expression it replaced would take minutes there (1 MB of spaces before
# "--": about an hour; the 200 KB an eCFR file is sniffed in: minutes), and the linear
# one takes milliseconds.
HOSTILE = {
    "dashes after a long run of spaces": (
        "from monitor.diff import normalise\nassert normalise(' ' * 1_000_000 + 'x --') == 'x -'"
    ),
    "a paragraph id of labels that is not one": (
        "from monitor.diff import split_ident, units_from_mapping\n"
        "key = '(a)' * 300_000 + 'x'\n"
        "assert split_ident(key) == (key, None, None)\n"
        "[unit] = units_from_mapping({key: '(b) Test text.'})\n"
        "assert unit.section == key and unit.label == '(b)'"
    ),
    "a line of stars that is not '* * *'": (
        "from monitor.diff import split_paragraphs\n"
        "line = '*' * 1_000_000 + 'x'\n"
        "assert split_paragraphs(line, reflow=True) == [line]"
    ),
    "an eCFR head of digits and unclosed DIV5 tags": (
        "from monitor.diff import DiffInputError, load_bytes\n"
        "for data in (b'<DIV5>' + b'7' * 199_990, b'<DIV5 ' * 33_000):\n"
        "    try:\n"
        "        load_bytes(data, 'hostile.xml')\n"
        "    except DiffInputError as exc:\n"
        "        assert 'hostile.xml' in str(exc)\n"
        "    else:\n"
        "        raise AssertionError('malformed XML accepted')"
    ),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_regular_expressions_are_linear_on_adversarial_input(case: str) -> None:
    proc = in_fresh_interpreter(HOSTILE[case], seconds=30)
    assert proc.returncode == 0, proc.stderr


def test_split_ident_reads_what_the_regular_expression_did() -> None:
    """The shortest section and what follows it, as the expression it replaces read
    them (an oracle on short keys, stripped as `units_from_mapping` strips them)."""
    import random
    import re

    from monitor.diff import split_ident
    from monitor.fedreg_xml import LABEL_MARK

    oracle = re.compile(rf"^(?P<s>.*?)(?P<l>(?:{LABEL_MARK})+)?(?:#p(?P<n>\d+))?$", re.S)
    assert split_ident("15 CFR 744.23(a)(3)") == ("15 CFR 744.23", "(a)(3)", None)
    assert split_ident("15 CFR 744.23(a)#p2") == ("15 CFR 744.23", "(a)", "2")
    assert split_ident("Supp. 4 to Part 744") == ("Supp. 4 to Part 744", None, None)
    rng = random.Random(5)
    pieces = ["(a)", "(12)", "(iv)", "(B)", "(ab12)", "(", ")", "#p", "3", "x", " ", "\n", "#"]
    for _ in range(20_000):
        key = "".join(rng.choice(pieces) for _ in range(rng.randrange(8))).strip()
        m = oracle.match(key)
        assert split_ident(key) == (m["s"], m["l"], m["n"]), key


def test_dashes_fold_as_the_regular_expression_did() -> None:
    """A dash typed as "--" and the whitespace around it fold to " - ", as the
    expression it replaces folded them (an oracle on short texts)."""
    import random
    import re

    oracle = re.compile(r"\s*-{2,}\s*")
    rng = random.Random(6)
    for _ in range(20_000):
        text = "".join(rng.choice(["-", " ", "\n", "a", "\u00a0", "--"]) for _ in range(9))
        folded = re.sub(r"-(?<=\w-)(?:[ \t]*\r?\n\s*)?(?=\w)", "", text)  # "end-user"
        assert normalise(text) == " ".join(oracle.sub(" - ", folded).split()), repr(text)


# --- size: no input costs more than a bounded amount of work per line -------------------

# Built from the REAL issue's text (its units, one paragraph per line); the words
# "EDITED" and "INSERTED" put into it are placeholders. Each test has a deadline the
# version before this one exceeded (tests/bounded.py): minutes on these inputs, against
# a fraction of a second.


@pytest.fixture(scope="module")
def issue_lines() -> list[str]:
    from monitor.diff import units_from_fr

    units, _ = units_from_fr(ISSUE.read_bytes())
    return [u.text for u in units if u.text]


def test_a_long_unlabelled_text_without_blank_lines(issue_lines: list[str]) -> None:
    """The real issue as plain text, twice (3.9 MB, a paragraph per line, no blank
    line, so that a line joins the one before unless it starts a sentence, and a
    labelled paragraph runs on to the next label: paragraphs of up to 800 KB), 2,000
    words inserted and a block of 40 lines moved: what the diff inserts, less what it
    deletes, is the 2,000 words, and the block is deleted where it was."""
    lines = issue_lines * 2
    new = list(lines)
    block = new[5000:5040]
    del new[5000:5040]
    new[20000:20000] = block
    rng = random.Random(11)
    for k in rng.sample([k for k, line in enumerate(new) if len(line.split()) > 5], 2000):
        words = new[k].split(" ")
        words.insert(rng.randrange(len(words)), "INSERTED")
        new[k] = " ".join(words)
    old_text, new_text = "\n".join(lines), "\n".join(new)
    assert len(old_text) > 3_800_000 and "\n\n" not in old_text
    with at_most(60, "diff of 3.9 MB of plain text"):
        diff = diff_texts(old_text, new_text)
    inserted = [t for c in diff.changes for op, t in c.words if op == "insert"]
    inserted += [c.new for c in diff.changes if c.op == "added"]
    deleted = [t for c in diff.changes for op, t in c.words if op == "delete"]
    deleted += [c.old for c in diff.changes if c.op == "deleted"]
    assert " ".join(inserted).split().count("INSERTED") == 2000
    plus, minus = (Counter("".join("".join(runs).split())) for runs in (inserted, deleted))
    assert plus - minus == Counter("INSERTED" * 2000) and not minus - plus
    assert " ".join(block) in deleted
    assert diff_texts(old_text, old_text).empty


def test_a_huge_single_paragraph_revised_in_300_places(issue_lines: list[str]) -> None:
    """The whole real issue as one paragraph (1.9 MB): its word diff is exactly the
    300 words replaced, and gives back both texts."""
    old = " ".join(issue_lines)
    words = old.split(" ")
    spots = sorted(random.Random(12).sample(range(0, len(words), 10), 300))
    edited = list(words)
    for k in spots:
        edited[k] = "EDITED"
    new = " ".join(edited)
    with at_most(60, "diff of a 1.9 MB paragraph"):
        diff = diff_texts(old, new)
    [change] = diff.changes
    assert change.op == "modified"
    marks = [(op, t) for op, t in change.words if op != "equal"]
    expected = [[("delete", words[k]), ("insert", "EDITED")] for k in spots]
    assert marks == [mark for pair in expected if pair[0][1] != "EDITED" for mark in pair]
    assert "".join(t for op, t in change.words if op != "delete") == new
    assert "".join(t for op, t in change.words if op != "insert") == old


def test_a_long_run_of_lines_rewritten_throughout_pairs_in_order(
    issue_lines: list[str],
) -> None:
    """29,000 unlabelled lines, each revised: one changed run, each line paired with
    the one it replaces, in order (the pairing no longer scans the run for each
    line: 90 s before)."""
    lines = [line for line in issue_lines if len(line.split()) > 3 and line[0] != "("] * 3
    assert len(lines) > 29_000
    old = {"FR Doc. 2099-00001": "\n".join(lines)}
    new = {"FR Doc. 2099-00001": "\n".join(line.replace(" ", " EDITED ", 1) for line in lines)}
    with at_most(45, "diff of 29,000 rewritten lines"):
        diff = diff_mappings(old, new)
    assert [(c.op, c.ident, c.old_ident) for c in diff.changes] == [
        ("modified", f"FR Doc. 2099-00001#p{k}", None) for k in range(1, len(lines) + 1)
    ]
    assert diff.summary() == f"{len(lines)} paragraphs revised"


def test_labels_of_many_paragraphs_look_ahead_once() -> None:
    """The label of a paragraph looks at the next labelled one: found in one pass
    from the end, not by scanning what follows each paragraph (200,000 paragraphs
    without a label: 6 minutes before)."""
    with at_most(30, "labels of 200,000 paragraphs"):
        labels = label_paragraphs(["Test text."] * 200_000 + ["(a) Test a.", "(1) One."])
    assert labels[-2:] == [("(a)", ""), ("(a)(1)", "")]
    assert labels[0] == (None, "")
