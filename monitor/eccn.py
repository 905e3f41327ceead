"""ECCN threshold parameters: 3A090 paragraphs as numeric tests, and chips judged against them.

A classification paragraph (``3A090.a``) is a `Threshold`: a boolean combination
(`any_of` / `all_of`) of `Comparison`s on four parameters, ``tpp``,
``performance_density``, ``bidirectional_transfer_rate_gbs`` and
``memory_bandwidth_density``. `parse_parameters` reads them from ECCN text as the
Commerce Control List prints it; the rule sets themselves are data
(`monitor/knowledge/data/controls.yaml`); `classify` puts a portfolio chip in the
most restrictive paragraph it meets; `crossings` says which chips change class
between two rule sets, and why, in one line.

Missing figures are never guessed: a test on a parameter the chip does not have is
*unknown* (three-valued logic), so "TPP >= 4800 and transfer rate >= 600 GB/s" is
unknown for a chip of TPP 4992 without a transfer rate, but false for one of TPP
2368. A chip whose class hangs on an unknown test is classified `UNKNOWN`, not "not
3A090".
"""

from __future__ import annotations

import math
import operator
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

from monitor.text import skip_back, word_before

# --- parameters and tests -------------------------------------------------------------


@dataclass(frozen=True)
class ParameterInfo:
    label: str  # short form in reasons: "TPP", "PD"
    unit: str  # appended to numbers: " GB/s"
    test_name: str  # what the test is called when it disappears: "interconnect"


PARAMETERS: dict[str, ParameterInfo] = {
    "tpp": ParameterInfo("TPP", "", "TPP"),
    "performance_density": ParameterInfo("PD", "", "performance density"),
    "bidirectional_transfer_rate_gbs": ParameterInfo("transfer rate", " GB/s", "interconnect"),
    "memory_bandwidth_density": ParameterInfo(
        "memory bandwidth density", " GB/s/mm²", "memory bandwidth density"
    ),
}
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<": operator.lt,
    "<=": operator.le,
}
NEGATION = {">=": "<", ">": "<=", "<": ">=", "<=": ">"}
UNKNOWN = "unknown"
"""`classify`'s answer when a missing parameter leaves the class open."""

ItemKind = Literal["logic", "hbm"]


def _num(value: float, against: float | None = None) -> str:
    """A number for people: 4992, 6.04; more digits when rounding would hide a difference."""
    if float(value).is_integer():
        return str(int(value))
    text = ""
    for digits in range(2, 7):
        text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
        if against is None or value == against or text != _num(against):
            return text
    return text


@dataclass(frozen=True)
class Comparison:
    """One numeric test: ``parameter op value`` (e.g. tpp >= 4800)."""

    parameter: str
    op: str
    value: float

    def __post_init__(self) -> None:
        if self.parameter not in PARAMETERS:
            raise ValueError(f"unknown parameter {self.parameter!r}")
        if self.op not in OPERATORS:
            raise ValueError(f"unknown operator {self.op!r}")
        object.__setattr__(self, "value", float(self.value))

    def test(self, values: Mapping[str, float]) -> bool | None:
        """True or False, or None when the parameter is unknown."""
        have = values.get(self.parameter)
        return None if have is None else OPERATORS[self.op](have, self.value)

    def clauses(self) -> tuple[tuple[Comparison, ...], ...]:
        return ((self,),)

    def parameters(self) -> frozenset[str]:
        return frozenset({self.parameter})

    def __str__(self) -> str:
        info = PARAMETERS[self.parameter]
        return f"{info.label} {self.op} {_num(self.value)}{info.unit}"


@dataclass(frozen=True)
class Criterion:
    """Any-of or all-of a number of tests (comparisons or nested criteria)."""

    mode: Literal["any", "all"]
    items: tuple[Condition, ...]

    def test(self, values: Mapping[str, float]) -> bool | None:
        """Kleene's three-valued logic: an unknown test leaves the answer open only if it
        could change it (any-of with one true item is true, all-of with one false is false)."""
        results = [item.test(values) for item in self.items]
        decisive = self.mode == "any"
        if decisive in results:
            return decisive
        return None if None in results else not decisive

    def clauses(self) -> tuple[tuple[Comparison, ...], ...]:
        """Disjunctive normal form: the alternatives, each a conjunction of comparisons."""
        if self.mode == "any":
            found = [c for item in self.items for c in item.clauses()]
        else:
            found = [()]
            for item in self.items:
                found = [(*left, *right) for left in found for right in item.clauses()]
        clauses = [tuple(dict.fromkeys(clause)) for clause in found]
        return tuple(dict.fromkeys(clauses))

    def parameters(self) -> frozenset[str]:
        return frozenset().union(*(item.parameters() for item in self.items))

    def __str__(self) -> str:
        joiner = " or " if self.mode == "any" else " and "
        return joiner.join(
            f"({item})" if isinstance(item, Criterion) else str(item) for item in self.items
        )


