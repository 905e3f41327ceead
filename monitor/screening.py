"""Screening: match a name (an Entity List entry, a rule's text, a news item) to customers.

A `Screener` is built once from a `Portfolio`. Every customer name and alias, and every
screened name, goes through the same normalisation, and each step that changes the
name is recorded so a match can say why:

- Unicode width folding (NFKC), casefold, accents, punctuation, British spellings;
- Chinese script: traditional characters to simplified (opencc), legal forms (有限公司,
  股份有限公司, ...) and city markers (深圳市) removed, common terms translated (科技 ->
  technology, 北京 -> beijing), the rest transliterated to pinyin with pypinyin (壁仞 ->
  biren); romanised Chinese words read the same way (keji -> technology);
- legal forms removed (Co., Ltd. / Company Limited / LLC / GmbH / Pte. Ltd. / S.A. de C.V.
  / Gesellschaft mit beschränkter Haftung / youxian gongsi / ...);
- camel case and pinyin spacing, against the portfolio's own vocabulary
  ("Bi Ren" -> "biren", "BEIJINGBIREN" -> "beijing biren", "MooreThreads" -> "moore threads");
- abbreviations and word forms (Tech. -> technology, IC -> integrated circuit,
  Technologies -> technology, Bangalore -> bengaluru).

Scoring (the look-alike rule): the tokens of the name and of an alias are paired, exactly
or as a typo (one letter dropped, added or swapped after the same first letter; a
substituted one in words of 7+ letters), word order free. A typo costs 6; then every
token left unpaired on either side costs points by its kind:

- a distinctive token (anything not generic, not a place): -25. This is what keeps
  "Biren Capital Partners" off "Biren": `token_set_ratio` says 100 (the alias is a
  subset), but "capital" and "partners" are unexplained and cost 50. A word of the
  customer's other names ("YMTC" after Yangtze Memory's name) or the alias's initials
  is explained and costs nothing.
- a generic word (technology, development, intelligent, group, ...): -3 on one side,
  -13 for a generic word that replaces another ("Semiconductor Manufacturing
  Technology" is not "... International").
- a place in the name that is not the customer's (its city and province, country, the
  places in its aliases; its parent's too): -10, a branch or subsidiary ("Huawei
  Technologies (Thailand)", "Shanghai Huawei Technologies"); -15 for a country before
  the name, which is part of it ("Taiwan Semiconductor Manufacturing"). A place of the
  alias the name lacks: -5, or nothing when an address gives it or the name puts
  another place in its stead ("(Beijing)" -> "(Shanghai)").

Then a customer another one explains better by place is set aside, and the winner says
so: "Inspur Taiwan" is inspur-taiwan's, not Inspur's with a foreign qualifier; bare
"Biren" is biren's, not the branch alias "Guangzhou Biren"'s.

A core without a distinctive token (only "technology" in common) scores 0; one whose only
distinctive words are acronyms loses 10 (four letters, "SMIC") or 15 (three, "MTT": below
the threshold alone). A country or an address given with the name and agreeing with the
customer's (or its parent's) adds 5 each. Parent and subsidiary: a match also lists the
customer's children (customers whose `parent` is its id) and its parent, as related
matches.

Candidate blocking: at the usual thresholds a match pairs every distinctive word of the
alias, so each alias is indexed by its rarest distinctive word and that word's
one-letter deletions (a typo still finds it); the aliases found are kept only if no
distinctive word on either side is beyond pairing, which is known without scoring. So
the cost follows the few real candidates, not names x customers (`Screener.comparisons`
counts alias comparisons). A threshold low enough to show partial matches uses an index
of every distinctive word, built on first use.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from opencc import OpenCC
from pypinyin import lazy_pinyin
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from monitor.knowledge import countries
from monitor.portfolio import Customer, Portfolio

DEFAULT_THRESHOLD = 88

DISTINCT_PENALTY = 25
GENERIC_PENALTY = 3
GENERIC_SWAP_PENALTY = 13
PLACE_CONFLICT_PENALTY = 10
LEADING_COUNTRY_PENALTY = 15
PLACE_MISSING_PENALTY = 5
COUNTRY_BONUS = 5
ADDRESS_BONUS = 5
ACRONYM_PENALTY = 10  # a 4-letter acronym alone ("SMIC"): a lead, weaker than a name
SHORT_ACRONYM_PENALTY = 15  # 3 letters ("MTT") match many names: below the threshold alone
ACRONYM_LEN = 4
TYPO_PENALTY = 6
FUZZY_MIN_LEN = 5  # tokens this long pair at one edit (insertion, deletion, transposition)
FUZZY_SUBSTITUTION_LEN = 7  # and this long, at one substituted letter too

# --- word lists ---------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Legal forms removed wherever they stand, and those removed only at the end of a name
# (short or ambiguous ones: "AS", "SA", "AG" can be words or initials inside a name).
LEGAL_ANYWHERE = _words(
    "co ltd limited company llc inc incorporated gmbh plc pte pvt corp corporation kk "
    "sdn bhd fze fzco llp jsc ojsc pjsc cjsc ooo oao zao ltda pty mbh aktiengesellschaft "
    "kabushiki kaisha gaisha sendirian berhad limitada gongsi"
)
LEGAL_TRAILING = _words(
    "ag sa srl sarl spa bv nv oy ab as private sas kg fz lp sl sro cv ad se lda kft de ca sc scs"
)
LEGAL = LEGAL_ANYWHERE | LEGAL_TRAILING
# Legal forms spelled out in several words, removed wherever they stand (the romanised
# Chinese and Russian ones are how OFAC and Entity List aliases often give them).
LEGAL_PHRASES = (
    "gesellschaft mit beschrankter haftung", "sociedad anonima", "sociedade anonima",
    "societe anonyme", "societa per azioni", "sociedad de responsabilidad limitada",
    "besloten vennootschap", "naamloze vennootschap", "limited liability company",
    "limited liability partnership", "public limited company", "joint stock company",
    "joint stock", "free zone establishment", "free zone company", "free zone",
    "obshchestvo s ogranichennoi otvetstvennostyu", "otkrytoe aktsionernoe obshchestvo",
    "zakrytoe aktsionernoe obshchestvo", "publichnoe aktsionernoe obshchestvo",
    "aktsionernoe obshchestvo", "gufen youxian gongsi", "youxian zeren gongsi",
    "youxian gongsi", "s en c", "yugen kaisha", "yugen gaisha", "godo kaisha", "godo gaisha",
)  # fmt: skip
LEGAL_PHRASE_RE = re.compile(
    r"\b(" + "|".join(sorted(LEGAL_PHRASES, key=len, reverse=True)) + r")\b"
)
CN_LEGAL = sorted(
    [
        "股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "股份公司", "分公司",
        "株式会社", "有限会社", "合同会社", "公司",
    ],
    key=len,
    reverse=True,
)  # fmt: skip

# Chinese terms translated before transliteration, so 壁仞科技 reads "biren technology"
# like its English name, and place names stand as their own tokens. Simplified script:
# traditional characters are converted first (華為 -> 华为, 長江 -> 长江).
CN_TERMS = {
    "科技": "technology", "技术": "technology", "智能": "intelligent", "信息": "information",
    "资讯": "information", "电子": "electronics", "微电子": "microelectronics",
    "产业": "industry", "工业": "industrial", "实业": "industrial",
    "集成电路": "integrated circuit", "积体电路": "integrated circuit",
    "半导体": "semiconductor", "国际": "international", "制造": "manufacturing",
    "贸易": "trading", "集团": "group", "控股": "holdings", "发展": "development",
    "开发": "development", "研究所": "institute", "研究院": "research institute",
    "网络": "network", "通信": "communications", "软件": "software", "系统": "systems",
    "设备": "equipment", "设计": "design", "投资": "investment", "进出口": "import export",
    "大学": "university",
    "中国": "china", "香港": "hongkong", "澳门": "macau", "台湾": "taiwan", "台北": "taipei",
    "新加坡": "singapore", "北京": "beijing", "上海": "shanghai", "深圳": "shenzhen",
    "广州": "guangzhou", "杭州": "hangzhou", "天津": "tianjin", "成都": "chengdu",
    "武汉": "wuhan", "南京": "nanjing", "西安": "xian", "青岛": "qingdao", "济南": "jinan",
    "合肥": "hefei", "重庆": "chongqing", "苏州": "suzhou", "无锡": "wuxi", "长沙": "changsha",
    "厦门": "xiamen", "安徽": "anhui", "江苏": "jiangsu", "浙江": "zhejiang",
    "广东": "guangdong",
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
    "ic": "integrated circuit",
}  # fmt: skip
# Romanised Chinese (pinyin) words of company names, read like their English translation.
PINYIN_TERMS = {
    "keji": "technology", "jishu": "technology", "kaifa": "development",
    "fazhan": "development", "zhineng": "intelligent", "xinxi": "information",
    "dianzi": "electronics", "weidianzi": "microelectronics", "chanye": "industry",
    "gongye": "industrial", "shiye": "industrial", "bandaoti": "semiconductor",
    "guoji": "international", "jituan": "group", "konggu": "holdings", "maoyi": "trading",
    "touzi": "investment", "tongxin": "communications", "ruanjian": "software",
    "wangluo": "network", "xitong": "systems", "shebei": "equipment", "zhizao": "manufacturing",
    "sheji": "design", "yanjiusuo": "institute", "daxue": "university",
}  # fmt: skip
WORD_FORMS = {
    "technologies": "technology", "technological": "technology",
    "developments": "development", "electronic": "electronics",
    "industries": "industry", "sciences": "science", "system": "systems",
    "solution": "solutions", "service": "services", "holding": "holdings",
    "semiconductors": "semiconductor", "networks": "network", "communication": "communications",
    "enterprises": "enterprise", "laboratories": "labs", "laboratory": "labs", "lab": "labs",
    "macao": "macau", "intelligence": "intelligent",
    # former or other names of cities
    "peking": "beijing", "canton": "guangzhou", "bangalore": "bengaluru", "bombay": "mumbai",
    "madras": "chennai", "calcutta": "kolkata",
}  # fmt: skip

# words of country names as they appear inside company names ("Huawei Technologies
# (Thailand)"), in the screener's normalised form; names to ISO codes are monitor.knowledge
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
# British spellings, also inside a word ("Datacentre"), read as American ones
SPELLINGS = {
    "centre": "center", "harbour": "harbor", "fibre": "fiber", "theatre": "theater",
    "metre": "meter", "labour": "labor", "colour": "color", "defence": "defense",
    "organisation": "organization",
}  # fmt: skip
SPELLING_RE = re.compile(r"(" + "|".join(SPELLINGS) + r")\b")
TERM_PHRASES = {"artificial intelligence": "ai"}
TERM_PHRASE_RE = re.compile(r"\b(" + "|".join(TERM_PHRASES) + r")\b")
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
    "london manchester dublin dubai abudhabi bengaluru mumbai delhi chennai kolkata "
    "kualalumpur toronto vancouver newyork buenosaires moscow minsk tehran guiyang"
).union(*COUNTRY_NAMES.values())
COUNTRY_WORDS = frozenset().union(*COUNTRY_NAMES.values())
# The province of a city: an address "Jinan, Shandong" names the customer's own place.
PROVINCE_OF = {
    city: province
    for province, cities in {
        "guangdong": "shenzhen guangzhou dongguan foshan zhuhai", "zhejiang": "hangzhou ningbo",
        "jiangsu": "nanjing suzhou wuxi", "shandong": "jinan qingdao", "sichuan": "chengdu",
        "hubei": "wuhan", "hunan": "changsha", "anhui": "hefei", "shaanxi": "xian",
        "fujian": "xiamen", "liaoning": "dalian shenyang", "heilongjiang": "harbin",
        "henan": "zhengzhou", "yunnan": "kunming", "guizhou": "guiyang",
    }.items()
    for city in cities.split()
}  # fmt: skip

EXPANSIONS = {
    word: (what, as_)
    for what, table in (
        ("pinyin word", PINYIN_TERMS), ("word form", WORD_FORMS), ("abbreviation", ABBREVIATIONS)
    )
    for word, as_ in table.items()
}  # fmt: skip
PUNCTUATION = re.compile(r"[^\w\s]|_")
INITIAL_DOTS = re.compile(r"(?<=\b[a-z])\.(?=[a-z]\b)")  # "h.l.p. s.a." -> "hlp. sa."
APOSTROPHES = re.compile(r"['’`]")
SEPARATORS = re.compile(r"[\W_]+")
TO_SIMPLIFIED = OpenCC("t2s")
HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# 深圳市 (Shenzhen City), 广东省 (Guangdong Province): the marker after a place name
PLACE_MARK = re.compile(r"([\u4e00-\u9fff]{2,3}?)[市省]")
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
    simplified = TO_SIMPLIFIED.convert(text)
    if simplified != text:
        steps.append(f"traditional characters to simplified: {text} -> {simplified}")
        text = simplified

    def unmark(m: re.Match[str]) -> str:
        if "".join(lazy_pinyin(m.group(1))) not in PLACES:
            return m.group()
        steps.append(f"place marker removed: {m.group()} -> {m.group(1)}")
        return m.group(1)

    text = PLACE_MARK.sub(unmark, text)
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
    if not CAMEL.search(text):
        return text

    def split(m: re.Match[str]) -> str:
        word = m.group()
        if word.casefold() in vocab or word.casefold() in LEGAL or not CAMEL.search(word):
            return word
        spaced = CAMEL.sub(" ", word)
        steps.append(f"camel case split: {word} -> {spaced}")
        return spaced

    return LATIN_WORD.sub(split, text)


def _join_letters(tokens: list[str]) -> list[str]:
    """Runs of single letters are initials: "s a" (S.A.) -> "sa", "l l c" -> "llc"; a run
    of legal forms stays apart ("s a b v", S.A. B.V. -> "sa bv")."""
    if min(map(len, tokens), default=2) > 1:
        return tokens
    out: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        if len(run) > 1:
            joined = "".join(run)
            out.extend([joined] if joined in LEGAL else _word_break(joined, LEGAL) or [joined])
        else:
            out.extend(run)
        run = []
        if token:
            out.append(token)
    return out


def _strip_legal(tokens: list[str], steps: list[str]) -> list[str]:
    kept = [t for t in tokens if t not in LEGAL_ANYWHERE]
    removed = [t for t in tokens if t not in kept]
    # a trailing form may be followed by a place: "Pampas Research S.A. (Argentina)"
    end = len(kept)
    while end and kept[end - 1] in PLACES:
        end -= 1
    while end and kept[end - 1] in LEGAL_TRAILING:
        removed.append(kept.pop(end - 1))
        end -= 1
    if removed:
        steps.append(f"legal form removed: {' '.join(removed)}")
    return kept


def _respace(tokens: list[str], vocab: frozenset[str], steps: list[str]) -> list[str]:
    """Pinyin spacing: join pieces that make a known word, split run-together words."""
    if vocab.issuperset(tokens):  # only pieces not in the vocabulary join or split
        return tokens
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
        if token in EXPANSIONS:
            what, token_as = EXPANSIONS[token]
            steps.append(f"{what}: {token} -> {token_as}")
            out.extend(token_as.split())
        else:
            out.append(token)
    return out


def _spelling(text: str, steps: list[str]) -> str:
    def american(m: re.Match[str]) -> str:
        steps.append(f"spelling: {m.group()} -> {SPELLINGS[m.group()]}")
        return SPELLINGS[m.group()]

    return SPELLING_RE.sub(american, text)


def _fold_accents(text: str) -> str:
    """Latin letters without their accents (beschränkter -> beschrankter); other scripts kept."""
    if text.isascii():
        return text
    out = []
    for char in text:
        if ord(char) > 127 and char.isalpha():
            base = unicodedata.normalize("NFKD", char)[0]
            char = base if base.isascii() else char
        out.append(char)
    return "".join(out)


def _strip_legal_phrases(text: str, steps: list[str]) -> str:
    found = LEGAL_PHRASE_RE.findall(text)
    if not found:
        return text
    steps.append(f"legal form removed: {'; '.join(found)}")
    return LEGAL_PHRASE_RE.sub(" ", text)


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
    unaccented = _fold_accents(lower)
    if unaccented != lower:
        steps.append("accents removed")
        lower = unaccented
    lower = lower.replace("&", " and ")
    if PUNCTUATION.search(lower):
        steps.append("punctuation removed")
    lower = INITIAL_DOTS.sub("", APOSTROPHES.sub("", lower))
    lower = " ".join(SEPARATORS.sub(" ", lower).split())
    lower = PLACE_PHRASE_RE.sub(lambda m: PLACE_PHRASES[m.group()], lower)
    lower = TERM_PHRASE_RE.sub(lambda m: TERM_PHRASES[m.group()], lower)
    lower = _strip_legal_phrases(_spelling(lower, steps), steps)
    tokens = _strip_legal(_join_letters(lower.split()), steps)
    if vocab is not None:
        tokens = _respace(tokens, vocab, steps)
    tokens = _expand(tokens, steps)
    return Normalised(text, tuple(tokens), tuple(dict.fromkeys(steps)))


def _plain(norm: Normalised, vocab: frozenset[str]) -> bool:
    """Nothing a vocabulary changes: no Chinese script, camel case or word to re-space."""
    text = norm.original
    return text.isascii() and not CAMEL.search(text) and vocab.issuperset(norm.tokens)


def _deletions(token: str) -> set[str]:
    return {token[:i] + token[i + 1 :] for i in range(len(token))}


def _near(token: str, tokens: Iterable[str]) -> bool:
    """`token` is among `tokens`, or one edit from one after the same first letter."""
    if token in tokens:
        return True
    if len(token) < FUZZY_MIN_LEN:
        return False
    return any(
        len(other) >= FUZZY_MIN_LEN
        and other[0] == token[0]
        and OSA.distance(token, other, score_cutoff=1) <= 1
        for other in tokens
    )


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
    initials: str  # "Semiconductor Manufacturing International Corporation" -> "smic"


@dataclass
class _Scored:
    score: float
    reasons: list[str]
    conflict: frozenset[str] = frozenset()  # places in the name that are not the customer's
    own: frozenset[str] = frozenset()  # places in the name that are the customer's
    missing: bool = False  # the alias names a place the name does not


@dataclass
class _Candidate:
    customer: Customer
    total: float
    scored: _Scored
    alias: _Alias
    reasons: list[str]


def _typo(a: str, b: str) -> bool:
    """One slip between two words (a letter dropped, added or swapped), not another word.

    A substituted letter makes a different word of a short one ("Sophos" is not
    "Sophgo", "Hygen" not "Hygon"), so it counts only in longer words ("Yangtse"); and
    a slip is rarely in the first letter ("Artin" is not "Martin", "Castor" not "Astor").
    """
    if not _near(a, (b,)) or a == b:
        return False
    substituted = len(a) == len(b) and sorted(a) != sorted(b)
    return not substituted or len(a) >= FUZZY_SUBSTITUTION_LEN


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
        extra |= frozenset(PINYIN_TERMS)
        # Two passes: words read without re-spacing, then the aliases re-spaced by them
        # (a transliterated 智谱华章 "zhipuhuazhang" splits into "zhipu huazhang"). A plain
        # name (ASCII, no camel case, every word in the vocabulary) reads the same in all.
        plain = [normalise(n) for _, n in raw]
        first = frozenset(t for norm in plain for t in norm.tokens if len(t) > 1) | extra

        def again(vocab: frozenset[str]) -> list[Normalised]:
            return [
                norm if _plain(norm, vocab) else normalise(norm.original, vocab) for norm in plain
            ]

        second = frozenset(t for norm in again(first) for t in norm.tokens if len(t) > 1)
        self.vocab = second | extra
        self.aliases: list[_Alias] = []
        for (i, name), norm in zip(raw, again(self.vocab), strict=True):
            if not norm.tokens:  # only a legal form: "Ltd." split off "Co., Ltd."
                self.ignored_aliases.append((self.customers[i].id, name))
                continue
            distinctive = frozenset(t for t in norm.tokens if self._kind(t) == "distinctive")
            initials = "".join(w[0] for w in re.findall(r"[A-Za-z0-9]+", name)).casefold()
            self.aliases.append(_Alias(i, name, norm, distinctive, initials))
        self._aliases_of: dict[int, list[int]] = {}
        for n, alias in enumerate(self.aliases):
            self._aliases_of.setdefault(alias.customer, []).append(n)
        # a customer's places and words, worked out when it is first a candidate
        self._places: dict[int, frozenset[str]] = {}
        self._words: dict[int, frozenset[str]] = {}
        self._children: dict[str, list[str]] = {}
        for c in self.customers:
            if c.parent and c.parent in self._by_id:
                self._children.setdefault(c.parent, []).append(c.id)
        # At the usual thresholds a match pairs every distinctive word of the alias, so an
        # alias is indexed by its rarest one only (the anchor); the index of every word is
        # built when a threshold low enough to show partial matches asks for it.
        df = Counter(t for alias in self.aliases for t in alias.distinctive)
        self._anchor = self._build_index(
            lambda a: frozenset(
                sorted((t for t in a.distinctive if len(t) > 1), key=lambda t: (df[t], -len(t)))[:1]
            )
        )
        self._full: dict[str, list[int]] | None = None

    # -- building blocks

    def _kind(self, token: str) -> str:
        if token in self.places:
            return "place"
        if token in GENERIC:
            return "generic"
        return "distinctive"

    def _places_of(self, ci: int) -> frozenset[str]:
        if ci not in self._places:
            self._places[ci] = self._customer_places(self.customers[ci])
        return self._places[ci]

    def _words_of(self, ci: int) -> frozenset[str]:
        """Every word of every name of the customer."""
        if ci not in self._words:
            aliases = self._aliases_of.get(ci, [])
            self._words[ci] = frozenset(t for n in aliases for t in self.aliases[n].norm.tokens)
        return self._words[ci]

    def _family(self, customer: Customer) -> list[Customer]:
        """The customer, and its parent when the portfolio holds it."""
        if customer.parent and customer.parent in self._by_id:
            return [customer, self.customers[self._by_id[customer.parent]]]
        return [customer]

    def _customer_places(self, customer: Customer) -> frozenset[str]:
        places: set[str] = set()
        for c in self._family(customer):
            if c.city:
                tokens = normalise(c.city).tokens
                places.update(tokens)
                places.add("".join(tokens))
                places.update(PROVINCE_OF[t] for t in tokens if t in PROVINCE_OF)
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

    def _build_index(self, words: Callable[[_Alias], frozenset[str]]) -> dict[str, list[int]]:
        index: dict[str, list[int]] = {}
        for n, alias in enumerate(self.aliases):
            usable = words(alias) if any(len(t) > 1 for t in alias.distinctive) else frozenset()
            for key in self._keys(alias.norm.tokens, usable, index=True):
                index.setdefault(key, []).append(n)
        return index

    def candidates(self, name: str) -> set[str]:
        """Ids of the customers that blocking lets through for `name`."""
        query = normalise(name, self.vocab)
        found = self._candidates(query, self.threshold, 0)
        return {self.customers[self.aliases[n].customer].id for n in found}

    def _candidates(self, query: Normalised, limit: int, bonus: int) -> list[int]:
        """Aliases sharing a distinctive word (or its one-edit neighbour) with the name,
        less those that cannot reach `limit`: every distinctive word on either side that
        can pair with nothing costs DISTINCT_PENALTY, so it is known without scoring."""
        distinctive = frozenset(t for t in query.tokens if self._kind(t) == "distinctive")
        keys = self._keys(query.tokens, distinctive, index=False)
        if limit + DISTINCT_PENALTY > 100 + bonus:
            index = self._anchor
        else:
            if self._full is None:
                self._full = self._build_index(lambda a: a.distinctive)
            index = self._full
        hits: set[int] = set()
        for key in keys:
            hits.update(index.get(key, ()))
        allowed = (100 + bonus - max(limit, 1)) // DISTINCT_PENALTY
        in_name: dict[str, bool] = {}  # an alias word pairs with a word of the name

        def reachable(alias: _Alias) -> bool:
            """No more distinctive words beyond pairing, on either side, than `allowed`:
            an alias word absent from the name, a name word absent from the alias and not
            explained by the customer's other names (a bound, not a score)."""
            left = allowed
            for t in alias.distinctive:
                if t not in in_name:
                    in_name[t] = _near(t, query.tokens)
                if not in_name[t]:
                    left -= 1
                    if left < 0:
                        return False
            for t in distinctive - self._words_of(alias.customer):
                if not (len(t) >= 3 and alias.initials.startswith(t)) and not _near(
                    t, alias.distinctive
                ):
                    left -= 1
                    if left < 0:
                        return False
            return True

        return sorted(n for n in hits if reachable(self.aliases[n]))

    # -- scoring

    def _compare(
        self, query: Normalised, alias: _Alias, stated: frozenset[str] = frozenset()
    ) -> _Scored:
        """Score `query` against one alias; `stated` are places an address gives."""
        qt, at = list(query.tokens), list(alias.norm.tokens)
        pairs: dict[int, int] = {}
        for i, token in enumerate(qt):
            for j, other in enumerate(at):
                if j not in pairs.values() and token == other:
                    pairs[i] = j
                    break
        for i, token in enumerate(qt):
            if i in pairs or self._kind(token) != "distinctive":
                continue
            for j, other in enumerate(at):
                free = j not in pairs.values() and self._kind(other) == "distinctive"
                if free and _typo(token, other):
                    pairs[i] = j
                    break
        if not pairs:
            return _Scored(0, ["no word in common"])
        q_core = " ".join(qt[i] for i in sorted(pairs))
        typos = [(qt[i], at[j]) for i, j in sorted(pairs.items()) if qt[i] != at[j]]
        core = 100 - TYPO_PENALTY * len(typos)  # word order is free
        q_rest = [t for i, t in enumerate(qt) if i not in pairs]
        a_rest = [t for j, t in enumerate(at) if j not in pairs.values()]
        reasons = [f"words paired: {q_core!r}"]
        reasons += [f"-{TYPO_PENALTY} typo: {q!r} for {a!r}" for q, a in typos]
        if q_rest or a_rest:
            whole = fuzz.token_set_ratio(query.text, alias.norm.text)
            reasons.append(f"token_set_ratio {whole:.0f}, less the unmatched words:")

        paired_kinds = {self._kind(at[j]) for j in pairs.values()}
        if "distinctive" not in paired_kinds:
            all_alias = not a_rest and not alias.distinctive
            only_places = all(self._kind(t) == "place" for t in q_rest)
            if not (all_alias and only_places):
                return _Scored(0, [f"only generic words or places in common ({q_core!r})"])

        places = self._places_of(alias.customer)
        own = frozenset(t for t in qt if self._kind(t) == "place" and t in places)
        penalty = 0.0
        paired = [at[j] for j in pairs.values() if self._kind(at[j]) == "distinctive"]
        if all(len(t) <= ACRONYM_LEN for t in paired) and (q_rest or len(qt) == 1):
            # "MTT" alone: an exact acronym is a lead, weaker than a name
            points = (
                ACRONYM_PENALTY if max(map(len, paired)) == ACRONYM_LEN else SHORT_ACRONYM_PENALTY
            )
            penalty += points
            reasons.append(f"-{points} only a short acronym in common")
        # A word of the customer's other names ("Yangtze Memory Technologies (YMTC)",
        # "HiSilicon Semiconductor" for 海思半导体), or the alias's initials, is explained.
        known = self._words_of(alias.customer)
        explained = [
            t for t in q_rest if self._kind(t) != "place"
            and (t in known or (len(t) >= 3 and alias.initials.startswith(t)))
        ]  # fmt: skip
        if explained:
            q_rest = [t for t in q_rest if t not in explained]
            words = ", ".join(map(repr, explained))
            reasons.append(f"{words} also in the customer's names or initials")

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
        # A country before the name is part of it ("Taiwan Semiconductor Manufacturing");
        # any other place qualifies it: a branch or subsidiary ("Huawei Technologies
        # (Thailand)", "Shanghai Huawei Technologies"). A place the alias has instead
        # ("(Beijing)" -> "(Shanghai)") is the same qualifier replaced, not a second one.
        first = min(pairs)
        rest = [(i, t) for i, t in enumerate(qt) if i not in pairs and self._kind(t) == "place"]
        leading = [t for i, t in rest if t not in places and t in COUNTRY_WORDS and i < first]
        qualifiers = [t for i, t in rest if t not in places and t not in leading]
        cost(LEADING_COUNTRY_PENALTY, leading, "country before the name, not the customer's:")
        cost(PLACE_CONFLICT_PENALTY, qualifiers, "place(s) not the customer's:")
        named_own = [t for _, t in rest if t in places]
        if named_own:
            reasons.append(f"place {', '.join(map(repr, named_own))} in the name is the customer's")
        a_places = [t for t in a_rest if self._kind(t) == "place"]
        given = [t for t in a_places if t in stated]
        if given:
            reasons.append(f"place {', '.join(map(repr, given))} of the alias is in the address")
        unstated = [t for t in a_places if t not in stated]
        swapped, unmatched = unstated[: len(qualifiers)], unstated[len(qualifiers) :]
        if swapped:
            reasons.append(f"alias place {', '.join(map(repr, swapped))} replaced in the name")
        cost(PLACE_MISSING_PENALTY, unmatched, "place(s) only in the alias:")
        conflict = frozenset(leading + qualifiers)
        return _Scored(max(0.0, core - penalty), reasons, conflict, own, bool(unstated))

    def _corroborate(
        self, customer: Customer, code: str | None, addr: Normalised | None
    ) -> tuple[float, list[str]]:
        """Points for a country (`code`, from `country_code`) and an address (normalised)
        given with the name that agree with the customer's or its parent's."""
        bonus, reasons = 0.0, []
        family = self._family(customer)
        if code is not None:
            owners = [c for c in family if c.country and c.country.upper() == code]
            if owners:
                bonus += COUNTRY_BONUS
                whose = "customer's" if owners[0] is customer else f"parent {owners[0].id}'s"
                reasons.append(f"+{COUNTRY_BONUS} country {code} is the {whose}")
            else:
                reasons.append(
                    f"country {code} differs from the customer's ({customer.country or '?'})"
                )
        if addr is not None:
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
        # the country and address given, read once for every candidate
        code = country_code(country) if country else None
        addr = normalise(address) if address else None
        stated = frozenset(t for t in addr.tokens if t in self.places) if addr else frozenset()
        bonus = (COUNTRY_BONUS if country else 0) + (ADDRESS_BONUS if address else 0)
        customers = {self.aliases[n].customer for n in self._candidates(query, limit, bonus)}
        found: list[_Candidate] = []
        folded = name.casefold()
        for ci in sorted(customers):
            customer = self.customers[ci]
            self.last_candidates.add(customer.id)
            ranked = []
            for n in self._aliases_of[ci]:
                self.last_comparisons += 1
                alias = self.aliases[n]
                scored = self._compare(query, alias, stated)
                literal = fuzz.ratio(folded, alias.name.casefold())  # breaks ties
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
                bonus, why = self._corroborate(customer, code, addr)
                total += bonus
                reasons.extend(why)
            if round(min(100.0, total)) >= limit and total > 0:
                found.append(_Candidate(customer, total, scored, alias, reasons))
        self.comparisons += self.last_comparisons
        direct = [
            Match(c.customer.id, round(min(100.0, c.total)), c.reasons, c.alias.name)
            for c in _set_aside(found)
        ]
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


