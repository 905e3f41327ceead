"""Screening evaluation (precision, recall, F1 on labelled name variants) and scale.

Evaluation: every row of `bench/data/screening_variants.csv` (synthetic variants and
decoys of the demo customers, see bench/data/PROVENANCE.md) is screened against the demo
portfolio. A row with an `expected` customer is found when that customer is among the
direct matches; every direct match to another customer is a false match (parent and
subsidiary matches from the portfolio's `parent` field are relations, not counted).
Then every real OFAC SDN name and alias (2021, about 20,000 strings, none a demo
customer) is screened as a negative. Prints the figures and each miss and false match
with its reasons. Goal (issue 5): recall >= 0.95 at precision >= 0.95.

Scale (`--scale`): the direction a user runs when a list changes, "which of my
customers are on it?": a portfolio of `--customers` (100,000) generated company names
(see `generate_names`) is indexed once, then every SDN name and alias is screened
against it. Prints build and screening time, names/s, matches, peak RSS and, in the
same run, a baseline without blocking: rapidfuzz `process.extract` of a sample of SDN
names over all 100,000 normalised customer names (the C++ scorer, no Python per pair),
extrapolated from its median per name. Goal: <= 30 s on a 2-core machine.

    .venv/bin/python bench/screening.py [--threshold 88] [--portfolio DIR]
    .venv/bin/python bench/screening.py --scale [--customers 100000] [--sample 200]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from rapidfuzz import fuzz, process

from monitor.portfolio import Customer, Portfolio, load_portfolio
from monitor.screening import DEFAULT_THRESHOLD, LEGAL, Screener, normalise

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ROOT / "bench" / "data" / "screening_variants.csv"
PORTFOLIO = ROOT / "examples" / "demo" / "portfolio"
SDN_DIR = Path(__file__).resolve().parent / "data"  # the real OFAC SDN 2021 copies
GOAL_SECONDS = 30.0


# --- data -----------------------------------------------------------------------------


def sdn_names(folder: Path) -> tuple[list[str], list[str]]:
    """All primary names (ofac_sdn_2021_sdn.csv) and aliases (..._alt.csv), in file order,
    and the primary names of entities (not individuals, vessels or aircraft)."""
    rows: dict[str, list[list[str]]] = {}
    for file in ("ofac_sdn_2021_sdn.csv", "ofac_sdn_2021_alt.csv"):
        path = folder / file
        try:
            with path.open(encoding="utf-8", errors="replace", newline="") as fh:
                rows[file] = [r for r in csv.reader(fh) if len(r) > 3]
        except FileNotFoundError:
            sys.exit(f"error: {path}: not found (give --sdn-dir)")
    primary = [(r[1].strip(), r[2].strip()) for r in rows["ofac_sdn_2021_sdn.csv"]]
    aliases = [r[3].strip() for r in rows["ofac_sdn_2021_alt.csv"]]
    names = [n for n in [n for n, _ in primary] + aliases if n and n != "-0-"]
    return names, [n for n, kind in primary if n and kind == "-0-"]


def variants(path: Path, known: set[str]) -> list[dict[str, str]]:
    """Rows of the labelled set; `expected` must be empty or one of the `known` ids."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        sys.exit(f"error: {path}: not found")
    for n, row in enumerate(rows, start=2):
        if not row.get("name") or row.get("kind") is None:
            sys.exit(f"error: {path}:{n}: a row needs `name` and `kind`")
        if (row.get("expected") or "").strip() not in known | {""}:
            sys.exit(f"error: {path}:{n}: expected: {row['expected']!r} is no customer id")
    return rows


# --- evaluation -----------------------------------------------------------------------


def direct(screener: Screener, name: str) -> list:
    return [m for m in screener.screen(name) if m.relation == "direct"]


def why_missed(screener: Screener, name: str, expected: str) -> str:
    if expected not in screener.candidates(name):
        return "not a candidate: no distinctive word shared (blocking)"
    scored = screener.screen(name, threshold=0)
    near = {m.customer_id: m for m in scored}
    if expected not in near:
        peers = [m for m in scored if m.relation == "direct"]
        setter = [r for m in peers for r in m.reasons if r.startswith(f"{expected} set aside")]
        return setter[0] if setter else "score 0"
    m = near[expected]
    return f"score {m.score}: " + "; ".join(m.reasons)