Condition = Comparison | Criterion


def _combine(mode: Literal["any", "all"], items: Iterable[Condition]) -> Condition:
    flat: list[Condition] = []
    for item in items:
        if isinstance(item, Criterion) and item.mode == mode:
            flat.extend(item.items)
        else:
            flat.append(item)
    if not flat:
        raise ValueError(f"{mode}_of needs at least one test")
    return flat[0] if len(flat) == 1 else Criterion(mode, tuple(flat))


def any_of(*items: Condition) -> Condition:
    """At least one of `items` holds (nested any-ofs are flattened, one item is itself)."""
    return _combine("any", items)


def all_of(*items: Condition) -> Condition:
    """Every one of `items` holds (nested all-ofs are flattened, one item is itself)."""
    return _combine("all", items)


def _canonical(condition: Condition) -> frozenset[frozenset[Comparison]]:
    return frozenset(frozenset(clause) for clause in condition.clauses())


@dataclass(frozen=True)
class Threshold:
    """A classification paragraph and the test an item must pass to fall under it."""

    paragraph: str  # "3A090.a"
    criterion: Condition
    applies_to: ItemKind = "logic"  # "hbm": tests memory stacks, not logic ICs (3A090.c)

    def test(self, values: Mapping[str, float]) -> bool | None:
        return self.criterion.test(values)

    def parameters(self) -> frozenset[str]:
        return self.criterion.parameters()

    def equivalent(self, other: Threshold) -> bool:
        """Same paragraph, same items, same test up to order and nesting."""
        return (
            self.paragraph == other.paragraph
            and self.applies_to == other.applies_to
            and _canonical(self.criterion) == _canonical(other.criterion)
        )

    def __str__(self) -> str:
        scope = " (HBM)" if self.applies_to == "hbm" else ""
        return f"{self.paragraph}{scope}: {self.criterion}"


@dataclass(frozen=True)
class RuleSet:
    """The paragraphs of one version of the rules, most restrictive first."""

    name: str
    document: str  # FR document number
    citation: str
    effective: str
    thresholds: tuple[Threshold, ...]

    def __iter__(self):
        return iter(self.thresholds)

    def __len__(self) -> int:
        return len(self.thresholds)

    def get(self, paragraph: str) -> Threshold | None:
        return next((t for t in self.thresholds if t.paragraph == paragraph), None)

    def parameters(self) -> frozenset[str]:
        return frozenset().union(*(t.parameters() for t in self.thresholds))


Rules = RuleSet | Sequence[Threshold]

_TPP, _PD = "tpp", "performance_density"


# --- chips ----------------------------------------------------------------------------


def _getter(chip: Any) -> Callable[[str], Any]:
    if isinstance(chip, Mapping):
        return chip.get
    return lambda key: getattr(chip, key, None)


def chip_label(chip: Any) -> str:
    """A short name for reasons: "A800" for "NVIDIA A800"."""
    get = _getter(chip)
    name = str(get("name") or get("id") or "?")
    bare = re.sub(r"\s*\(.*?\)", "", name).strip() or name
    vendor = get("vendor")
    if vendor and bare.lower().startswith(str(vendor).lower() + " "):
        bare = bare[len(vendor) + 1 :].strip()
    return bare


def chip_parameters(
    chip: Any, extra: Mapping[str, float] | None = None
) -> tuple[dict[str, float], list[str]]:
    """The chip's known parameters, and notes on how they were obtained.

    `chip` is a portfolio `Chip`, or any object or mapping with the same field names;
    a parameter the Chip model does not carry (a transfer rate) comes from the mapping
    or from `extra`. A missing performance density is computed as TPP / die area when
    both are known, and a note says so.
    """
    get = _getter(chip)
    values: dict[str, float] = {}
    for name in PARAMETERS:
        raw = extra[name] if extra and name in extra else get(name)
        if raw is not None:
            values[name] = float(raw)
    notes: list[str] = []
    tpp, area = values.get(_TPP), get("die_area_mm2")
    if tpp is not None and area:
        computed = tpp / float(area)
        stated = values.get(_PD)
        if stated is None:
            values[_PD] = computed
            notes.append(
                f"PD {_num(computed)} computed as TPP {_num(tpp)} / die area {_num(area)} mm²"
            )
        elif not math.isclose(stated, computed, rel_tol=0.01):
            notes.append(
                f"stated PD {_num(stated)} differs from TPP / die area = {_num(computed)}; "
                "the stated figure is used"
            )
    return values, notes


