"""Screening: match a name (an Entity List entry, a rule's text, a news item) to customers.

A `Screener` is built once from a `Portfolio`. Every customer name and alias, and every
screened name, goes through the same normalisation, and each step that changes the
name is recorded so a match can say why:

- Unicode width folding (NFKC), casefold, punctuation;
- Chinese script: legal forms (有限公司, 股份有限公司, 有限责任公司, ...) removed, common
  terms translated (科技 -> technology, 北京 -> beijing), the rest transliterated to
  pinyin with pypinyin (壁仞 -> biren);
- legal forms removed (Co., Ltd. / Company Limited / LLC / GmbH / Pte. Ltd. / S.A. ...);
- camel case and pinyin spacing, against the portfolio's own vocabulary
  ("Bi Ren" -> "biren", "BEIJINGBIREN" -> "beijing biren", "MooreThreads" -> "moore threads");
- abbreviations and word forms (Tech. -> technology, Dev. -> development,
  Technologies -> technology).

Candidate blocking: an inverted index from each alias's distinctive tokens (and their
one-character deletions, so a typo still finds its customer) to the aliases. Only the
customers sharing a key with the name are scored, so the cost follows the number of
candidates, not names x customers. `Screener.comparisons` counts alias comparisons.

Scoring (the look-alike rule): the tokens of the name and of an alias are paired,
exactly or fuzzily (rapidfuzz ratio >= 80 for tokens of five letters or more). The
paired core is compared with `token_sort_ratio`; then every token left unpaired on
either side costs points by its kind:

- a distinctive token (anything not generic, not a place): -25. This is what keeps
  "Biren Capital Partners" off "Biren": `token_set_ratio` says 100 (the alias is a
  subset), but "capital" and "partners" are unexplained and cost 50.
- a generic word (technology, development, intelligent, group, ...): -3 on one side,
  -10 for a generic word that replaces another ("Aurora Cloud" is not "Aurora Compute"
  only because both are distinctive; "X Intelligent" vs "X Technology" is a swap).
- a place in the name that is not the customer's (its city, country or the places in
  its aliases; its parent's too): -15 ("Inspur Taiwan" is not Inspur of Jinan, CN).
  A place that is the customer's costs nothing. A place only in the alias costs 13: an
  alias qualified by a place names that branch ("Guangzhou Biren"), and a name without
  the place ("Biren") is the unqualified customer's, unless a country agrees.

A core without a distinctive token (only "technology" in common) scores 0; one whose only
distinctive words are short acronyms ("MTT" inside a longer name, or alone) loses 10. A country or
an address given with the name and agreeing with the customer's (or its parent's) adds
5 each. Parent and subsidiary: a match also lists the customer's children (customers
whose `parent` is its id) and its parent, as related matches.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

from monitor.portfolio import Customer, Portfolio

DEFAULT_THRESHOLD = 88

DISTINCT_PENALTY = 25
GENERIC_PENALTY = 3
GENERIC_SWAP_PENALTY = 10
PLACE_CONFLICT_PENALTY = 15
PLACE_MISSING_PENALTY = 13
COUNTRY_BONUS = 5
ADDRESS_BONUS = 5
ACRONYM_PENALTY = 10
ACRONYM_LEN = 4
FUZZY_TOKEN = 80  # rapidfuzz ratio for two tokens of 5+ letters to pair
FUZZY_MIN_LEN = 5

# --- word lists ---------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Legal forms removed wherever they stand, and those removed only at the end of a name
# (short or ambiguous ones: "AS", "SA", "AG" can be words or initials inside a name).
LEGAL_ANYWHERE = _words(
    "co ltd limited company llc inc incorporated gmbh plc pte pvt corp corporation kk "
    "sdn bhd fze fzco llp jsc ojsc pjsc cjsc ooo oao zao ltda pty mbh"
)
LEGAL_TRAILING = _words(
    "ag sa srl sarl spa bv nv oy ab as private sas kg fz lp sl sro cv ad se lda kft de"
)
LEGAL = LEGAL_ANYWHERE | LEGAL_TRAILING
CN_LEGAL = sorted(
    [
        "股份有限公司", "有限责任公司", "有限責任公司", "集团有限公司", "集團有限公司",
        "有限公司", "股份公司", "分公司", "株式会社", "有限会社", "合同会社", "公司",
    ],
    key=len,
    reverse=True,
)  # fmt: skip

# Chinese terms translated before transliteration, so 壁仞科技 reads "biren technology"
# like its English name, and place names stand as their own tokens.
CN_TERMS = {
    "科技": "technology", "技术": "technology", "技術": "technology",
    "智能": "intelligent", "信息": "information", "資訊": "information",
    "电子": "electronics", "電子": "electronics", "微电子": "microelectronics",
    "微電子": "microelectronics", "产业": "industry", "產業": "industry",
    "工业": "industrial", "工業": "industrial", "实业": "industrial",
    "集成电路": "integrated circuit", "積體電路": "integrated circuit",
    "半导体": "semiconductor", "半導體": "semiconductor", "国际": "international",
    "國際": "international", "制造": "manufacturing", "製造": "manufacturing",
    "贸易": "trading", "貿易": "trading", "集团": "group", "集團": "group",
    "控股": "holdings", "发展": "development", "發展": "development", "开发": "development",
    "開發": "development", "研究所": "institute", "研究院": "research institute",
    "网络": "network", "網絡": "network", "通信": "communications", "软件": "software",
    "軟件": "software", "系统": "systems", "系統": "systems", "设备": "equipment",
    "設備": "equipment", "投资": "investment", "投資": "investment",
    "进出口": "import export", "進出口": "import export", "大学": "university",
    "大學": "university",
    "中国": "china", "中國": "china", "香港": "hongkong", "澳门": "macau", "澳門": "macau",
    "台湾": "taiwan", "台灣": "taiwan", "臺灣": "taiwan", "台北": "taipei",
    "新加坡": "singapore", "北京": "beijing", "上海": "shanghai", "深圳": "shenzhen",
    "广州": "guangzhou", "廣州": "guangzhou", "杭州": "hangzhou", "天津": "tianjin",
    "成都": "chengdu", "武汉": "wuhan", "南京": "nanjing", "西安": "xian",
    "青岛": "qingdao", "济南": "jinan", "合肥": "hefei", "重庆": "chongqing",
    "苏州": "suzhou", "无锡": "wuxi", "长沙": "changsha", "厦门": "xiamen",
    "安徽": "anhui", "江苏": "jiangsu", "浙江": "zhejiang", "广东": "guangdong",
}  # fmt: skip
CN_TERM_ORDER = sorted(CN_TERMS, key=len, reverse=True)

# Words that say what kind of organisation it is rather than which one. Words naming a
# line of business (capital, partners, marine, textiles, semiconductor, memory, cloud,
# electronics, networks, ...) are deliberately NOT here: they tell look-alikes apart.
GENERIC = _words(
    "technology development intelligent intelligence information industry industrial "
    "international group holdings science systems solutions services trading import "
    "export enterprise enterprises global institute innovation advanced design labs lab "
    "ai new the and of for branch university"
)

ABBREVIATIONS = {
    "tech": "technology", "techn": "technology", "technol": "technology",
    "dev": "development", "devel": "development", "develop": "development",
    "intl": "international", "int": "international", "info": "information",
    "elec": "electronics", "electr": "electronics", "mfg": "manufacturing",
    "manuf": "manufacturing", "sci": "science", "ind": "industry", "indus": "industry",
    "semi": "semiconductor", "semicon": "semiconductor", "grp": "group",
    "hldgs": "holdings", "hldg": "holdings", "svcs": "services", "svc": "services",
    "sys": "systems", "natl": "national", "univ": "university", "inst": "institute",
    "eng": "engineering", "engg": "engineering", "equip": "equipment",
    "comm": "communications", "comms": "communications", "mgmt": "management",
    "intell": "intelligent", "hk": "hongkong", "sg": "singapore", "prc": "china",
    "peking": "beijing",
}  # fmt: skip
WORD_FORMS = {
    "technologies": "technology", "technological": "technology",
    "developments": "development", "electronic": "electronics",
    "industries": "industry", "sciences": "science", "system": "systems",
    "solution": "solutions", "service": "services", "holding": "holdings",
    "semiconductors": "semiconductor", "networks": "network", "communication": "communications",
    "enterprises": "enterprise", "laboratories": "labs", "laboratory": "labs", "lab": "labs",
    "macao": "macau", "centre": "center", "intelligence": "intelligent",
}  # fmt: skip

COUNTRY_NAMES: dict[str, frozenset[str]] = {
    code: frozenset(names.split())
    for code, names in {
        "CN": "china", "TW": "taiwan", "HK": "hongkong", "MO": "macau", "SG": "singapore",
        "JP": "japan", "KR": "korea", "DE": "germany", "US": "usa america", "GB": "uk britain",
        "IE": "ireland", "AE": "uae", "IN": "india", "MY": "malaysia", "CA": "canada",
        "AR": "argentina", "RU": "russia", "BY": "belarus", "IR": "iran", "NL": "netherlands",
        "FR": "france", "IT": "italy", "ES": "spain", "VN": "vietnam", "TH": "thailand",
        "IL": "israel", "PK": "pakistan", "TR": "turkey", "CH": "switzerland",
        "KP": "northkorea",
    }.items()
}  # fmt: skip
PLACE_PHRASES = {
    "hong kong": "hongkong", "new york": "newyork", "kuala lumpur": "kualalumpur",
    "buenos aires": "buenosaires", "abu dhabi": "abudhabi", "frankfurt am main": "frankfurt",
    "united states of america": "usa", "united states": "usa", "united kingdom": "uk",
    "united arab emirates": "uae", "great britain": "uk", "south korea": "korea",
    "inner mongolia": "neimenggu", "peoples republic of china": "china",
    "people s republic of china": "china", "north korea": "northkorea", "xi an": "xian",
}  # fmt: skip
PLACE_PHRASE_RE = re.compile(
    r"\b(" + "|".join(re.escape(p) for p in sorted(PLACE_PHRASES, key=len, reverse=True)) + r")\b"
)
PLACES = _words(
    "beijing shanghai shenzhen guangzhou hangzhou tianjin chengdu wuhan nanjing xian qingdao "
    "jinan hefei chongqing suzhou wuxi changsha xiamen dalian shenyang harbin zhengzhou "
    "kunming ningbo dongguan foshan zhuhai anhui jiangsu zhejiang guangdong shandong sichuan "
    "hubei hunan hebei henan fujian liaoning jilin heilongjiang shaanxi shanxi yunnan "
    "guizhou guangxi hainan jiangxi gansu qinghai xinjiang tibet ningxia neimenggu taipei "
    "hsinchu kaohsiung taichung tainan tokyo osaka seoul frankfurt hamburg munich berlin "
    "london manchester dublin dubai abudhabi bengaluru bangalore mumbai delhi kualalumpur "
    "toronto vancouver newyork buenosaires moscow minsk tehran"
).union(*COUNTRY_NAMES.values())

HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
LATIN_WORD = re.compile(r"[A-Za-z]+")


# --- normalisation ------------------------------------------------------------------


@dataclass(frozen=True)
class Normalised:
    """A name as tokens, and the normalisation steps that changed it."""

    original: str
    tokens: tuple[str, ...]
    steps: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


def _word_break(token: str, vocab: frozenset[str], exclude: str = "") -> list[str] | None:
    """`token` as two or more vocabulary words (fewest pieces), or None."""
    n = len(token)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(2, n + 1):
        for start in range(0, end - 1):
            prev = best[start]
            piece = token[start:end]
            if prev is None or piece == exclude or piece not in vocab:
                continue
            if best[end] is None or len(prev) + 1 < len(best[end]):  # type: ignore[arg-type]
                best[end] = [*prev, piece]
    found = best[n]
    return found if found is not None and len(found) >= 2 else None


def _han_to_latin(text: str, steps: list[str], vocab: frozenset[str] | None) -> str:
    for form in CN_LEGAL:
        if form in text:
            text = text.replace(form, " ")
            steps.append(f"legal form removed: {form}")
    for term in CN_TERM_ORDER:
        if term in text:
            text = text.replace(term, f" {CN_TERMS[term]} ")
            steps.append(f"Chinese term: {term} -> {CN_TERMS[term]}")

    def transliterate(m: re.Match[str]) -> str:
        run = m.group()
        pinyin = "".join(lazy_pinyin(run))
        parts = _word_break(pinyin, vocab, exclude=pinyin) if vocab else None
        latin = " ".join(parts) if parts else pinyin
        steps.append(f"Chinese script to pinyin: {run} -> {latin}")
        return f" {latin} "

    return HAN_RUN.sub(transliterate, text)


def _camel(text: str, steps: list[str], vocab: frozenset[str]) -> str:
    def split(m: re.Match[str]) -> str:
        word = m.group()
        if word.casefold() in vocab or word.casefold() in LEGAL or not CAMEL.search(word):
            return word
        spaced = CAMEL.sub(" ", word)
        steps.append(f"camel case split: {word} -> {spaced}")
        return spaced

    return LATIN_WORD.sub(split, text)


def _join_letters(tokens: list[str]) -> list[str]:
    """Runs of single letters are initials: "s a" (S.A.) -> "sa", "l l c" -> "llc"."""
    out: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        if run:
            out.append("".join(run)) if len(run) > 1 else out.extend(run)
            run = []
        if token:
            out.append(token)
    return out


def _strip_legal(tokens: list[str], steps: list[str]) -> list[str]:
    kept = [t for t in tokens if t not in LEGAL_ANYWHERE]
    removed = [t for t in tokens if t in LEGAL_ANYWHERE]
    while kept and kept[-1] in LEGAL_TRAILING:
        removed.append(kept.pop())
    if removed:
        steps.append(f"legal form removed: {' '.join(removed)}")
    return kept


def _respace(tokens: list[str], vocab: frozenset[str], steps: list[str]) -> list[str]:
    """Pinyin spacing: join pieces that make a known word, split run-together words."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for n in (4, 3, 2):
            piece = tokens[i : i + n]
            joined = "".join(piece)
            if len(piece) == n and joined in vocab and any(p not in vocab for p in piece):
                steps.append(f"spacing: {' '.join(piece)} -> {joined}")
                out.append(joined)
                i += n
                break
        else:
            token = tokens[i]
            parts = _word_break(token, vocab) if token not in vocab and len(token) >= 5 else None
            if parts:
                steps.append(f"spacing: {token} -> {' '.join(parts)}")
                out.extend(parts)
            else:
                out.append(token)
            i += 1
    return out


