"""Amendatory instructions into structured changes.

Sentences marked REAL are AMDPARs of the real FR issue of 2016-04-15
(tests/fixtures/fr_xml/FR-2016-04-15_full_issue.xml), with the document named.
Sentences marked SYNTHETIC were written for these tests in the FR's standard
amendatory language for Supplement No. 4 to part 744 and part 744 sections; their
entity names are fictional.
"""

from __future__ import annotations

import pytest

from monitor.amendments import Amendment, paragraph_refs, parse_amdpar, parse_amdpars

SUPP4 = "Supp. 4 to Part 744"
CN = "CHINA, PEOPLE'S REPUBLIC OF"

# (sentence, expected [(action, unit, country code, entries, reserved)])
CASES = [
    (  # SYNTHETIC
        "Supplement No. 4 to part 744 is amended by adding under CHINA, PEOPLE'S REPUBLIC OF, "
        "in alphabetical order, entries for 'Example Semiconductor Test Co., Ltd.', "
        "'Xi'an Placeholder Photonics Ltd.' and 'Fictional Compute Research Institute'.",
        [
            (
                "added",
                SUPP4,
                "CN",
                (
                    "Example Semiconductor Test Co., Ltd.",
                    "Xi'an Placeholder Photonics Ltd.",
                    "Fictional Compute Research Institute",
                ),
                False,
            )
        ],
    ),
    (  # SYNTHETIC, typographic quotes with the commas inside them as the FR prints them
        "3. Supplement No. 4 to part 744 is amended by adding under CHINA, PEOPLE’S REPUBLIC "
        "OF, in alphabetical order, entries for “Alpha Example Co., Ltd.,” “Beta Sample "
        "Institute,” and “Gamma Test Corporation”.",
        [
            (
                "added",
                SUPP4,
                "CN",
                ("Alpha Example Co., Ltd.", "Beta Sample Institute", "Gamma Test Corporation"),
                False,
            )
        ],
    ),
    (  # SYNTHETIC
        "Section 744.23 is amended by revising paragraph (a)(3) to read as follows:",
        [("revised", "15 CFR 744.23(a)(3)", None, (), False)],
    ),
    (  # SYNTHETIC
        "Amend § 744.23 by adding paragraph (a)(3) to read as follows:",
        [("added", "15 CFR 744.23(a)(3)", None, (), False)],
    ),
    (  # SYNTHETIC
        "Section 744.6 is amended by removing and reserving paragraph (b).",
        [("removed", "15 CFR 744.6(b)", None, (), True)],
    ),
    (  # SYNTHETIC: two destinations in one instruction, heading first
        "Supplement No. 4 to part 744 is amended by adding under RUSSIA, in alphabetical "
        "order, entries for “Alpha Test LLC” and “Beta Example JSC”, and under UNITED ARAB "
        "EMIRATES, in alphabetical order, an entry for “Gamma Sample FZE”.",
        [
            ("added", SUPP4, "RU", ("Alpha Test LLC", "Beta Example JSC"), False),
            ("added", SUPP4, "AE", ("Gamma Sample FZE",), False),
        ],
    ),
    (  # SYNTHETIC: two destinations, entries first
        "Supplement No. 4 to part 744 is amended by adding “Alpha Test LLC” under RUSSIA and "
        "“Gamma Sample FZE” under UNITED ARAB EMIRATES.",
        [
            ("added", SUPP4, "RU", ("Alpha Test LLC",), False),
            ("added", SUPP4, "AE", ("Gamma Sample FZE",), False),
        ],
    ),
    (  # SYNTHETIC: adding and revising in one instruction
        "Supplement No. 4 to part 744 is amended by adding under CHINA, PEOPLE'S REPUBLIC OF, "
        "in alphabetical order, an entry for “Delta Example Co., Ltd.” and by revising under "
        "HONG KONG the entry for “Epsilon Sample Trading Limited”.",
        [
            ("added", SUPP4, "CN", ("Delta Example Co., Ltd.",), False),
            ("revised", SUPP4, "HK", ("Epsilon Sample Trading Limited",), False),
        ],
    ),
    (  # SYNTHETIC
        "Supplement No. 4 to part 744 is amended by removing under SINGAPORE the entry for "
        "“Old Example Logistics Pte. Ltd.”.",
        [("removed", SUPP4, "SG", ("Old Example Logistics Pte. Ltd.",), False)],
    ),
    (  # SYNTHETIC: the destination before the verb
        "Supplement No. 4 to part 744 is amended, under MACAU, by adding in alphabetical order "
        "an entry for “Zeta Example Gaming Devices Ltd.”",
        [("added", SUPP4, "MO", ("Zeta Example Gaming Devices Ltd.",), False)],
    ),
    (  # SYNTHETIC: ECCNs of the Commerce Control List
        "Supplement No. 1 to part 774 is amended by revising ECCNs 3A090 and 4A090 and adding "
        "ECCN 3A001.z.",
        [
            ("revised", "Supp. 1 to Part 774", None, ("3A090", "4A090"), False),
            ("added", "Supp. 1 to Part 774", None, ("3A001.z",), False),
        ],
    ),
    (  # SYNTHETIC: list, range and abbreviated members
        "Section 744.23 is amended by revising paragraphs (a)(2)(i) through (iii) and "
        "(b)(1)(ii)(A) and (B).",
        [
            ("revised", "15 CFR 744.23(a)(2)(i)", None, (), False),
            ("revised", "15 CFR 744.23(a)(2)(ii)", None, (), False),
            ("revised", "15 CFR 744.23(a)(2)(iii)", None, (), False),
            ("revised", "15 CFR 744.23(b)(1)(ii)(A)", None, (), False),
            ("revised", "15 CFR 744.23(b)(1)(ii)(B)", None, (), False),
        ],
    ),
    (  # SYNTHETIC: words replaced "in their place" inside a paragraph named after them
        "Section 744.1 is amended by removing the words “Example Old Act” and adding in their "
        "place the words “Example New Act” in paragraph (a).",
        [("revised", "15 CFR 744.1(a)", None, (), False)],
    ),
    (  # SYNTHETIC: the same throughout a section
        "Section 744.2 is amended by removing the word “Example” and adding in its place the "
        "word “Sample”.",
        [("revised", "15 CFR 744.2", None, (), False)],
    ),
    (  # SYNTHETIC: passive voice
        "In § 744.3, paragraph (b) is removed and reserved.",
        [("removed", "15 CFR 744.3(b)", None, (), True)],
    ),
    (  # SYNTHETIC: a defined term is an entry of the section
        "Section 772.1 is amended by adding, in alphabetical order, a definition for “example "
        "synthetic term”.",
        [("added", "15 CFR 772.1", None, ("example synthetic term",), False)],
    ),
    (  # REAL, 2016-08717 (12 CFR): the whole section
        "2. Section 324.403 is revised to read as follows:",
        [("revised", "15 CFR 324.403", None, (), False)],
    ),
    (  # REAL, 2016-08781 (33 CFR): a new section
        "2. Add § 100.35T09-0208 to read as follows:",
        [("added", "15 CFR 100.35T09-0208", None, (), False)],
    ),
    (  # REAL, 2016-08773 (29 CFR): a row added to an appendix table
        "2. In appendix B to part 4022, Rate Set 271, as set forth below, is added to the table.",
        [("added", "Appendix B to Part 4022", None, (), False)],
    ),
    (  # REAL, 2016-08622 (4 CFR): sentences inside paragraphs are revisions of them
        "4. Amend § 21.2 by adding a third sentence to paragraph (a)(1) and by revising the "
        "second sentence of paragraph (a)(2) and the first sentence of paragraph (a)(3) to read "
        "as follows:",
        [
            ("revised", "15 CFR 21.2(a)(1)", None, (), False),
            ("revised", "15 CFR 21.2(a)(2)", None, (), False),
            ("revised", "15 CFR 21.2(a)(3)", None, (), False),
        ],
    ),
    (  # REAL, 2016-08622 (4 CFR): a heading added, "(3)" for "(f)(3)", a "through" range
        "10. Amend § 21.8 by revising paragraphs (e), adding a paragraph (f) subject heading, "
        "revising paragraphs (f)(2) and (3), and adding paragraphs (f)(4) through (6) to read "
        "as follows:",
        [
            ("revised", "15 CFR 21.8(e)", None, (), False),
            ("revised", "15 CFR 21.8(f)", None, (), False),
            ("revised", "15 CFR 21.8(f)(2)", None, (), False),
            ("revised", "15 CFR 21.8(f)(3)", None, (), False),
            ("added", "15 CFR 21.8(f)(4)", None, (), False),
            ("added", "15 CFR 21.8(f)(5)", None, (), False),
            ("added", "15 CFR 21.8(f)(6)", None, (), False),
        ],
    ),
    (  # REAL, 2016-08717: no change
        "1. The authority citation for part 324 continues to read as follows:",
        [],
    ),
]


