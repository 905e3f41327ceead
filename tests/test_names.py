"""The name index: the same names found as one regex per name found them, in one pass."""

from __future__ import annotations

import json
import random
import re
import unicodedata

import pytest

from monitor.names import NameIndex, fold, portfolio_index
from monitor.portfolio import Customer, load_portfolio
from tests.conftest import PORTFOLIO, RECORDED

# --- the matcher the index replaces, kept as the oracle -------------------------------

_LEGAL = re.compile(
    r"\b(co ltd|company limited|co|ltd|limited|inc|incorporated|llc|corp|corporation|"
    r"gmbh|ag|s a|pte ltd|pte|plc|pvt ltd)$",
    re.IGNORECASE,
)


def reference_fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", unicodedata.normalize("NFKC", text)).split())


def reference_named(text: str, entries: list[tuple[str, list[str]]]) -> dict[str, str]:
    """One regex per name over the folded text (the score's matcher before the index)."""
    folded = reference_fold(text)
    hits = []
    for owner, names in entries:
        for name in names:
            name_f = reference_fold(name)
            if any("\u3040" <= ch <= "\u9fff" for ch in name_f):
                pattern = re.compile(re.escape(name_f))
            elif not (bare := _LEGAL.sub("", name_f).strip()):
                continue
            elif len(name_f) <= 5:
                pattern = re.compile(rf"(?<!\w){re.escape(name_f)}(?!\w)")
            else:
                pattern = re.compile(rf"(?<!\w){re.escape(bare)}(?!\w)", re.IGNORECASE)
            hits += [(owner, name, m.start(), m.end()) for m in pattern.finditer(folded)]
    kept: dict[str, str] = {}
    for owner, name, start, end in hits:
        if not any(
            o != owner and s <= start and end <= e and e - s > end - start for o, _, s, e in hits
        ):
            kept.setdefault(owner, name)
    return kept


def find(text: str, entries: list[tuple[str, list[str]]]) -> dict[str, str]:
    return NameIndex({"g": entries}).find(text)["g"]


# --- the same results on real text --------------------------------------------------


@pytest.fixture(scope="module")
def real_texts() -> list[str]:
    """Titles and abstracts of the real recorded API page (1,000 FR documents)."""
    page = json.loads((RECORDED / "documents.json").read_text(encoding="utf-8"))
    return [f"{r.get('title') or ''}\n{r.get('abstract') or ''}" for r in page["results"]]


def test_same_names_as_one_regex_per_name_on_real_text(real_texts):
    rng = random.Random(20240117)
    words = [w for text in real_texts for w in fold(text).split()]

    def name() -> str:
        k = rng.choice([1, 1, 2, 2, 3, 4])  # one-word names hit often and nest in longer ones
        i = rng.randrange(len(words) - k)
        picked = " ".join(words[i : i + k])
        return rng.choice([
            picked, picked.upper(), picked.lower(), picked.replace(" ", "-"),
            f"{picked} Co., Ltd.", f"{picked}, Inc.", "Ltd.",
        ])  # fmt: skip

    compared = named_somewhere = 0
    for _ in range(30):
        entries = [(f"o{i}", [name() for _ in range(rng.randint(1, 3))]) for i in range(40)]
        index = NameIndex({"g": entries})
        for text in rng.sample(real_texts, 30):
            expected = reference_named(text, entries)
            got = index.find(text)["g"]
            assert list(got.items()) == list(expected.items()), text
            compared += 1
            named_somewhere += bool(expected)
    assert compared == 900 and named_somewhere > 300


# --- the rules, on made-up snippets ----------------------------------------------------
# SYNTHETIC: the texts below are invented to probe one rule each.


def case(why: str, entries: list, text: str, expected: dict) -> object:
    return pytest.param(entries, text, expected, id=why)