def _expand(tokens: list[str], steps: list[str]) -> list[str]:
    out = []
    for token in tokens:
        if token in ABBREVIATIONS:
            steps.append(f"abbreviation: {token} -> {ABBREVIATIONS[token]}")
            token = ABBREVIATIONS[token]
        elif token in WORD_FORMS:
            steps.append(f"word form: {token} -> {WORD_FORMS[token]}")
            token = WORD_FORMS[token]
        out.append(token)
    return out


def normalise(text: str, vocab: frozenset[str] | None = None) -> Normalised:
    """Tokens of `text` for matching. `vocab` (the portfolio's words) drives re-spacing."""
    steps: list[str] = []
    folded = unicodedata.normalize("NFKC", text)
    if folded != text:
        steps.append("unicode width folded (NFKC)")
    if HAN_RUN.search(folded):
        folded = _han_to_latin(folded, steps, vocab)
    if vocab is not None:
        folded = _camel(folded, steps, vocab)
    lower = folded.casefold()
    if lower != folded:
        steps.append("casefold")
    lower = lower.replace("&", " and ")
    if re.search(r"[^\w\s]|_", lower):
        steps.append("punctuation removed")
    lower = re.sub(r"['’`]", "", lower)
    lower = " ".join(re.sub(r"[\W_]+", " ", lower).split())
    lower = PLACE_PHRASE_RE.sub(lambda m: PLACE_PHRASES[m.group()], lower)
    tokens = _strip_legal(_join_letters(lower.split()), steps)
    if vocab is not None:
        tokens = _respace(tokens, vocab, steps)
    tokens = _expand(tokens, steps)
    return Normalised(text, tuple(tokens), tuple(dict.fromkeys(steps)))