# --- classification -------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """A comparison that holds for the chip: ``value op bound`` (TPP 4992 >= 4800)."""

    parameter: str
    value: float
    op: str
    bound: float

    @classmethod
    def of(cls, comparison: Comparison, values: Mapping[str, float], holds: bool) -> Fact:
        op = comparison.op if holds else NEGATION[comparison.op]
        return cls(comparison.parameter, values[comparison.parameter], op, comparison.value)

    def __str__(self) -> str:
        info = PARAMETERS[self.parameter]
        value = _num(self.value, self.bound)
        return f"{info.label} {value}{info.unit} {self.op} {_num(self.bound)}{info.unit}"


def _tightest(facts: Iterable[Fact]) -> list[Fact]:
    """Keep, per parameter and direction, the fact that implies the others
    (TPP 2368 < 2400 implies TPP 2368 < 4800)."""
    best: dict[tuple[str, bool], Fact] = {}
    for fact in facts:
        above = fact.op in (">", ">=")
        key = (fact.parameter, above)
        old = best.get(key)
        if old is None:
            best[key] = fact
            continue
        stronger = fact.bound > old.bound if above else fact.bound < old.bound
        strict = fact.op in (">", "<") and old.op not in (">", "<")
        if stronger or (fact.bound == old.bound and strict):
            best[key] = fact
    return list(best.values())


def render_facts(facts: Iterable[Fact]) -> str:
    """Facts in parameter order, a lower and an upper bound as one range:
    "2400 <= TPP 3000 < 4800"."""
    facts = list(facts)
    parts: list[str] = []
    for name, info in PARAMETERS.items():
        mine = [f for f in facts if f.parameter == name]
        lows = [f for f in mine if f.op in (">", ">=")]
        highs = [f for f in mine if f.op in ("<", "<=")]
        if len(lows) == 1 and len(highs) == 1:
            low, high = lows[0], highs[0]
            flipped = {">": "<", ">=": "<="}[low.op]
            value = max(_num(low.value, low.bound), _num(low.value, high.bound), key=len)
            parts.append(
                f"{_num(low.bound)}{info.unit} {flipped} {info.label} {value}{info.unit}"
                f" {high.op} {_num(high.bound)}{info.unit}"
            )
        else:
            parts.extend(str(f) for f in mine)
    return "; ".join(parts)


def _parameter_names(names: Iterable[str]) -> str:
    wanted = set(names)
    labels = [PARAMETERS[n].label for n in PARAMETERS if n in wanted]
    return " and ".join(labels)


@dataclass(frozen=True)
class Assessment:
    """A chip judged against one rule set, with the figures and tests behind the answer."""

    chip_id: str
    label: str
    family: str  # "3A090"
    result: str | None  # the paragraph, None (not in the family) or UNKNOWN
    status: dict[str, bool | None]  # each applicable paragraph: met, not met, unknown
    values: dict[str, float]
    facts: tuple[Fact, ...]  # why: the tests met (a class) or failed (no class)
    open_tests: tuple[Comparison, ...]  # tests left unknown by missing figures
    notes: tuple[str, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.parameter for c in self.open_tests))

    @property
    def name(self) -> str:
        return result_name(self.result, self.family)

    @property
    def why(self) -> str:
        shown = render_facts(self.facts)
        if self.result != UNKNOWN:
            return shown
        need = f"{_parameter_names(self.missing)} not known"
        return f"{need}; {shown}" if shown else need

    @property
    def explanation(self) -> str:
        text = f"{self.label}: {self.name}"
        if self.why:
            text += f" ({self.why})"
        return "; ".join([text, *self.notes])


def result_name(result: str | None, family: str = "3A090") -> str:
    return f"not {family}" if result is None else result


def _family(rules: Rules) -> str:
    families = list(dict.fromkeys(t.paragraph.split(".")[0] for t in rules))
    return "/".join(families) or "3A090"