def _shape(amendments: list[Amendment]) -> list[tuple]:
    return [(a.action, a.unit, a.country_code, a.entries, a.reserved) for a in amendments]


@pytest.mark.parametrize(("sentence", "expected"), CASES, ids=[c[0][:48] for c in CASES])
def test_amendatory_sentences(sentence: str, expected: list[tuple]) -> None:
    assert _shape(parse_amdpar(sentence)) == expected


def test_the_printed_heading_and_the_sentence_are_kept() -> None:
    [amendment] = parse_amdpar(CASES[0][0])
    assert amendment.country == CN
    assert amendment.text == CASES[0][0]


def test_lettered_instructions_inherit_the_numbered_one() -> None:
    # REAL, 2016-08622 (4 CFR part 21), AMDPARs 2 a-d in order
    amdpars = [
        "2. In § 21.0:",
        "a. Amend paragraph (a)(2) introductory text by adding the abbreviation “(OMB)” "
        "between the words Budget and Circular;",
        "b. Amend paragraph (c) by removing the word “his” and adding in its place the words "
        "“the Architect's”;",
        "c. Redesignate paragraphs (f) and (g) as paragraphs (g) and (h), respectively, and add "
        "a new paragraph (f);",
        "d. Revise newly redesignated paragraph (g).",
        "3. Revise § 21.6 to read as follows:",
    ]
    found = [(a.action, a.unit, a.new_unit, a.entries) for a in parse_amdpars(amdpars, title=4)]
    assert found == [
        ("revised", "4 CFR 21.0(a)(2)", None, ()),
        ("revised", "4 CFR 21.0(c)", None, ()),  # removing a word "in its place" revises
        ("redesignated", "4 CFR 21.0(f)", "4 CFR 21.0(g)", ()),
        ("redesignated", "4 CFR 21.0(g)", "4 CFR 21.0(h)", ()),
        ("added", "4 CFR 21.0(f)", None, ()),
        ("revised", "4 CFR 21.0(g)", None, ()),
        ("revised", "4 CFR 21.6", None, ()),
    ]


