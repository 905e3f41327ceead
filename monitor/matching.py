"""Equal runs of two long sequences of lines, found fast: the line matching of
`monitor.diff`.

difflib.SequenceMatcher spends ~60 ms on the 22,000 lines of one document of a daily
issue even when they are all equal, and scans them again at every level of its
recursion; git diffs the whole 3 MB issue in ~30 ms. This matches the way git's
patience diff does: the equal lines at both ends are compared many at a time (list
slices compared in C); in what is left, lines found once on each side anchor the
match (the longest chain of anchors in the same order on both sides), each anchor is
extended over the equal lines after it, and what lies between two runs is matched the
same way. Where no line is found once on each side (a text printed twice, a table of
repeated cells), lines found as often on each side, and at most `RARE` times, anchor
instead, the k-th on one side to the k-th on the other (git's histogram diff picks
its rarest lines the same way). difflib only matches small remainders: a stretch with
neither kind of anchor and more than `FALLBACK` line pairs is left unmatched, so no
input costs more than a bounded amount of work per line. Lines are compared as they
are: what is equal only after normalisation is the caller's business.

`trim` and `opcodes` do the same for the words of two paragraphs: difflib looks at
what lies between their equal head and tail, a word or two when a paragraph is
revised, not the hundreds around it; past `DIRECT` word pairs (a long paragraph
revised in many places) the words are matched like lines, by anchors.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter
from collections.abc import Sequence

SMALL = 2500  # len(a) * len(b) up to which difflib matches a stretch directly
ANCHORS = 512  # anchors tried per stretch at most (every n-th line of a long one)
RARE = 8  # how often a line may occur on each side and still anchor a stretch
FALLBACK = 250_000  # len(a) * len(b) up to which difflib matches a stretch without anchors
DIRECT = 250_000  # len(a) * len(b) up to which quick_opcodes is difflib's


def equal_runs(
    a: Sequence[str], b: Sequence[str], autojunk: bool = True
) -> list[tuple[int, int, int]]:
    """(i, j, n): a[i:i+n] == b[j:j+n], in order on both sides, adjacent runs joined.
    `autojunk`: difflib's heuristic, for the small stretches it matches."""
    found: list[tuple[int, int, int]] = []
    _match(a, b, 0, len(a), 0, len(b), found, autojunk)
    runs: list[tuple[int, int, int]] = []
    for i, j, n in found:
        if runs and runs[-1][0] + runs[-1][2] == i and runs[-1][1] + runs[-1][2] == j:
            runs[-1] = (runs[-1][0], runs[-1][1], runs[-1][2] + n)
        elif n:
            runs.append((i, j, n))
    return runs


def trim(a: Sequence[str], b: Sequence[str]) -> tuple[int, int]:
    """How many items a and b share at their start, and then at their end."""
    limit = min(len(a), len(b))
    head = _head(a, b, 0, 0, limit)
    return head, _tail(a, b, len(a), len(b), limit - head)


def opcodes(
    a: Sequence[str], b: Sequence[str], autojunk: bool = False
) -> list[tuple[str, int, int, int, int]]:
    """difflib.SequenceMatcher's opcodes of a and b, its matching confined to what lies
    between their equal head and tail."""
    head, tail = trim(a, b)
    middle = quick_opcodes(a[head : len(a) - tail], b[head : len(b) - tail], autojunk)
    found = [("equal", 0, head, 0, head)] if head else []
    shifted = [(t, i1 + head, i2 + head, j1 + head, j2 + head) for t, i1, i2, j1, j2 in middle]
    if tail:
        shifted.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    for op in shifted:
        if found and op[0] == found[-1][0] == "equal":
            found[-1] = ("equal", found[-1][1], op[2], found[-1][3], op[4])
        else:
            found.append(op)
    return found


def quick_opcodes(
    a: Sequence[str], b: Sequence[str], autojunk: bool = True
) -> list[tuple[str, int, int, int, int]]:
    """difflib.SequenceMatcher(None, a, b, autojunk).get_opcodes(), without difflib when
    a side is empty or each is one item (a line replaced by another, most often); past
    `DIRECT` pairs of items, the opcodes of `equal_runs` (difflib's time grows with the
    product of the lengths, and more on repeated items)."""
    if not a or not b:
        return [("delete" if a else "insert", 0, len(a), 0, len(b))] if a or b else []
    if len(a) == len(b) == 1:
        return [("equal" if a[0] == b[0] else "replace", 0, 1, 0, 1)]
    if len(a) * len(b) <= DIRECT:
        return list(difflib.SequenceMatcher(None, a, b, autojunk=autojunk).get_opcodes())
    return runs_opcodes(equal_runs(a, b, autojunk), len(a), len(b))


def runs_opcodes(
    runs: Sequence[tuple[int, int, int]], n: int, m: int
) -> list[tuple[str, int, int, int, int]]:
    """Opcodes as difflib words them, of the equal runs of two sequences of n and m items."""
    found: list[tuple[str, int, int, int, int]] = []
    i0 = j0 = 0
    for i, j, size in [*runs, (n, m, 0)]:
        if i0 < i or j0 < j:
            tag = "replace" if i0 < i and j0 < j else "delete" if i0 < i else "insert"
            found.append((tag, i0, i, j0, j))
        if size:
            found.append(("equal", i, i + size, j, j + size))
        i0, j0 = i + size, j + size
    return found