def _item_kind(chip: Any) -> ItemKind:
    kind = str(_getter(chip)("kind") or "logic").lower()
    return "hbm" if kind in ("hbm", "memory") else "logic"


def assess(chip: Any, rules: Rules, *, extra: Mapping[str, float] | None = None) -> Assessment:
    """Judge `chip` against `rules` (most restrictive paragraph first) and say why.

    The result is the first paragraph met; None when every paragraph that applies to the
    item is decidedly not met; `UNKNOWN` as soon as a paragraph (before any met) cannot be
    decided because a figure is missing. Paragraphs for another kind of item (3A090.c
    tests HBM stacks) are skipped for a logic IC, and the other way round; a chip is a
    logic IC unless its `kind` says "hbm".
    """
    get = _getter(chip)
    values, notes = chip_parameters(chip, extra)
    kind = _item_kind(chip)
    applicable = [t for t in rules if t.applies_to == kind]
    status = {t.paragraph: t.test(values) for t in applicable}
    result: str | None = None
    facts: list[Fact] = []
    open_tests: list[Comparison] = []
    for threshold in applicable:
        outcome = status[threshold.paragraph]
        if outcome is False:
            continue
        clauses = threshold.criterion.clauses()
        if outcome:
            result = threshold.paragraph
            witness = next(c for c in clauses if all(x.test(values) for x in c))
            facts = [Fact.of(x, values, True) for x in witness]
        else:
            result = UNKNOWN
            for clause in clauses:
                tests = [(x, x.test(values)) for x in clause]
                if any(r is False for _, r in tests):
                    continue
                open_tests.extend(x for x, r in tests if r is None)
                facts.extend(Fact.of(x, values, True) for x, r in tests if r)
            later = [p for p, s in status.items() if s and p != threshold.paragraph]
            if later:
                notes.append(f"meets {later[0]} at least; {threshold.paragraph} is open")
        break
    else:
        # not met: every alternative of every paragraph fails on at least one test
        for threshold in applicable:
            for clause in threshold.criterion.clauses():
                facts.extend(Fact.of(x, values, False) for x in clause if x.test(values) is False)
        facts = _tightest(facts)
    return Assessment(
        chip_id=str(get("id") or chip_label(chip)),
        label=chip_label(chip),
        family=_family(rules),
        result=result,
        status=status,
        values=values,
        facts=tuple(dict.fromkeys(facts)),
        open_tests=tuple(dict.fromkeys(open_tests)),
        notes=tuple(notes),
    )


def classify(chip: Any, rules: Rules, *, extra: Mapping[str, float] | None = None) -> str | None:
    """The most restrictive paragraph of `rules` the chip meets ("3A090.a"), None when it
    meets none (not 3A090), or `UNKNOWN` when a missing figure leaves that open.

    Uses the chip's `tpp` and `performance_density` (computed as TPP / die area when
    missing; `assess(...).notes` says so), and any other parameter from the chip mapping
    or `extra` (e.g. ``{"bidirectional_transfer_rate_gbs": 400}``).
    """
    return assess(chip, rules, extra=extra).result


# --- crossings ------------------------------------------------------------------------


@dataclass(frozen=True)
class Crossing:
    chip_id: str
    before: str | None
    after: str | None
    reason: str

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def known(self) -> bool:
        """False when either side is `UNKNOWN`: the chip may have crossed, or not."""
        return UNKNOWN not in (self.before, self.after)


def _before_part(before: Assessment, new_parameters: frozenset[str]) -> list[str]:
    """What held under the old rules, in terms of the new ones: a test that is gone (its
    parameter is tested no more), or the old figures."""
    parts: list[str] = []
    gone: dict[tuple[str, float], str] = {}

    def mark_gone(parameter: str, bound: float) -> None:
        info = PARAMETERS[parameter]
        gone.setdefault(
            (parameter, bound), f"the {_num(bound)}{info.unit} {info.test_name} test is gone"
        )

    if before.result == UNKNOWN:
        parts.append(f"before: {_parameter_names(before.missing)} not known")
        for test in before.open_tests:
            if test.parameter not in new_parameters:
                mark_gone(test.parameter, test.value)
    elif before.result is None:
        kept = []
        for fact in before.facts:
            if fact.parameter in new_parameters:
                kept.append(fact)
            else:
                mark_gone(fact.parameter, fact.bound)
        if kept:
            parts.append(f"before: {render_facts(kept)}")
    elif before.why:
        parts.append(f"before: {before.why}")
    return [*parts, *gone.values()]