def test_lettered_entity_list_instructions_inherit_the_supplement() -> None:
    # SYNTHETIC, the layout of tests/fixtures/fr_xml/synthetic_entity_list_rule.xml
    amdpars = [
        "2. Supplement No. 4 to part 744 is amended by:",
        "a. Adding under CHINA, PEOPLE'S REPUBLIC OF, in alphabetical order, entries for "
        "“Alpha Example Co., Ltd.,” and “Beta Sample Institute”;",
        "b. Revising under CHINA, PEOPLE'S REPUBLIC OF, the entry for “Gamma Test Corporation”; "
        "and",
        "c. Adding under TAIWAN, in alphabetical order, an entry for “Delta Mock Foundry”.",
    ]
    assert _shape(parse_amdpars(amdpars)) == [
        ("added", SUPP4, "CN", ("Alpha Example Co., Ltd.", "Beta Sample Institute"), False),
        ("revised", SUPP4, "CN", ("Gamma Test Corporation",), False),
        ("added", SUPP4, "TW", ("Delta Mock Foundry",), False),
    ]
    # read alone, a lettered instruction that names a destination is still an Entity List change
    assert parse_amdpar(amdpars[1])[0].unit == SUPP4


def test_a_revised_authority_citation_is_a_change() -> None:
    # SYNTHETIC
    assert _shape(parse_amdpar("1. The authority citation for part 744 is revised to read:")) == [
        ("revised", "15 CFR Part 744 authority citation", None, (), False)
    ]


def test_paragraph_references() -> None:
    text = (
        "revising paragraphs (b) and (c)(1), paragraphs (d)(1) and (2) and (e), (f)(4) through (6)"
    )
    assert [r for _, r in paragraph_refs(text)] == [
        "(b)",
        "(c)(1)",
        "(d)(1)",
        "(d)(2)",
        "(e)",
        "(f)(4)",
        "(f)(5)",
        "(f)(6)",
    ]
    # "(China)" and "(OMB)" are not paragraph references: no "paragraph" before them
    assert paragraph_refs("China, People's Republic of (China) (11) and the (OMB)") == []