def _head(a: Sequence[str], b: Sequence[str], i: int, j: int, limit: int) -> int:
    """How many lines are equal from a[i] and b[j] on (at most `limit`): slices of 1,
    2, 4... lines compared until one differs, then halved down to the first line that
    differs."""
    k, step = 0, 1
    while k < limit:
        if step > limit - k:
            step = limit - k
        if a[i + k : i + k + step] == b[j + k : j + k + step]:
            k += step
            step *= 2
        elif step > 1:
            step //= 2
        else:
            break
    return k


def _tail(a: Sequence[str], b: Sequence[str], i: int, j: int, limit: int) -> int:
    """How many lines are equal before a[i] and b[j] (at most `limit`), as `_head`."""
    k, step = 0, 1
    while k < limit:
        if step > limit - k:
            step = limit - k
        if a[i - k - step : i - k] == b[j - k - step : j - k]:
            k += step
            step *= 2
        elif step > 1:
            step //= 2
        else:
            break
    return k


def _anchors(a: Sequence[str], b: Sequence[str], alo: int, blo: int) -> list[tuple[int, int]]:
    """The longest chain of (i, j) pairs of lines found once on each side, in order on
    both (offset by alo, blo); failing these, of lines found as often on each side (at
    most `RARE` times), the k-th on one side paired with the k-th on the other. In a
    long stretch, every n-th line of `a` is tried first, then every n-th of those that
    could anchor."""
    once_a, once_b = Counter(a), Counter(b)
    where = dict(zip(b, range(blo, blo + len(b)), strict=True))
    step = max(1, len(a) // ANCHORS)
    pairs = [
        (alo + x, where[line])
        for x in range(0, len(a), step)
        if once_a[line := a[x]] == 1 and once_b.get(line) == 1
    ]
    if not pairs and step > 1:
        found = [x for x, line in enumerate(a) if once_a[line] == 1 and once_b.get(line) == 1]
        pairs = [(alo + x, where[a[x]]) for x in found[:: max(1, len(found) // ANCHORS)]]
    if not pairs:
        pairs = _rare_pairs(a, b, alo, blo, once_a, once_b)
    return _chain(pairs)


def _rare_pairs(
    a: Sequence[str],
    b: Sequence[str],
    alo: int,
    blo: int,
    count_a: Counter[str],
    count_b: Counter[str],
) -> list[tuple[int, int]]:
    """(i, j) of the k-th occurrence on each side of the lines found as often on both
    and at most `RARE` times (at most about `ANCHORS` of them, evenly spread)."""
    rare = {x for x, n in count_a.items() if n <= RARE and count_b.get(x) == n}
    if not rare:
        return []
    where: dict[str, list[int]] = {}
    for j, line in enumerate(b, blo):
        if line in rare:
            where.setdefault(line, []).append(j)
    seen: Counter[str] = Counter()
    pairs = []
    for x, line in enumerate(a, alo):
        if line in rare:
            k = seen[line]
            seen[line] = k + 1
            pairs.append((x, where[line][k]))
    return pairs[:: max(1, len(pairs) // ANCHORS)]


def _chain(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest chain of pairs increasing in j (they come increasing in i)."""
    js = [j for _, j in pairs]
    if js == sorted(js):
        return pairs
    # the longest increasing subsequence of j (patience sorting)
    tops: list[int] = []
    ends: list[int] = []
    previous: list[int | None] = []
    for k, j in enumerate(js):
        x = bisect.bisect_left(tops, j)
        if x == len(tops):
            tops.append(j)
            ends.append(k)
        else:
            tops[x], ends[x] = j, k
        previous.append(ends[x - 1] if x else None)
    chain = []
    at = ends[-1] if ends else None
    while at is not None:
        chain.append(pairs[at])
        at = previous[at]
    return chain[::-1]


def _match(
    a: Sequence[str],
    b: Sequence[str],
    alo: int,
    ahi: int,
    blo: int,
    bhi: int,
    out: list,
    autojunk: bool = True,
) -> None:
    """Appends the equal runs of a[alo:ahi] and b[blo:bhi] to `out`, in order."""
    head = _head(a, b, alo, blo, min(ahi - alo, bhi - blo))
    out.append((alo, blo, head))
    alo, blo = alo + head, blo + head
    tail = _tail(a, b, ahi, bhi, min(ahi - alo, bhi - blo))
    ahi, bhi = ahi - tail, bhi - tail
    size = (ahi - alo) * (bhi - blo)  # 1: one line for another, and they differ
    chain = _anchors(a[alo:ahi], b[blo:bhi], alo, blo) if size > SMALL else []
    if chain:
        i0, j0 = alo, blo
        for i, j in chain:
            if i < i0:  # inside the run of an anchor before it
                continue
            _match(a, b, i0, i, j0, j, out, autojunk)
            n = _head(a, b, i, j, min(ahi - i, bhi - j))
            out.append((i, j, n))
            i0, j0 = i + n, j + n
        _match(a, b, i0, ahi, j0, bhi, out, autojunk)
    elif 1 < size <= FALLBACK:
        matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=autojunk)
        out += [(alo + i, blo + j, n) for i, j, n in matcher.get_matching_blocks()]
    out.append((ahi, bhi, tail))