def evaluate(screener: Screener, rows: list[dict[str, str]]) -> None:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    misses, false = [], []
    for row in rows:
        name, expected, tag = row["name"], row["expected"].strip(), row.get("round") or "1"
        found = direct(screener, name)
        ids = [m.customer_id for m in found]
        if expected and expected in ids:
            tp[tag] += 1
        elif expected:
            fn[tag] += 1
            misses.append((row, why_missed(screener, name, expected), ids))
        for m in found:
            if m.customer_id != expected:
                fp[tag] += 1
                false.append((row, m))
    print(
        f"labelled variants: {len(rows)} rows ({sum(1 for r in rows if r['expected'])} with "
        f"a customer), {len(screener.customers)} customers, threshold {screener.threshold}"
    )
    for tag in sorted({r.get("round") or "1" for r in rows}):
        print(f"  round {tag}: " + figures(tp[tag], fp[tag], fn[tag]))
    print("  all:     " + figures(sum(tp.values()), sum(fp.values()), sum(fn.values())))
    for row, why, ids in misses:
        got = f", matched {ids}" if ids else ""
        print(f"  MISS  {row['name']!r} -> {row['expected']} ({row['kind']}){got}\n        {why}")
    for row, m in false:
        print(
            f"  FALSE {row['name']!r} -> {m.customer_id} {m.score} ({row['kind']}, "
            f"expected {row['expected'] or 'none'})\n        " + "; ".join(m.reasons)
        )
    kinds = Counter(r["kind"] for r in rows)
    print("  kinds: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))


def figures(tp: int, fp: int, fn: int) -> str:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return (
        f"precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  "
        f"(found {tp}, missed {fn}, false matches {fp})"
    )


def negatives(screener: Screener, names: list[str]) -> None:
    false = [(n, m) for n in names for m in direct(screener, n)]
    print(
        f"real OFAC SDN names and aliases as negatives: {len(names)} screened, "
        f"{len(false)} false matches"
    )
    for name, m in false:
        print(f"  FALSE {name!r} -> {m.customer_id} {m.score}\n        " + "; ".join(m.reasons))


# --- scale ----------------------------------------------------------------------------

# Word lists the generated customer names are drawn from (split on spaces; "_" joins).
CITIES = (
    "Shenzhen Shanghai Beijing Guangzhou Hangzhou Suzhou Ningbo Xiamen Tianjin Chengdu Wuhan "
    "Dongguan Qingdao Dalian Nanjing Hong_Kong Taipei Singapore Dubai Mumbai London Hamburg "
    "Frankfurt Tokyo Osaka Seoul Toronto Dublin Istanbul Moscow Tehran Karachi Lagos"
)
SYLLABLES = (
    "an ao bai bao bei bo chang chen cheng da de ding dong fa fang feng fu gao guang hai "
    "hang hao he heng hong hua huan hui jia jian jie jin jing jun kai kang lan li lian "
    "lin long lu mei ming nan peng ping qi qian qing rui sen shan sheng shi shun tai tian "
    "tong wan wei wen xiang xin xing xu ya yang yi ying yong yu yuan yue zhan zhen zheng "
    "zhi zhong zhou"
)
STEMS = (
    "nor vel tri sol ark zen lum kor ast ven mar tal bri cor dex fal gal hel ion jor kes "
    "lyn mir nex orb pax quin rax sev tor ul vor wex xan yor zyl ber cal dor eph fin gor"
)
ENDINGS = "ix ara on ex ium or ia us ent ova ity eon ica ando is yx era"
WORDS = (
    "Atlas Summit Harbor Pacific Golden Silver Crown Eagle Falcon Orion Delta Apex Vertex "
    "Pioneer Liberty Sterling Beacon Horizon Meridian Northern Southern Eastern Western "
    "Blue Green Red Black White Royal Grand United Allied Premier Prime Star River Lake "
    "Ocean Mountain Valley Forest Stone Iron Cedar Oak Maple Pine Lotus Phoenix Dragon "
    "Tiger Lion Bridge Gate Tower Crest Peak Ridge Bay Point Harvest Unity Vista Nova"
)
SURNAMES = (
    "Smith Johnson Williams Brown Miller Davis Wilson Anderson Taylor Thomas Moore Martin "
    "Thompson White Harris Clark Lewis Walker Hall Young King Wright Scott Baker Adams "
    "Mueller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann Tanaka Suzuki "
    "Sato Kim Lee Park Chen Wang Li Zhang Liu Patel Shah Gupta Khan Rahman Hosseini Ivanov"
)
TRADES = (
    "Electronics Technology Trading Logistics Shipping Marine Capital Partners Holdings "
    "Industries Manufacturing Semiconductor Microelectronics Components Systems Solutions "
    "Software Networks Communications Energy Petroleum Chemicals Plastics Metals Steel "
    "Machinery Equipment Instruments Optics Photonics Automation Robotics Aerospace Aviation "
    "Medical Pharmaceuticals Foods Textiles Apparel Furniture Construction Engineering "
    "Consulting Investment Finance Insurance Realty Mining Agriculture Import_Export "
    "Data Cloud Computing Analytics Devices Materials Precision Power Display Storage"
)
LEGAL_FORMS = (
    "Co.,_Ltd. Co.,_Limited Company_Limited Ltd. Limited LLC Inc. Corp. Corporation GmbH AG "
    "S.A. Pte._Ltd. Pvt._Ltd. Sdn._Bhd. FZE K.K. B.V. S.r.l. JSC OOO LLP PLC 有限公司"
)
PLANT_EVERY = 500  # one customer in 500 is a real SDN entity's name, re-spelled


def _list(words: str) -> list[str]:
    return [w.replace("_", " ") for w in words.split()]


def generate_names(count: int, seed: int, listed: list[str]) -> tuple[list[str], set[int]]:
    """`count` unique company names from the word lists above, with random.Random(seed):
    35 % PRC style ("Shenzhen Xinhua Electronics Co., Ltd."), 25 % coined brands
    ("Velara Robotics GmbH"), 25 % word brands ("Golden Harbor Shipping LLC"), 15 %
    surname firms ("Tanaka & Sons Precision K.K."). Every PLANT_EVERY-th is instead one of
    `listed` (real SDN entity names), title-cased and given a legal form if it has none, so
    the run has true matches to find; their positions are returned."""
    rng = random.Random(seed)
    cities, syllables, stems, endings = map(_list, (CITIES, SYLLABLES, STEMS, ENDINGS))
    words, surnames, trades_, legal_forms = map(_list, (WORDS, SURNAMES, TRADES, LEGAL_FORMS))
    planted_from = iter(rng.sample(listed, count // PLANT_EVERY))
    names: set[str] = set()
    out: list[str] = []
    planted: set[int] = set()
    while len(out) < count:
        trades = " ".join(rng.sample(trades_, rng.choice((1, 1, 2))))
        legal = rng.choice(legal_forms)
        pattern = rng.random()
        if len(out) % PLANT_EVERY == PLANT_EVERY - 1:
            name = next(planted_from).title()
            last = name.split()[-1].replace(".", "").casefold()
            name = name if last in LEGAL else f"{name} {legal}"
            planted.add(len(out))
        elif pattern < 0.35:
            brand = "".join(rng.sample(syllables, 2)).capitalize()
            name = f"{rng.choice(cities)} {brand} {trades} {rng.choice(legal_forms[:3])}"
        elif pattern < 0.6:
            brand = (rng.choice(stems) + rng.choice(endings)).capitalize()
            name = f"{brand} {trades} {legal}"
        elif pattern < 0.85:
            name = f"{' '.join(rng.sample(words, rng.choice((1, 2))))} {trades} {legal}"
        else:
            family = rng.choice(("", "& Sons ", "Brothers "))
            name = f"{rng.choice(surnames)} {family}{trades} {legal}"
        if name not in names:
            names.add(name)
            out.append(name)
    return out, planted


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale(args: argparse.Namespace) -> None:
    queries, entities = sdn_names(args.sdn_dir)
    rss0 = peak_rss_mb()
    names, planted = generate_names(args.customers, args.seed, entities)
    customers = [Customer(id=f"c{i:06d}", name=n) for i, n in enumerate(names)]
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    screener = Screener(Portfolio(customers=customers))
    built, built_cpu = time.perf_counter() - start, time.process_time() - cpu
    per_name = []
    found: set[int] = set()
    examples: list[tuple[str, int, int]] = []
    matched = matches = 0
    start, cpu = time.perf_counter(), time.process_time()
    for query in queries:
        t = time.perf_counter()
        hits = screener.screen(query)
        per_name.append(time.perf_counter() - t)
        matches += len(hits)
        matched += bool(hits)
        for m in hits:
            found.add(int(m.customer_id[1:]))
            examples.append((query, int(m.customer_id[1:]), m.score))
    screened, screened_cpu = time.perf_counter() - start, time.process_time() - cpu
    total = built + screened
    pairs = len(queries) * len(screener.aliases)
    verdict = "met" if total <= GOAL_SECONDS else "NOT met"
    print(
        f"scale: {len(queries)} real OFAC SDN names and aliases screened against "
        f"{len(names)} generated customers ({len(screener.aliases)} names indexed), "
        f"seed {args.seed}, threshold {screener.threshold}"
    )
    print(
        f"  build (normalise + index) {built:.1f} s + screening {screened:.1f} s = "
        f"total {total:.1f} s (goal <= {GOAL_SECONDS:.0f} s: {verdict}); CPU time "
        f"{built_cpu:.1f} + {screened_cpu:.1f} = {built_cpu + screened_cpu:.1f} s; load "
        f"average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (2 cores)"
    )
    print(
        f"  {len(queries) / screened:,.0f} names/s, median "
        f"{statistics.median(per_name) * 1e3:.3f} ms per name; {matched} names matched, "
        f"{matches} matches; planted customers found {len(found & planted)} of "
        f"{len(planted)}, other customers matched {len(found - planted)}"
    )
    print(
        f"  alias comparisons: {screener.comparisons:,} of {pairs:,} name x customer pairs "
        f"({screener.comparisons / pairs:.1e})"
    )
    print(f"  peak RSS {peak_rss_mb():.0f} MB ({rss0:.0f} MB before the customers were made)")
    others = [e for e in examples if e[1] not in planted]
    for query, i, score in others[:: max(1, len(others) // 5)][:5]:
        print(f"    e.g. (not planted) {query!r} -> {names[i]!r} {score}")
    baseline(screener, queries, per_name, args)


def baseline(screener: Screener, queries: list[str], per_name: list[float], args) -> None:
    """No blocking: each sampled name scored against every normalised customer name."""
    choices = [a.norm.text for a in screener.aliases]
    sample = random.Random(args.seed).sample(range(len(queries)), args.sample)
    naive = []
    for i in sample:
        t = time.perf_counter()
        process.extract(
            normalise(queries[i], screener.vocab).text,
            choices,
            scorer=fuzz.token_sort_ratio,
            score_cutoff=DEFAULT_THRESHOLD,
            limit=None,
        )
        naive.append(time.perf_counter() - t)
    ours = statistics.median(per_name[i] for i in sample)
    theirs = statistics.median(naive)
    print(
        f"  baseline, no blocking (rapidfuzz process.extract, token_sort_ratio, over all "
        f"{len(choices)} names), {args.sample} sampled names: median {theirs * 1e3:.1f} ms "
        f"per name, {theirs * len(queries):.0f} s extrapolated to {len(queries)} names"
    )
    print(
        f"  blocked screen on the same sample: median {ours * 1e3:.3f} ms per name; "
        f"ratio {ours / theirs:.4f} ({theirs / ours:,.0f}x faster)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=int, default=DEFAULT_THRESHOLD)
    parser.add_argument("--portfolio", type=Path, default=PORTFOLIO)
    parser.add_argument("--variants", type=Path, default=VARIANTS)
    parser.add_argument("--sdn-dir", type=Path, default=SDN_DIR)
    parser.add_argument("--scale", action="store_true", help="the 100,000-customer run")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=200, help="names for the baseline")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if args.scale:
        scale(args)
        return
    screener = Screener(load_portfolio(args.portfolio), threshold=args.threshold)
    evaluate(screener, variants(args.variants, {c.id for c in screener.customers}))
    negatives(screener, sdn_names(args.sdn_dir)[0])


if __name__ == "__main__":
    main()
