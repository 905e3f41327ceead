"""The score as a consequence of the impact assessment: real records of the development
set, probes of one behaviour each, and `monitor score`."""

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

BIS = [{"name": "Industry and Security Bureau", "slug": "industry-and-security-bureau"}]


@pytest.fixture(scope="module")
def portfolio() -> Portfolio:
    loaded = load_portfolio(PORTFOLIO)
    return loaded.model_copy(update={"watch_terms": ["Entity List", "advanced computing"]})


def record(number: str) -> Document:
    return Document.model_validate(json.loads((RECORDS / f"{number}.json").read_text()))


def synthetic(abstract: str, **fields) -> Document:
    """A made-up record (not a real FR document) to probe one behaviour."""
    return Document.model_validate({"document_number": "TEST-0001", "abstract": abstract, **fields})


def labels(label: str) -> list[str]:
    with (RECORDS / "labels.csv").open() as fh:
        return [row["document_number"] for row in csv.DictReader(fh) if row["label"] == label]


def test_every_labelled_record_is_judged_as_labelled(portfolio):
    relevant, irrelevant = labels("relevant"), labels("irrelevant")
    assert (len(relevant), len(irrelevant)) == (14, 38)
    missed = {n: score_document(record(n), portfolio) for n in relevant}
    assert {n: s.reasons for n, s in missed.items() if not s.relevant} == {}
    raised = {n: score_document(record(n), portfolio) for n in irrelevant}
    assert {n: s.why for n, s in raised.items() if s.relevant} == {}


def test_huawei_fdp_rule_is_critical_and_says_what_to_do(portfolio):
    score = score_document(record("2020-10856"), portfolio)
    assert score.severity == "critical" and score.customers == ["huawei"]
    first = score.reasons[0]
    assert first.detail.startswith("Huawei Technologies Co., Ltd. (huawei) is named")
    assert "To do: hold shipments to Huawei Technologies Co., Ltd." in first.detail
    assert score.reasons[-1].component == "evidence" and score.reasons[-1].points == 0
    assert "15 CFR parts 730, 732, 736, 744" in score.reasons[-1].detail


def test_the_licence_policy_rule_names_the_chips_below_its_lines(portfolio):
    # 2026-00789: case-by-case for TPP < 21,000 and DRAM bandwidth < 6,500 GB/s to China/Macau
    score = score_document(record("2026-00789"), portfolio)
    (impact,) = [i for i in score.impacts if i.kind == "licence_policy"]
    assert impact.severity == "high" and set(impact.destinations) == {"CN", "MO"}
    assert "above them (presumption of denial): B200 (nvidia-b200), Gaudi 3" in impact.summary
    # the demo portfolio records no DRAM bandwidth: unknown, never guessed
    assert "a figure is not recorded: A100 (nvidia-a100)" in impact.summary
    assert impact.notes == (  # TPP 20,918 against the 21,000 line
        "Instinct MI300X (amd-mi300x): TPP 20,918 is within 2% of the 21,000 line, confirm "
        "the figure",
    )
    assert "biren" in impact.customers and "northwind-dc" not in impact.customers
    # with the figures recorded, a chip below both lines is named as such
    h20 = next(c for c in portfolio.chips if c.id == "nvidia-h100-sxm")
    chips = [h20.model_copy(update={"dram_bandwidth_gbs": 3350})]  # a made-up figure
    below = score_document(record("2026-00789"), portfolio.model_copy(update={"chips": chips}))
    assert "below the lines: H100 SXM5 (nvidia-h100-sxm)" in below.impacts[0].summary


def test_a_null_cfr_reference_does_not_sink_a_rule(portfolio):
    doc = record("2026-00789").model_copy(update={"cfr_references": []})
    assert score_document(doc, portfolio).severity == "high"


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


def test_a_customer_named_outside_export_controls_is_information_only(portfolio):
    fcc = synthetic(
        "The Commission designates Huawei Technologies Company (Huawei) as a covered company.",
        type="Rule", agencies=[{"name": "Federal Communications Commission",
                                "slug": "federal-communications-commission"}],
    )  # fmt: skip
    score = score_document(fcc, portfolio)
    assert not score.relevant and score.customers == ["huawei"]
    assert score.reasons[0].detail.startswith(
        "Huawei Technologies Co., Ltd. (huawei) is named in a telecommunications rule: not an "
        "export control"
    )


def test_chip_names_and_eccns(portfolio):
    score = score_document(
        synthetic("Items such as the A800 classified under ECCN 5A992.z are affected."), portfolio
    )
    assert "nvidia-a800" in score.chips
    assert "5A992.z" in score.eccns


def test_eccn_reach_treats_z_paragraphs_as_3a090():
    a100 = Chip(id="a100", name="A100", eccn="3A090.a")
    h20 = Chip(id="h20", name="H20", eccn="3A991 / 4A994 (not 3A090 under the Oct 2023 thresholds)")
    l20 = Chip(id="l20", name="L20", eccn="not 3A090 under Oct 2023 thresholds")
    assert reaches("3A090", a100) and reaches("5A992.z", a100) and reaches("4A090.a", a100)
    assert reaches("4A005.z", a100)  # a .z paragraph of the rules' own list
    assert not reaches("3A090", h20) and reaches("3A991", h20) and not reaches("5A992.z", h20)
    assert not reaches("3A090", l20)


def test_weights_move_an_impact_kind(portfolio):
    doc = record("2020-28031")  # Entity List additions under China, entries not read
    assert score_document(doc, portfolio).relevant
    quieter = score_document(doc, portfolio, weights={"review": -25})
    assert not quieter.relevant and quieter.reasons[0].points == 45


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
    assert len(scores) == 1 + 64
    first = scores[0]
    assert set(first) == {
        "document_number", "score", "severity", "relevant", "reasons", "matches", "impacts",
    }  # fmt: skip
    assert set(first["matches"]) == {"chips", "customers", "eccns"}
    assert first["document_number"] == "2020-10856" and first["relevant"] is True
    assert isinstance(first["score"], int) and 0 <= first["score"] <= 100
    assert {"component", "points", "detail"} <= set(first["reasons"][0])
    impact = first["impacts"][0]
    assert impact["kind"] == "listed" and impact["severity"] == "critical"
    assert impact["customers"] == ["huawei"] and impact["action"].startswith("hold shipments")


def test_score_command_rejects_bad_json_in_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"results": [')
    result = run_score(str(bad))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(bad) in result.stderr