def explain_change(before: Assessment, after: Assessment, new_rules: Rules) -> str:
    """One line: "A800: not 3A090 -> 3A090.a (TPP 4992 >= 4800; the 600 GB/s interconnect
    test is gone)" or "H20 stays outside 3A090 (TPP 2368 < 2400; PD 2.91 < 3.2)"."""
    family = after.family
    notes = [n for n in after.notes if n.startswith(("PD ", "stated PD"))]
    if before.result == after.result:
        if after.result is None:
            head = f"{after.label} stays outside {family}"
        elif after.result == UNKNOWN:
            head = f"{after.label} stays unknown"
        else:
            head = f"{after.label} stays {after.result}"
        parts = [after.why] if after.why else []
    else:
        head = f"{after.label}: {before.name} -> {after.name}"
        parts = [after.why] if after.why else []
        new_parameters = frozenset().union(*(t.parameters() for t in new_rules))
        parts += _before_part(before, new_parameters)
    body = "; ".join(p for p in [*parts, *notes] if p)
    return f"{head} ({body})" if body else head


def _chip_list(chips: Any) -> list[Any]:
    return list(getattr(chips, "chips", chips))


def compare(
    chips: Any,
    old_rules: Rules,
    new_rules: Rules,
    *,
    extra: Mapping[str, Mapping[str, float]] | None = None,
) -> list[Crossing]:
    """Every chip's class under `old_rules` and `new_rules`, changed or not, with a reason.

    `chips` is a `Portfolio` or a list of chips (or mappings); `extra` maps a chip id to
    figures the portfolio lacks (e.g. a transfer rate).
    """
    out: list[Crossing] = []
    for chip in _chip_list(chips):
        chip_id = str(_getter(chip)("id"))
        more = (extra or {}).get(chip_id)
        before = assess(chip, old_rules, extra=more)
        after = assess(chip, new_rules, extra=more)
        out.append(
            Crossing(
                before.chip_id,
                before.result,
                after.result,
                explain_change(before, after, new_rules),
            )
        )
    return out


def crossings(
    chips: Any,
    old_rules: Rules,
    new_rules: Rules,
    *,
    extra: Mapping[str, Mapping[str, float]] | None = None,
) -> list[Crossing]:
    """The chips whose class changes from `old_rules` to `new_rules`, each with a one-line
    reason. A change to or from `UNKNOWN` is listed too, with `known` False."""
    return [c for c in compare(chips, old_rules, new_rules, extra=extra) if c.changed]


# --- parsing CCL text -----------------------------------------------------------------


class ParseError(ValueError):
    """ECCN text whose thresholds cannot be read without guessing."""


_TRANSLATE = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "\u00a0": " ",
        "\u2009": " ",
        "²": "2",
        "–": "-",
        "—": "-",
    }
)

_PARAMETER_RE = re.compile(
    r"(?P<memory_bandwidth_density>['\"]?memory\s+bandwidth\s+density['\"]?)"
    r"|(?P<bidirectional_transfer_rate_gbs>(?:['\"]?aggregate\s+)?['\"]?bi-?directional"
    r"\s+transfer\s+rate['\"]?(?:\s+over\s+all\s+inputs\s+and\s+outputs)?)"
    r"|(?P<performance_density>['\"]?performance\s+density['\"]?(?:\s*\(['\"]?PD['\"]?\))?"
    r"|['\"]PD['\"]|\bPD\b)"
    r"|(?P<tpp>['\"]?total\s+processing\s+performance['\"]?(?:\s*\(['\"]?TPP['\"]?\))?"
    r"|['\"]TPP['\"]|\bTPP\b)",
    re.IGNORECASE,
)