def _deletions(token: str) -> set[str]:
    return {token[:i] + token[i + 1 :] for i in range(len(token))}


# --- the screener ---------------------------------------------------------------------


@dataclass
class Match:
    """A customer a name matches, how well (0-100) and why."""

    customer_id: str
    score: int
    reasons: list[str]
    matched_alias: str | None = None
    relation: str = "direct"  # "direct", or "subsidiary" / "parent" of a direct match

    def to_json(self) -> dict[str, Any]:
        """The stable `monitor screen` shape."""
        return {"customer_id": self.customer_id, "score": self.score, "reasons": self.reasons}


@dataclass(frozen=True)
class _Alias:
    customer: int
    name: str
    norm: Normalised
    distinctive: frozenset[str]


@dataclass
class _Scored:
    score: float
    reasons: list[str]
    conflict: bool = False


@dataclass
class Screener:
    """Screen names against a portfolio's customers. Build once, screen many."""

    portfolio: Portfolio = field(repr=False)
    threshold: int = DEFAULT_THRESHOLD
    comparisons: int = 0  # alias comparisons made, all screens together
    last_comparisons: int = 0
    last_candidates: set[str] = field(default_factory=set)
    ignored_aliases: list[tuple[str, str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.customers: list[Customer] = list(self.portfolio.customers)
        self._by_id = {c.id: i for i, c in enumerate(self.customers)}
        raw = [(i, name) for i, c in enumerate(self.customers) for name in c.match_names]
        cities = {"".join(normalise(c.city).tokens) for c in self.customers if c.city} - {""}
        self.places = PLACES | cities
        extra = self.places | GENERIC | frozenset(ABBREVIATIONS) | frozenset(WORD_FORMS)
        # Two passes: words read without re-spacing, then the aliases re-spaced by them
        # (a transliterated 智谱华章 "zhipuhuazhang" splits into "zhipu huazhang").
        first = frozenset(t for _, n in raw for t in normalise(n).tokens if len(t) > 1)
        second = frozenset(
            t for _, n in raw for t in normalise(n, first | extra).tokens if len(t) > 1
        )
        self.vocab = second | extra
        self.aliases: list[_Alias] = []
        for i, name in raw:
            norm = normalise(name, self.vocab)
            if not norm.tokens:  # only a legal form: "Ltd." split off "Co., Ltd."
                self.ignored_aliases.append((self.customers[i].id, name))
                continue
            distinctive = frozenset(t for t in norm.tokens if self._kind(t) == "distinctive")
            self.aliases.append(_Alias(i, name, norm, distinctive))
        self._aliases_of: dict[int, list[int]] = {}
        for n, alias in enumerate(self.aliases):
            self._aliases_of.setdefault(alias.customer, []).append(n)
        self._places_of = [self._customer_places(c) for c in self.customers]
        self._children: dict[str, list[str]] = {}
        for c in self.customers:
            if c.parent and c.parent in self._by_id:
                self._children.setdefault(c.parent, []).append(c.id)
        self._index: dict[str, set[int]] = {}
        for n, alias in enumerate(self.aliases):
            for key in self._keys(alias.norm.tokens, alias.distinctive, index=True):
                self._index.setdefault(key, set()).add(n)

    # -- building blocks

    def _kind(self, token: str) -> str:
        if token in self.places:
            return "place"
        if token in GENERIC:
            return "generic"
        return "distinctive"

    def _customer_places(self, customer: Customer) -> frozenset[str]:
        places: set[str] = set()
        family = [customer]
        if customer.parent and customer.parent in self._by_id:
            family.append(self.customers[self._by_id[customer.parent]])
        for c in family:
            if c.city:
                tokens = normalise(c.city).tokens
                places.update(tokens)
                places.add("".join(tokens))
            places.update(COUNTRY_NAMES.get((c.country or "").upper(), ()))
            for n in self._aliases_of.get(self._by_id[c.id], []):
                places.update(t for t in self.aliases[n].norm.tokens if t in self.places)
        return frozenset(places)

    def _keys(self, tokens: Iterable[str], distinctive: frozenset[str], index: bool) -> set[str]:
        tokens = tuple(tokens)
        keys: set[str] = set()
        for token in distinctive:
            if len(token) < 2:
                continue
            keys.add(token)
            if len(token) >= FUZZY_MIN_LEN:
                keys.update(_deletions(token))
        if not index or not any(len(t) > 1 for t in distinctive):
            # an alias without a usable distinctive token ("Z.ai") is keyed by its whole
            # name, places aside; a screened name always tries that key too
            keys.add("=" + " ".join(sorted(t for t in tokens if t not in self.places)))
        return keys

    def candidates(self, name: str) -> set[str]:
        """Ids of the customers that blocking lets through for `name`."""
        norm = normalise(name, self.vocab)
        return {self.customers[self.aliases[n].customer].id for n in self._hits(norm)}

    def _hits(self, norm: Normalised) -> set[int]:
        distinctive = frozenset(t for t in norm.tokens if self._kind(t) == "distinctive")
        hits: set[int] = set()
        for key in self._keys(norm.tokens, distinctive, index=False):
            hits |= self._index.get(key, set())
        return hits

    # -- scoring

    def _compare(self, query: Normalised, alias: _Alias) -> _Scored:
        qt, at = list(query.tokens), list(alias.norm.tokens)
        pairs: dict[int, int] = {}
        for i, token in enumerate(qt):
            for j, other in enumerate(at):
                if j not in pairs.values() and token == other:
                    pairs[i] = j
                    break
        for i, token in enumerate(qt):
            if i in pairs or len(token) < FUZZY_MIN_LEN or self._kind(token) != "distinctive":
                continue
            best, best_j = 0.0, -1
            for j, other in enumerate(at):
                if j in pairs.values() or len(other) < FUZZY_MIN_LEN:
                    continue
                if self._kind(other) != "distinctive":
                    continue
                ratio = fuzz.ratio(token, other)
                if ratio >= FUZZY_TOKEN and ratio > best:
                    best, best_j = ratio, j
            if best_j >= 0:
                pairs[i] = best_j
        if not pairs:
            return _Scored(0, ["no word in common"])
        order = sorted(pairs)
        q_core = " ".join(qt[i] for i in order)
        a_core = " ".join(at[pairs[i]] for i in order)
        core = fuzz.token_sort_ratio(q_core, a_core)
        q_rest = [t for i, t in enumerate(qt) if i not in pairs]
        a_rest = [t for j, t in enumerate(at) if j not in pairs.values()]
        reasons = [f"token_sort_ratio {core:.0f} on {q_core!r}"]
        if q_rest or a_rest:
            whole = fuzz.token_set_ratio(query.text, alias.norm.text)
            reasons.append(f"token_set_ratio {whole:.0f}, less the unmatched words:")

        paired_kinds = {self._kind(at[j]) for j in pairs.values()}
        if "distinctive" not in paired_kinds:
            all_alias = not a_rest and not alias.distinctive
            only_places = all(self._kind(t) == "place" for t in q_rest)
            if not (all_alias and only_places):
                return _Scored(0, [f"only generic words or places in common ({q_core!r})"])

        places = self._places_of[alias.customer]
        penalty = 0.0
        paired = [at[j] for j in pairs.values() if self._kind(at[j]) == "distinctive"]
        if all(len(t) <= ACRONYM_LEN for t in paired) and (q_rest or len(qt) == 1):
            # "MTT" alone: an exact acronym is a lead, weaker than a name
            penalty += ACRONYM_PENALTY
            reasons.append(f"-{ACRONYM_PENALTY} only a short acronym in common")
        conflict = False

        def cost(points: float, words: list[str], what: str) -> None:
            nonlocal penalty
            if words and points:
                penalty += points * len(words)
                quoted = ", ".join(repr(w) for w in words)
                reasons.append(f"-{points * len(words):g} {what} {quoted}")

        q_by = {k: [t for t in q_rest if self._kind(t) == k] for k in ("distinctive", "generic")}
        a_by = {k: [t for t in a_rest if self._kind(t) == k] for k in ("distinctive", "generic")}
        cost(DISTINCT_PENALTY, q_by["distinctive"], "distinctive word(s) only in the name:")
        cost(DISTINCT_PENALTY, a_by["distinctive"], "distinctive word(s) only in the alias:")
        swaps = min(len(q_by["generic"]), len(a_by["generic"]))
        cost(
            GENERIC_SWAP_PENALTY,
            [f"{q}/{a}" for q, a in zip(q_by["generic"], a_by["generic"], strict=False)],
            "generic word replaced:",
        )
        cost(GENERIC_PENALTY, q_by["generic"][swaps:], "generic word(s) only in the name:")
        cost(GENERIC_PENALTY, a_by["generic"][swaps:], "generic word(s) only in the alias:")
        q_places = [t for t in q_rest if self._kind(t) == "place"]
        foreign = [t for t in q_places if t not in places]
        own = [t for t in q_places if t in places]
        if foreign:
            conflict = True
            cost(PLACE_CONFLICT_PENALTY, foreign, "place(s) not the customer's:")
        if own:
            reasons.append(f"place {', '.join(map(repr, own))} in the name is the customer's")
        a_places = [t for t in a_rest if self._kind(t) == "place"]
        cost(PLACE_MISSING_PENALTY, a_places, "place(s) only in the alias:")
        return _Scored(max(0.0, core - penalty), reasons, conflict)

    def _corroborate(
        self, customer: Customer, country: str | None, address: str | None
    ) -> tuple[float, list[str]]:
        bonus, reasons = 0.0, []
        family = [customer]
        if customer.parent and customer.parent in self._by_id:
            family.append(self.customers[self._by_id[customer.parent]])
        if country:
            code = country_code(country)
            owners = [c for c in family if c.country and c.country.upper() == code]
            if owners:
                bonus += COUNTRY_BONUS
                whose = "customer's" if owners[0] is customer else f"parent {owners[0].id}'s"
                reasons.append(f"+{COUNTRY_BONUS} country {code} is the {whose}")
            else:
                reasons.append(
                    f"country {code} differs from the customer's ({customer.country or '?'})"
                )
        if address:
            addr = normalise(address)
            tokens = set(addr.tokens)
            for c in family:
                city = normalise(c.city).tokens if c.city else ()
                if city and (set(city) <= tokens or "".join(city) in tokens):
                    bonus += ADDRESS_BONUS
                    reasons.append(f"+{ADDRESS_BONUS} address names {c.city} ({c.id}'s city)")
                    break
                known = [a for a in c.addresses if fuzz.token_set_ratio(addr.text, a) >= 90]
                if known:
                    bonus += ADDRESS_BONUS
                    reasons.append(f"+{ADDRESS_BONUS} address matches {known[0]!r} ({c.id})")
                    break
        return bonus, reasons

    # -- public

    def screen(
        self,
        name: str,
        *,
        country: str | None = None,
        address: str | None = None,
        threshold: int | None = None,
    ) -> list[Match]:
        """Customers `name` matches (score >= threshold), best first, then related ones."""
        limit = self.threshold if threshold is None else threshold
        query = normalise(name, self.vocab)
        self.last_comparisons = 0
        self.last_candidates = set()
        if not query.tokens:
            return []
        customers = {self.aliases[n].customer for n in self._hits(query)}
        direct: list[Match] = []
        for ci in sorted(customers):
            customer = self.customers[ci]
            self.last_candidates.add(customer.id)
            ranked = []
            for n in self._aliases_of[ci]:
                self.last_comparisons += 1
                alias = self.aliases[n]
                scored = self._compare(query, alias)
                literal = fuzz.ratio(name.casefold(), alias.name.casefold())  # breaks ties
                ranked.append((scored.score, literal, -n, scored, alias))
            _, _, _, scored, alias = max(ranked, key=lambda r: r[:3])
            total = scored.score
            reasons = [f"alias {alias.name!r}"]
            if alias.norm.text != query.text or alias.norm.steps:
                reasons[0] += f" read as {alias.norm.text!r}"
                if any(s.startswith(("Chinese", "spacing")) for s in alias.norm.steps):
                    reasons[0] += f" ({'; '.join(alias.norm.steps)})"
            reasons.append(f"name read as {query.text!r}")
            reasons.extend(f"normalised: {step}" for step in query.steps)
            reasons.extend(scored.reasons)
            if total > 0 and not scored.conflict and (country or address):
                bonus, why = self._corroborate(customer, country, address)
                total += bonus
                reasons.extend(why)
            score = round(min(100.0, total))
            if score >= limit and score > 0:
                direct.append(Match(customer.id, score, reasons, alias.name))
        self.comparisons += self.last_comparisons
        direct.sort(key=lambda m: (-m.score, m.customer_id))
        return direct + self._related(direct)

    def _related(self, direct: list[Match]) -> list[Match]:
        seen = {m.customer_id: m for m in direct}
        related: dict[str, Match] = {}
        for match in direct:
            customer = self.customers[self._by_id[match.customer_id]]
            links = [(child, "subsidiary") for child in self._children.get(customer.id, [])]
            if customer.parent and customer.parent in self._by_id:
                links.append((customer.parent, "parent"))
            for other, relation in links:
                why = (
                    f"{relation} of {customer.id} (portfolio `parent` field), which matched "
                    f"{match.matched_alias!r} at {match.score}"
                )
                if other in seen:
                    seen[other].reasons.append(f"also the {why}")
                elif other in related:
                    related[other].reasons.append(why)
                else:
                    related[other] = Match(other, match.score, [why], None, relation)
        return list(related.values())

    def screen_json(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """`{"query", "matches": [{"customer_id", "score", "reasons"}]}`."""
        return {"query": name, "matches": [m.to_json() for m in self.screen(name, **kwargs)]}


def country_code(value: str) -> str:
    """ISO alpha-2 for a code or a country name ("China", "Hong Kong"); else as given."""
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    tokens = normalise(text).tokens
    joined = "".join(tokens)
    for code, names in COUNTRY_NAMES.items():
        if joined in names or any(t in names for t in tokens):
            return code
    return text.upper()
