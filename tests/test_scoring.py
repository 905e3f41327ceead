"""The first relevance score: real records, the demo portfolio, and `monitor score`."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from monitor.document import Document
from monitor.portfolio import Chip, Portfolio, load_portfolio
from monitor.scoring import reaches, score_document
from tests.conftest import PORTFOLIO, RECORDED, RECORDS


@pytest.fixture(scope="module")
def portfolio() -> Portfolio:
    loaded = load_portfolio(PORTFOLIO)
    return loaded.model_copy(update={"watch_terms": ["Entity List", "advanced computing"]})


def record(number: str) -> Document:
    return Document.model_validate(json.loads((RECORDS / f"{number}.json").read_text()))


def synthetic(abstract: str, **fields) -> Document:
    """A made-up record (not a real FR document) to probe one behaviour."""
    return Document.model_validate({"document_number": "TEST-0001", "abstract": abstract, **fields})


def test_huawei_fdp_rule_is_relevant_and_says_why(portfolio):
    score = score_document(record("2020-10856"), portfolio)
    assert score.relevant and score.severity in ("high", "critical")
    assert score.customers == ["huawei"]
    components = [r.component for r in score.reasons]
    assert components[0] == "customer" and "agency" in components and "ear_part" in components
    assert sum(r.points for r in score.reasons) >= score.score


def test_labelled_irrelevant_records_stay_below_threshold(portfolio):
    with (RECORDS / "labels.csv").open() as fh:
        irrelevant = [row["document_number"] for row in csv.DictReader(fh)
                      if row["label"] == "irrelevant"]  # fmt: skip
    assert len(irrelevant) == 18
    scores = {n: score_document(record(n), portfolio) for n in irrelevant}
    assert {n: s.score for n, s in scores.items() if s.relevant} == {}
    # the USITC notice naming TSMC and NVIDIA as respondents is not about our chips
    assert scores["2019-28043"].chips == []


def test_bis_rules_outrank_other_agencies(portfolio):
    bis = score_document(record("2023-25684"), portfolio)
    usitc = score_document(record("2024-19542"), portfolio)
    assert bis.score > usitc.score


def test_decoy_name_does_not_match_the_listed_party(portfolio):
    decoy = score_document(synthetic("A loan to Biren Capital Partners LLC, NY."), portfolio)
    assert decoy.customers == ["biren-capital"]
    real = score_document(synthetic("adding Biren Technology to the Entity List"), portfolio)
    assert real.customers == ["biren"]
    threadworks = score_document(synthetic("Moore Threadworks Textiles Ltd. imports"), portfolio)
    assert threadworks.customers == ["moore-threadworks"]


def test_legal_form_fragments_never_match(portfolio):
    # the demo customers.yaml flow lists split "Co., Ltd." into a bare "Ltd." alias
    assert score_document(synthetic("Acme Widgets Co., Ltd. of Ningbo"), portfolio).customers == []


def test_chip_names_and_eccns(portfolio):
    score = score_document(
        synthetic("Items such as the A800 classified under ECCN 5A992.z are affected."), portfolio
    )
    assert "nvidia-a800" in score.chips
    assert "5A992.z" in score.eccns
    assert any(r.component == "eccn" for r in score.reasons)


def test_eccn_reach_treats_z_paragraphs_as_3a090():
    a100 = Chip(id="a100", name="A100", eccn="3A090.a")
    h20 = Chip(id="h20", name="H20", eccn="3A991 / 4A994 (not 3A090 under the Oct 2023 thresholds)")
    l20 = Chip(id="l20", name="L20", eccn="not 3A090 under Oct 2023 thresholds")
    assert reaches("3A090", a100) and reaches("5A992.z", a100) and reaches("4A090.a", a100)
    assert not reaches("3A090", h20) and reaches("3A991", h20) and not reaches("5A992.z", h20)
    assert not reaches("3A090", l20)


def run_score(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "score", *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_score_command_json_shape_on_records_and_pages(tmp_path):
    result = run_score(
        "--portfolio", str(PORTFOLIO),
        str(RECORDS / "2020-10856.json"), str(RECORDED / "documents.page2.json"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert len(scores) == 1 + 21
    first = scores[0]
    assert set(first) == {"document_number", "score", "severity", "relevant", "reasons", "matches"}
    assert set(first["matches"]) == {"chips", "customers", "eccns"}
    assert first["document_number"] == "2020-10856" and first["relevant"] is True
    assert isinstance(first["score"], int) and 0 <= first["score"] <= 100
    assert {"component", "points", "detail"} <= set(first["reasons"][0])


def test_score_command_rejects_bad_json_in_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"results": [')
    result = run_score(str(bad))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(bad) in result.stderr


# --- Entity List rules, destinations and country groups --------------------------------


def test_entity_list_rules_in_the_labelled_set_are_flagged_for_screening(portfolio):
    # 2020-28031 lists its destinations (China among them); 2019-13245's recorded abstract
    # is cut before them. Neither names an entity: both must still reach the analyst.
    china = score_document(record("2020-28031"), portfolio)
    assert china.relevant
    (reason,) = [r for r in china.reasons if r.component == "destination"]
    assert "CN: " in reason.detail and "screen them" in reason.detail
    unstated = score_document(record("2019-13245"), portfolio)
    assert unstated.relevant
    assert unstated.reasons[0].component == "unscreened"


def test_entity_list_additions_elsewhere_stay_low(portfolio):
    # 2023-25684: Costa Rica, Ecuador, India, Panama, Spain, Russia, Venezuela. Russia and
    # Venezuela are D:5 but home to no customer; India is not a destination of concern.
    score = score_document(record("2023-25684"), portfolio)
    assert not score.relevant
    assert {r.component for r in score.reasons} & {"destination", "unscreened"} == set()


def test_country_group_counts_a_parents_headquarters():
    portfolio = Portfolio.model_validate({"customers": [
        {"id": "parent", "name": "Parent Holdings", "country": "CN"},
        {"id": "sub", "name": "Subsidiary Pte", "country": "SG", "parent": "parent"},
        {"id": "macau", "name": "Macau Trading", "country": "MO"},
        {"id": "far", "name": "Far Away GmbH", "country": "DE"},
    ]})  # fmt: skip
    doc = synthetic("License requirements for entities headquartered in Country Group D:5.")
    (reason,) = [
        r for r in score_document(doc, portfolio).reasons if r.component == "country_group"
    ]
    assert reason.detail == "names D:5, home to customers (CN: parent, sub)"
    macau = synthetic("Export controls on exports to Macau.")
    (reason,) = [
        r for r in score_document(macau, portfolio).reasons if r.component == "country_group"
    ]
    assert reason.detail == "names Macau, home to customers (MO: macau)"
    assert not [r for r in score_document(synthetic("Exports to Germany."), portfolio).reasons]
    # outside an export-control text a country is an origin, not a destination
    bearings = synthetic("Tapered roller bearings from China; five-year review.")
    assert not [r for r in score_document(bearings, portfolio).reasons]


def test_a_rule_on_the_chips_control_class_counts_without_naming_a_chip(portfolio):
    doc = synthetic(
        "Controls on advanced computing items and supercomputer end uses.",
        type="Rule", agencies=[{"name": "Industry and Security Bureau",
                                "slug": "industry-and-security-bureau"}],
    )  # fmt: skip
    (reason,) = [r for r in score_document(doc, portfolio).reasons if r.component == "chip_class"]
    assert reason.detail.startswith("concerns advanced computing: the control class")
    assert "nvidia-a100" in reason.detail
    # a portfolio without an advanced-computing chip is not reached
    plain = Portfolio.model_validate(
        {"chips": [{"id": "mcu", "name": "Plain MCU", "eccn": "EAR99"}]}
    )
    assert not [r for r in score_document(doc, plain).reasons if r.component == "chip_class"]