_PREFIX_OPS: tuple[tuple[str, str], ...] = (
    (r"equal\s+to\s+or\s+(?:greater|more)\s+than", ">="),
    (r"(?:greater|more)\s+than\s+or\s+equal\s+to", ">="),
    (r"equal\s+to\s+or\s+less\s+than", "<="),
    (r"less\s+than\s+or\s+equal\s+to", "<="),
    (r"not\s+less\s+than", ">="),
    (r"not\s+(?:more|greater)\s+than", "<="),
    (r"not\s+(?:exceeding|in\s+excess\s+of)", "<="),
    (r"(?:of\s+)?at\s+least", ">="),
    (r"(?:of\s+)?at\s+most", "<="),
    (r"(?:greater|more)\s+than", ">"),
    (r"exceeding|in\s+excess\s+of|above", ">"),
    (r"less\s+than|fewer\s+than|below", "<"),
    (r"≥|>=", ">="),
    (r"≤|<=", "<="),
    (r">", ">"),
    (r"<", "<"),
)
_SUFFIX_OPS: tuple[tuple[str, str], ...] = (
    (r"or\s+(?:more|greater|higher|above)", ">="),
    (r"or\s+(?:less|fewer|lower|below)", "<="),
)
_PREFIX = "|".join(f"(?:\\b{p})" if p[0].isalpha() else f"(?:{p})" for p, _ in _PREFIX_OPS)
_SUFFIX = "|".join(f"(?:{p})" for p, _ in _SUFFIX_OPS)
_COMPARISON_RE = re.compile(
    rf"(?:(?P<pre>{_PREFIX})\s*)?"
    r"(?<![\w.,])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d])"
    r"(?:\s*(?P<unit>[GTM](?:B|bytes?|bits?)\s*(?:/\s*s|ps|\s+per\s+second)"
    r"(?:\s*(?:/|per)\s*(?:mm2|square\s+millimet(?:er|re)s?))?))?"
    rf"(?:\s*(?P<suf>{_SUFFIX}))?",
    re.IGNORECASE,
)
_LABEL_RE = re.compile(
    r"(?<![\w.'\"/(-])(?:(?P<letter>[a-z])\.(?:(?P<num>\d{1,2})\.)?|(?P<bare>\d{1,2})\.)(?=\s)"
)
_NOTE_RE = re.compile(
    r"(?:^|(?<=[\s.;:]))(?:Technical\s+)?Notes?\b(?:\s+\d+)?(?:\s+to\s+[^:\n]{1,80})?\s*:"
    r"|\bN\.\s?B\.\s*:"
)
_OR_RE = re.compile(r"\bor\b", re.IGNORECASE)
# a sentence saying how sub-paragraphs combine: a cue word, then "following" (see _cue)
_ANY_CUE = re.compile(r"\b(?:either|any)\b")
_ALL_CUE = re.compile(r"\b(?:all|both|each)\b")
_ONE_OR_MORE = re.compile(r"\bone or more of the following\b")
_FOLLOWING = re.compile(r"\bfollowing\b")
_HBM_CUE = re.compile(r"high[\s-]+bandwidth\s+memor|\bHBM\b", re.IGNORECASE)


def _op_of(text: str, table: tuple[tuple[str, str], ...]) -> str:
    for pattern, op in table:
        if re.fullmatch(pattern, text.strip(), re.IGNORECASE):
            return op
    raise ParseError(f"unreadable comparison {text!r}")  # pragma: no cover - regex guards it


def _unit_factor(unit: str | None) -> float:
    if not unit:
        return 1.0
    factor = {"T": 1000.0, "G": 1.0, "M": 0.001}[unit[0].upper()]
    bits = "bit" in unit.lower() or re.fullmatch(r"[GTM]bps", unit.strip())
    return factor / 8 if bits else factor


def _normalise(text: str) -> str:
    text = text.translate(_TRANSLATE)
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)  # words hyphenated across lines
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _leaf(text: str, where: str) -> Condition | None:
    """The tests in one paragraph's own text; "and" binds tighter than "or"."""
    mentions = [(m.start(), m.end(), m.lastgroup) for m in _PARAMETER_RE.finditer(text)]
    ends = [end for _, end, _ in mentions]
    found: list[tuple[int, int, Comparison, int]] = []  # start, end, test, mention index
    for m in _COMPARISON_RE.finditer(text):
        pre, suf = m.group("pre"), m.group("suf")
        if not pre and not suf:
            continue  # a bare number is no test
        if pre and suf:
            raise ParseError(f"{where}: two operators around one number: {m.group(0)!r}")
        owner = bisect_right(ends, m.start()) - 1  # the last mention ending before it
        if owner < 0:
            raise ParseError(f"{where}: {m.group(0)!r} names no parameter before it")
        parameter = mentions[owner][2]
        assert parameter is not None
        op = _op_of(pre, _PREFIX_OPS) if pre else _op_of(suf, _SUFFIX_OPS)
        value = float(m.group("num").replace(",", "")) * _unit_factor(m.group("unit"))
        found.append((m.start(), m.end(), Comparison(parameter, op, value), owner))
    if not found:
        return None
    groups: list[list[Comparison]] = [[found[0][2]]]
    for (_, end, _, owner), (start, _, test, next_owner) in pairwise(found):
        gap_end = mentions[next_owner][0] if next_owner != owner else start
        if _OR_RE.search(text[end:gap_end]):
            groups.append([test])
        else:
            groups[-1].append(test)
    return any_of(*(all_of(*g) for g in groups))