TRICKY = [
    case("short names keep their case", [("mtt", ["MTT"])], "mtt and Mtt are lower case", {}),
    case("short names are whole words", [("a100", ["A100"])], "A1000 XA100 A100s", {}),
    case("a short name found", [("a100", ["A100"])], "the A100, sold as", {"a100": "A100"}),
    case(
        "long names in any case",
        [("b", ["Biren Technology"])],
        "BIREN TECHNOLOGY adds",
        {"b": "Biren Technology"},
    ),
    case("long names are whole words", [("b", ["Biren Technology"])], "Biren Technologyx", {}),
    case(
        "punctuation and spacing folded",
        [("b", ["Biren Technology"])],
        "Biren-\nTechnology",
        {"b": "Biren Technology"},
    ),
    case(
        "legal form dropped",
        [("h", ["Huawei Technologies Co., Ltd."])],
        "huawei technologies said",
        {"h": "Huawei Technologies Co., Ltd."},
    ),
    case("a legal form alone names nobody", [("x", ["Ltd.", "Co."])], "Acme Widgets Co., Ltd.", {}),
    case(
        "CJK inside a longer CJK name",
        [("b", ["壁仞科技"])],
        "上海壁仞科技有限公司",
        {"b": "壁仞科技"},
    ),
    case("full-width forms fold to ASCII", [("s", ["SMIC"])], "ＳＭＩＣ’s fab", {"s": "SMIC"}),
    case(
        "first listed name wins",
        [("h", ["Huawei Technologies", "Huawei"])],
        "Huawei and Huawei Technologies",
        {"h": "Huawei Technologies"},
    ),
    case(
        "else the first found",
        [("h", ["Huawei Technologies", "Huawei"])],
        "Huawei",
        {"h": "Huawei"},
    ),
    case(
        "a look-alike inside a longer name of another owner",
        [("biren", ["Biren"]), ("decoy", ["Biren Capital Partners LLC"])],
        "A loan to Biren Capital Partners LLC, NY.",
        {"decoy": "Biren Capital Partners LLC"},
    ),
    case(
        "both, when both are named apart",
        [("biren", ["Biren"]), ("decoy", ["Biren Capital Partners"])],
        "Biren Capital Partners lent to Biren.",
        {"biren": "Biren", "decoy": "Biren Capital Partners"},
    ),
    case(
        "an owner's own longer name hides nothing",
        [("m", ["Moore Threads", "Moore Threads Technology"])],
        "Moore Threads Technology",
        {"m": "Moore Threads"},
    ),
    case(
        "a name's hits do not overlap (as re.finditer's)",
        [("ww", ["Walla Walla"]), ("w", ["Walla"])],
        "Walla Walla Walla",
        {"ww": "Walla Walla", "w": "Walla"},
    ),
]


@pytest.mark.parametrize(("entries", "text", "expected"), TRICKY)
def test_tricky_cases(entries, text, expected):
    assert find(text, entries) == expected
    assert reference_named(text, entries) == expected


def test_look_alikes_are_dropped_within_a_group_only():
    index = NameIndex({"customers": [("biren", ["Biren"])], "chips": [("br", ["Biren BR100"])]})
    assert index.find("the Biren BR100 card") == {
        "customers": {"biren": "Biren"},
        "chips": {"br": "Biren BR100"},
    }


def test_an_index_of_nothing_finds_nothing():
    assert NameIndex({"customers": [], "chips": [("x", ["Ltd."])]}).find("Ltd. Co.") == {
        "customers": {},
        "chips": {},
    }


@pytest.mark.parametrize(
    "text",
    [
        "a\u00a0b—c“d”",
        "ﬁnance Ⅻ ①",
        "  _x_ ..",
        "İstanbul ΣΑΣ",
        "壁仞，科技（北京）",
        "\ud800x",
        "",
    ],
)
def test_fold_is_the_regex_fold(text):
    assert fold(text) == reference_fold(text)


def test_portfolio_index_is_built_once_and_follows_replaced_lists():
    portfolio = load_portfolio(PORTFOLIO)
    index = portfolio_index(portfolio)
    assert portfolio_index(portfolio) is index
    assert index.find("Moore Threads and MTT")["customers"] == {"moore-threads": "Moore Threads"}
    termed = portfolio.model_copy(update={"watch_terms": ["Entity List"]})
    assert portfolio_index(termed).find("the Entity List")["watch_terms"] == {
        "Entity List": "Entity List"
    }
    portfolio.customers.append(Customer(id="acme", name="Acme Lithography"))
    assert portfolio_index(portfolio).find("ACME LITHOGRAPHY")["customers"] == {
        "acme": "Acme Lithography"
    }
