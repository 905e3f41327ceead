"""Impacts by kind, on real records (the development set and bench/data/fr_validation) and
on probes made for one behaviour each, at every stage a record passes through."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from monitor.document import Document, Listed, RuleFacts
from monitor.portfolio import Customer, Portfolio, load_portfolio
from monitor.relevance.assess import assess
from monitor.relevance.reading import read
from monitor.scoring import score_document
from tests.conftest import PORTFOLIO, RECORDS

VALIDATION = Path(__file__).resolve().parent.parent / "bench" / "data" / "fr_validation"
TITLE_FIELDS = {"document_number", "title", "type", "agencies", "publication_date"}
LANDMARKS = ["2022-21658", "2023-23055", "2024-28270", "2025-00636", "2025-00711", "2025-19001"]


@pytest.fixture(scope="module")
def portfolio() -> Portfolio:
    return load_portfolio(PORTFOLIO)


def record(number: str) -> Document:
    path = RECORDS / f"{number}.json"
    path = path if path.exists() else VALIDATION / f"{number}.json"
    return Document.model_validate(json.loads(path.read_text()))


def title_only(doc: Document) -> Document:
    """The record as the public-inspection desk gives it."""
    return Document.model_validate(doc.model_dump(include=TITLE_FIELDS))


def kinds(doc: Document, portfolio: Portfolio, **kw) -> dict[str, str]:
    return {i.kind: i.severity for i in assess(doc, portfolio, **kw).impacts}


@pytest.mark.parametrize("number", LANDMARKS)
def test_landmark_control_rules_are_high_or_critical_from_their_summary(portfolio, number):
    assert score_document(record(number), portfolio).severity in ("high", "critical")


@pytest.mark.parametrize("number", LANDMARKS)
def test_landmark_control_rules_alert_from_their_title_alone(portfolio, number):
    assert score_document(title_only(record(number)), portfolio).relevant


def test_the_oct_2023_rule_moves_the_a800_and_says_to_whom(portfolio):
    # the interconnect rates the 2022 rule tested, which the demo chips do not record: A800
    # 400 GB/s (chips.yaml: "NVLink cut to 400 GB/s"), A100 600 ("has 600 GB/s NVLink")
    rates = {"nvidia-a800": 400, "nvidia-a100": 600}
    chips = [c.model_copy(update={"bidirectional_transfer_rate_gbs": rates.get(c.id)})
             for c in portfolio.chips]  # fmt: skip
    impacts = assess(record("2023-23055"), portfolio.model_copy(update={"chips": chips})).impacts
    moved = {i.chips[0]: i for i in impacts if i.kind == "classification"}
    a800 = moved["nvidia-a800"]
    assert a800.severity == "critical"
    assert a800.summary.startswith(
        "NVIDIA A800 (nvidia-a800) to customers in China now needs a licence: 3A090.a under the "
        "rule in force from 2023-11-17 (A800: not 3A090 -> 3A090.a (TPP 4992 >= 4800"
    )
    assert "nvidia-a100" not in moved  # 3A090.a before and after
    # a chip whose 2022 class hangs on the missing rate is re-classified, not "now licensed"
    assert moved["nvidia-h100-sxm"].severity == "high"
    assert "before: transfer rate not known" in moved["nvidia-h100-sxm"].summary


def test_entity_list_rules_by_stage_and_destination(portfolio):
    # title only: which destinations is unknown, so every customer at home in D:5 or Macau
    title = assess(title_only(record("2020-28031")), portfolio).impacts[0]
    assert (title.kind, title.severity) == ("review", "high")
    assert "(destinations not given)" in title.summary and "smic" in title.customers
    # the summary names China among the destinations: the same alert, saying where
    summary = assess(record("2020-28031"), portfolio).impacts[0]
    assert summary.summary.startswith("adds entries to the Entity List under Bulgaria, China")
    assert "customers at home there: 17 customers: China 17 (biren, " in summary.summary
    # additions under Germany, Russia and Switzerland; corrections of China entries only
    elsewhere = score_document(record("2021-04505"), portfolio)
    assert not elsewhere.relevant
    assert kinds(record("2021-04505"), portfolio)["review"] == "low"  # the corrections: a note


def test_a_customer_in_a_destination_not_of_concern_is_a_note(portfolio):
    (impact,) = assess(record("2023-25684"), portfolio).impacts
    assert impact.severity == "low" and impact.customers == ("bengaluru-neural",)
    assert "not a destination of concern" in impact.summary


def test_removals_of_named_non_customers_are_screened(portfolio):
    doc = record("2026-17231")  # removes addresses of Arrow Electronics (Hong Kong) Co., Ltd.
    (impact,) = assess(doc, portfolio).impacts
    assert impact.kind == "screened" and "Arrow Electronics (Hong Kong) Co., Ltd." in impact.summary


def test_the_rule_text_screens_entries_and_owners(portfolio):
    made_up = [  # two customers owned by a made-up listed party, one at 60%, one at 49%
        Customer.model_validate({"id": cid, "name": name, "country": "SG", "owners": [
            {"name": "Example Listed Parent Co., Ltd.", "percent": share}]})
        for cid, name, share in (("gamma", "Gamma Compute Pte. Ltd.", 60),
                                 ("delta", "Delta Compute Pte. Ltd.", 49))
    ]  # fmt: skip
    owned = portfolio.model_copy(update={"customers": [*portfolio.customers, *made_up]})
    facts = RuleFacts(entity_list_amended=True, entities=[
        Listed(action="added", name="Sophgo Technologies Ltd.", country="CN"),
        Listed(action="added", name="Example Listed Parent Co., Ltd.", country="CN"),
    ])  # fmt: skip
    doc = record("2025-00480").model_copy(update={"rule": facts})  # made-up entries
    found = assess(doc, owned, today=date(2026, 12, 4))
    listed = {i.customers[0]: i for i in found.impacts if i.kind in ("listed", "owner_listed")}
    assert listed["sophgo"].severity == "critical"
    assert listed["gamma"].kind == "owner_listed" and listed["gamma"].severity == "critical"
    assert "delta" not in listed  # 49%: below the affiliates rule's line
    # while the affiliates rule is suspended, the owner's listing only would restrict
    suspended = assess(doc, owned, today=date(2026, 1, 5))
    (gamma,) = [i for i in suspended.impacts if i.customers == ("gamma",)]
    assert gamma.severity == "high"
    assert "would be restricted when the suspension ends on 2026-11-10" in gamma.summary


def test_the_affiliates_rule_and_its_suspension(portfolio):
    rule = kinds(record("2025-19001"), portfolio)
    assert rule == {"ownership_rule": "high"}
    (impact,) = assess(record("2025-19846"), portfolio).impacts
    assert impact.kind == "rule_status" and impact.severity == "high"
    assert "it returns on 2026-11-10 absent an extension" in impact.summary


def test_a_country_group_change_for_a_customers_destination(portfolio):
    found = {i.kind: i for i in assess(record("2026-14132"), portfolio).impacts}
    scope = found["destination_scope"]
    assert scope.severity == "high" and scope.customers == ("sahara-hyperscale",)
    cambodia = score_document(record("2026-02262"), portfolio)  # no customer in Cambodia
    assert not cambodia.relevant


def test_briefings_extensions_and_corrections_are_medium(portfolio):
    for number in ("2022-22037", "2025-00637", "2023-27588", "2022-07643", "2025-02655"):
        score = score_document(record(number), portfolio)
        assert score.severity == "medium", (number, score.why)


def test_proposed_rules_are_at_most_medium(portfolio):
    found = assess(record("2024-16496"), portfolio).impacts
    assert {i.severity for i in found} <= {"medium", "low", "info"}
    assert any("a proposal: not in force until a final rule" in i.notes for i in found)


@pytest.mark.parametrize(
    "number",
    ["2019-28043", "2023-23150", "2019-27610", "2025-02305", "2024-05267", "2024-08813",
     "2025-16724", "2026-01059", "2025-13345", "2026-19537", "2025-09148", "2023-28627"],
)  # fmt: skip
def test_look_alikes_stay_quiet(portfolio, number):
    # patent cases naming chip makers, an FCC rule naming Huawei, AI RFIs, radiation-hardened
    # ICs, firearms, Syria, drones, polysilicon, advisory committees, CHIPS funding
    assert not score_document(record(number), portfolio).relevant


def test_an_unknown_subject_is_a_review_only_at_the_title_stage(portfolio):
    thin = record("2021-07400")  # a BIS final rule with neither title nor summary recorded
    assert kinds(thin, portfolio) == {"review": "medium"}
    reading = read(record("2016-19551"))
    assert reading.subjects and not score_document(record("2016-19551"), portfolio).relevant


def test_a_section_232_investigation_of_semiconductors_is_a_trade_measure(portfolio):
    found = kinds(record("2025-06591"), portfolio)
    assert found["trade_measure"] == "medium"
    assert not score_document(record("2025-13345"), portfolio).relevant  # polysilicon


BIS = [{"name": "Industry and Security Bureau", "slug": "industry-and-security-bureau"}]


def probe(**fields) -> Document:
    """A made-up record (not a real FR document) to probe one behaviour."""
    return Document.model_validate({"document_number": "TEST-0001", "type": "Rule", **fields})


def test_a_summary_naming_its_only_entry_is_screened(portfolio):
    doc = probe(title="Addition of an Entity to the Entity List", agencies=BIS,
                abstract="This rule adds Fujian Jinhua Integrated Circuit Company, Ltd. "
                         "(Jinhua) to the Entity List under the destination of China.")  # fmt: skip
    (impact,) = assess(doc, portfolio).impacts
    assert impact.kind == "screened" and "Fujian Jinhua" in impact.summary
    counted = doc.model_copy(update={"abstract": (
        "This rule adds 12 entities, among them Fujian Jinhua Integrated Circuit Company, Ltd., "
        "under China."
    )})  # fmt: skip
    assert kinds(counted, portfolio) == {"review": "high"}  # the other eleven are not known


def test_a_sanctions_designation_of_a_customer_is_high(portfolio):
    ofac = probe(type="Notice", agencies=[{"name": "Foreign Assets Control Office",
                                           "slug": "foreign-assets-control-office"}],
                 abstract="OFAC is publishing the names of persons whose property is blocked, "
                          "including Huawei Technologies Co., Ltd.")  # fmt: skip
    (impact,) = assess(ofac, portfolio).impacts
    assert (impact.kind, impact.severity, impact.customers) == ("named", "high", ("huawei",))


def test_extending_a_suspension_is_a_status_change_not_a_deadline(portfolio):
    doc = probe(
        title="Extension of the Suspension of the Affiliates Rule", agencies=BIS,
        abstract="BIS extends the suspension of the interim final rule 'Expansion of End-User "
                 "Controls to Cover Affiliates of Certain Listed Entities'.",
    )  # fmt: skip
    assert kinds(doc, portfolio) == {"rule_status": "high"}