@dataclass
class _Paragraph:
    letter: str
    header: str = ""
    children: list[tuple[str, str | None]] = field(
        default_factory=list
    )  # (text, conjunction after)
    conjunction: str | None = None


def _strip_note(text: str) -> str:
    match = _NOTE_RE.search(text)
    return text[: match.start()] if match else text


def _split_conj(text: str) -> tuple[str, str | None]:
    """The text without the separators and the "and" / "or" that end it, and that word.

    Read back from the end: the pattern `[\\s,;]*(?:\\b(and|or)\\b)?[\\s,;.]*$` searched
    forward is cubic in a run of separators ("a, , , , ... b")."""
    end = skip_back(text, len(text), ",;.", space=True)
    conj = word_before(text, end, ("and", "or"), ignore_case=True)
    if not conj:
        return text[:end], None
    return text[: skip_back(text, end - len(conj), ",;", space=True)], conj.lower()


def _labels(text: str) -> list[tuple[int, int, str, int | None]]:
    """Accepted paragraph labels: (start, end, letter, sub-number), in CCL order only.

    A label must follow a boundary (start, newline, ":", ";", ".", ",", "and", "or") and
    continue the sequence (a., b., ... or z.; a.1., a.2. or 1., 2. under the current
    letter). After a note ("Note to 3A090.a:", "Technical Notes:") only the next lettered
    paragraph counts, so a note's own numbered items are not read as sub-paragraphs; a note
    with lettered items of its own (Note 1 to 3A090.a: a., b., c., each "If ...") keeps
    them: its "b." is the note's, and the paragraph b. is the one that follows the note.
    """
    out: list[tuple[int, int, str, int | None]] = []
    letter: str | None = None
    sub = 0
    last_end = 0
    in_note = False
    note_letter: str | None = None  # the last lettered item of a note's own list
    notes = [(n.start(), n.end()) for n in _NOTE_RE.finditer(text)]
    note_starts = [start for start, _ in notes]
    for m in _LABEL_RE.finditer(text):
        if not _after_boundary(text, m.start()):
            continue
        if not in_note:  # a note between the last label taken and this one
            first = bisect_left(note_starts, last_end)
            in_note = first < len(notes) and notes[first][1] <= m.start()
            note_letter = None
        if m.group("letter") and m.group("num") is None:
            new = m.group("letter")
            if in_note and _note_item(text, m.end(), new, note_letter):
                note_letter, last_end = new, m.end()
                continue
            if letter is None or new == chr(ord(letter) + 1) or (new == "z" and new > letter):
                letter, sub, in_note, last_end = new, 0, False, m.end()
                out.append((m.start(), m.end(), new, None))
            continue
        number = int(m.group("num") or m.group("bare"))
        named = m.group("letter") or letter
        if not in_note and letter is not None and named == letter and number == sub + 1:
            sub, last_end = number, m.end()
            out.append((m.start(), m.end(), letter, number))
    return out


def _after_boundary(text: str, start: int) -> bool:
    """Is a label at `start` preceded (spaces aside) by the start of the text, a newline,
    ":", ";", ".", "," or the word "and"/"or"? Looks back only as far as it must."""
    before = skip_back(text, start, " \t")
    return (
        not before or text[before - 1] in "\n:;.," or bool(word_before(text, before, ("and", "or")))
    )


def _note_item(text: str, end: int, new: str, note_letter: str | None) -> bool:
    """Inside a note, is the label at `end` an item of the note's own list? Its "a." starts
    the list; a following letter continues it when the item reads like a note's condition
    ("If the designer ...") rather than a paragraph with tests of its own."""
    if note_letter is None:
        return new == "a"
    if new != chr(ord(note_letter) + 1):
        return False
    return text[end : end + 40].lstrip().startswith("If ")


def _eccn_of(text: str, default: str) -> str:
    match = re.match(r"\s*(?:ECCN\s+)?([0-9][A-E][0-9]{3})\b", text)
    return match.group(1) if match else default