def _set_aside(found: list[_Candidate]) -> list[_Candidate]:
    """Drop the customers another one explains better by place, and say so on the winner.

    "Hangzhou Biren" is biren-hangzhou's, whose place it names, not biren's (Beijing) with
    a foreign qualifier; bare "Biren" is biren's, not the branch alias "Guangzhou Biren"'s
    without its place.
    """
    kept = []
    for c in found:
        if c.scored.conflict:
            winners = [
                o for o in found if o is not c and o.scored.own & c.scored.conflict
                and o.total >= c.total
            ]  # fmt: skip
            why = f"the name's place {', '.join(sorted(c.scored.conflict))} is this customer's"
        elif c.scored.missing:
            winners = [
                o for o in found if o is not c and not o.scored.conflict
                and not o.scored.missing and o.total >= c.total
            ]  # fmt: skip
            why = f"its alias {c.alias.name!r} adds a place the name does not give"
        else:
            winners = []
        if winners:
            winners[0].reasons.append(
                f"{c.customer.id} set aside (it scored {round(min(100.0, c.total))}): {why}"
            )
        else:
            kept.append(c)
    return kept


def country_code(value: str) -> str:
    """ISO alpha-2 for a code or a country name ("China", "Hong Kong"); else as given.
    The countries table decides; the place words of company names are the fallback."""
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    found = countries.code_of(text)
    if found is not None:
        return found
    tokens = normalise(text).tokens
    joined = "".join(tokens)
    for code, names in COUNTRY_NAMES.items():
        if joined in names or any(t in names for t in tokens):
            return code
    return text.upper()