def parse_parameters(text: str, eccn: str | None = None) -> list[Threshold]:
    """Thresholds from ECCN paragraph text as the CCL prints it.

    Reads "a. ... having either of the following: a.1. A 'total processing performance'
    ('TPP') of 4800 or more; or a.2. A 'TPP' of 1600 or more and a 'performance density' of
    5.92 or more." into 3A090.a = TPP >= 4800 or (TPP >= 1600 and PD >= 5.92). Phrases: "N
    or more" / "or less", "less than N", "greater than N", "equal to or greater than N", "of
    at least N", "exceeding N", ranges "2400 or more but less than 4800"; units GB/s,
    Gbyte/s, Gbit/s and Gbps (÷ 8), GB/s/mm2. Sub-paragraphs combine as the parent says ("either /
    any of the following": any-of; "all / both of the following": all-of), else as their
    "; or" / "; and" joins say. Text before "Items:" (license requirements) and notes
    ("Note:", "Technical Notes:", "N.B.:") are skipped. The ECCN is read from the start of
    the text ("3A090 Integrated circuits ..."), else `eccn`, else 3A090.

    Only paragraphs with numeric tests are returned. Raises ParseError rather than guess:
    a number with no parameter before it, a sub-paragraph without a numeric test, or
    sub-paragraphs whose combination is not stated.
    """
    text = _normalise(text)
    code = eccn or _eccn_of(text, "3A090")
    items = re.search(r"\bItems\s*:", text)
    if items:
        text = text[items.end() :]
    labels = _labels(text)
    if not labels:
        condition = _leaf(_strip_note(text), code)
        return [Threshold(code, condition)] if condition is not None else []

    paragraphs: list[_Paragraph] = []
    for i, (_, end, letter, number) in enumerate(labels):
        stop = labels[i + 1][0] if i + 1 < len(labels) else len(text)
        body, conj = _split_conj(_strip_note(text[end:stop]))
        if number is None:
            paragraphs.append(_Paragraph(letter, body, conjunction=conj))
        else:
            paragraphs[-1].children.append((body, conj))

    out: list[Threshold] = []
    for para in paragraphs:
        label = f"{code}.{para.letter}"
        own = _leaf(para.header, label)
        children: list[Condition] = []
        for n, (body, _) in enumerate(para.children, start=1):
            condition = _leaf(body, f"{label}.{n}")
            if condition is None:
                raise ParseError(f"{label}.{n}: no numeric test in {body[:80]!r}")
            children.append(condition)
        if children:
            combined = _combine(_children_mode(para, label), children)
            own = combined if own is None else all_of(own, combined)
        if own is None:
            continue  # "[Reserved]", or a paragraph without numbers
        kind: ItemKind = "hbm" if _HBM_CUE.search(para.header) else "logic"
        out.append(Threshold(label, own, applies_to=kind))
    return out


def _cue(header: str, cue: re.Pattern[str]) -> bool:
    """A cue word and, after it in the same sentence, "following": what
    `cue[^.]*\\bfollowing\\b` says, without scanning to the sentence's end from every cue
    (quadratic in a long sentence of cue words)."""
    for sentence in header.split("."):
        found = cue.search(sentence)
        if found and _FOLLOWING.search(sentence, found.end()):
            return True
    return False


def _children_mode(para: _Paragraph, label: str) -> Literal["any", "all"]:
    header = para.header.lower()
    if _cue(header, _ANY_CUE) or _ONE_OR_MORE.search(header):
        return "any"
    if _cue(header, _ALL_CUE):
        return "all"
    joins = {conj for _, conj in para.children[:-1] if conj}
    if len(para.children) == 1:
        return "all"
    if joins == {"or"}:
        return "any"
    if joins == {"and"}:
        return "all"
    raise ParseError(f"{label}: cannot tell whether its sub-paragraphs are any-of or all-of")


# --- ECCN entries in CCL text -----------------------------------------------------------

THRESHOLD_ECCNS = ("3A090", "4A090")
_ECCN_HEAD = re.compile(r"^(?:ECCN\s+)?(\d[A-E]\d{3})\b", re.MULTILINE)


def eccn_texts(text: str) -> dict[str, str]:
    """The 3A090/4A090 entries of CCL text (each from its ECCN heading to the next)."""
    out: dict[str, str] = {}
    heads = list(_ECCN_HEAD.finditer(text))
    for i, head in enumerate(heads):
        code = head.group(1)
        if code in THRESHOLD_ECCNS:
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            out[code] = (out.get(code, "") + "\n" + text[head.start() : end]).strip()
    return out
