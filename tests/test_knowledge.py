"""The knowledge model against the rules' own facts: country names, Country Groups on
dates, the 3A090 parameters of each rule, licence scope, policies, rule status."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from monitor import eccn
from monitor.knowledge import DATA, controls, countries, country_groups, rule_status
from monitor.knowledge.country_groups import _File as GroupsFile
from monitor.yamlfile import ConfigError
from tests.conftest import PORTFOLIO


def test_one_table_reads_every_way_rules_name_a_destination():
    assert countries.code_of("CHINA, PEOPLE'S REPUBLIC OF") == "CN"
    assert countries.code_of("the People's Republic of China (China)") == "CN"
    assert countries.code_of("PRC") == "CN"
    assert countries.code_of("Korea, South") == countries.code_of("Republic of Korea") == "KR"
    assert countries.code_of("KOREA, DEMOCRATIC PEOPLE'S REPUBLIC OF") == "KP"
    assert countries.code_of("Türkiye") == countries.code_of("Turkey") == "TR"
    assert countries.code_of("the United Arab Emirates (UAE)") == "AE"
    assert countries.code_of("Burma") == countries.code_of("Myanmar") == "MM"
    assert countries.code_of("Macao") == "MO" and countries.code_of("hk") == "HK"
    assert countries.code_of("Atlantis") is None
    assert [countries.name_of(c) for c in ("CN", "KR", "MM", "AE", "DE")] == [
        "China", "South Korea", "Burma", "United Arab Emirates", "Germany",
    ]  # fmt: skip
    found = countries.named_in("under the destinations of the People's Republic of China "
                               "(China), Bulgaria and the U.A.E.; U.S. persons")  # fmt: skip
    assert found == {"CN", "BG", "AE"}  # "U.S." is a word here, not a destination


def test_hong_kong_is_china_from_the_day_the_ear_says_so():
    assert countries.treated_as("HK", date(2020, 12, 22)) == "HK"
    assert countries.treated_as("HK", date(2020, 12, 23)) == "CN"
    assert "D:5" in country_groups.groups_of("HK", date(2021, 1, 1))
    assert country_groups.groups_of("HK", date(2020, 6, 1)) == set()


@pytest.mark.parametrize(
    ("code", "day", "inside", "outside"),
    [
        ("CN", date(2024, 1, 1), {"D:1", "D:3", "D:4", "D:5"}, {"A:5", "A:6"}),
        ("MO", date(2024, 1, 1), {"D:1", "D:3", "D:4"}, {"D:5"}),  # Macau is named beside D:5
        ("IL", date(2024, 1, 1), {"D:3", "D:4", "A:6"}, {"D:5"}),
        ("SA", date(2024, 1, 1), {"D:3", "D:4"}, {"D:1", "A:5"}),
        ("VN", date(2024, 1, 1), {"D:1"}, {"D:5"}),
        ("NI", date(2024, 3, 14), set(), {"D:1", "D:5"}),  # before 89 FR 18780
        ("NI", date(2024, 3, 15), {"D:1", "D:5"}, set()),
        ("CY", date(2024, 5, 29), {"D:5", "A:6"}, set()),  # until 89 FR 40369
        ("CY", date(2024, 5, 30), {"A:6"}, {"D:5"}),
        ("KH", date(2025, 6, 1), {"D:1", "D:5"}, set()),
        ("KH", date(2026, 2, 3), {"D:1"}, {"D:5"}),  # removed from D:5, stays D:1
        ("AE", date(2025, 1, 1), {"D:3", "D:4"}, {"A:5"}),
        ("AE", date(2026, 7, 10), {"A:5"}, {"D:3", "D:4"}),  # 2026-14132
        ("RU", date(2021, 3, 17), {"D:1", "D:4"}, {"D:5"}),
        ("RU", date(2021, 3, 18), {"D:5"}, set()),
        ("IR", date(2024, 1, 1), {"D:5", "E:1"}, set()),
        ("CU", date(2024, 1, 1), {"E:2", "D:5"}, {"E:1"}),
    ],
)
def test_country_groups_on_a_date(code, day, inside, outside):
    groups = country_groups.groups_of(code, day)
    assert inside <= groups and not outside & groups, groups


def test_unconfirmed_memberships_are_flagged():
    (change, *_) = country_groups.caveats({"AE"}, date(2026, 12, 1))
    assert change.verify and change.document == "2026-14132"
    assert country_groups.caveats({"AE"}, date(2026, 1, 1)) == []


def test_an_inconsistent_change_is_a_one_line_error_naming_the_file(tmp_path: Path):
    data = yaml.safe_load((DATA / "country_groups.yaml").read_text())
    data["changes"].append({"group": "D:5", "country": "DE", "change": "added",
                            "effective": "2025-01-01", "source": "made up"})  # fmt: skip
    with pytest.raises(ValueError, match="not consistent with the later membership"):
        GroupsFile.model_validate(data)
    broken = tmp_path / "country_groups.yaml"
    broken.write_text("as_of: 2026-07-23\nsources: [x]\ngroups: {D:5: {title: t}}\n")
    from monitor.knowledge._files import load

    with pytest.raises(ConfigError) as exc:
        load("country_groups.yaml", GroupsFile, folder=tmp_path)
    assert str(exc.value).startswith(f"{broken}:3: groups.D:5.members: Field required")


def test_the_3a090_parameters_of_each_rule():
    assert controls.rules_on(date(2022, 10, 6)).thresholds == ()  # before 3A090
    (a_2022,) = controls.rules_on(date(2022, 10, 7))
    assert str(a_2022) == "3A090.a: TPP >= 4800 and transfer rate >= 600 GB/s"
    rules_2023 = controls.rules_on(date(2023, 11, 17))
    assert [t.paragraph for t in rules_2023] == ["3A090.a", "3A090.b"]
    assert str(rules_2023.get("3A090.a")) == "3A090.a: TPP >= 4800 or (TPP >= 1600 and PD >= 5.92)"
    rules_2024 = controls.rules_on(date(2024, 12, 2))
    assert rules_2024.get("3A090.c").applies_to == "hbm"
    assert controls.before(date(2023, 11, 17)).name == "Oct 2022 advanced computing IFR"


@pytest.mark.parametrize(
    ("chip", "expected"),
    [
        ({"id": "h100", "tpp": 15832, "performance_density": 19.45}, "3A090.a"),
        ({"id": "h20", "tpp": 2368, "performance_density": 2.91}, None),  # below .b's lines
        ({"id": "l20", "tpp": 1912, "performance_density": 3.14}, None),
        ({"id": "probe-b1", "tpp": 3000, "performance_density": 2.0}, "3A090.b"),
        ({"id": "probe-b2", "tpp": 1700, "performance_density": 4.0}, "3A090.b"),
        ({"id": "probe-a2", "tpp": 1700, "performance_density": 6.0}, "3A090.a"),
    ],
)
def test_chips_against_the_2023_rule(chip, expected):
    assert eccn.classify(chip, controls.rules_on(date(2024, 1, 1))) == expected


def test_note_2_excludes_chips_not_designed_for_datacenters():
    from monitor.portfolio import Chip
    from monitor.relevance.chips import classify

    gaming = Chip(id="g", name="G", tpp=4000, performance_density=6.5, datacenter=False)
    assert classify(gaming, date(2024, 1, 1)).result is None
    assert "Note 2 to 3A090 excludes it" in classify(gaming, date(2024, 1, 1)).notes[0]
    unknown = gaming.model_copy(update={"datacenter": None})
    found = classify(unknown, date(2024, 1, 1))
    assert found.result == "3A090.a" and "`datacenter` is not recorded" in found.notes[0]
    big = gaming.model_copy(update={"tpp": 5000})  # TPP 4800 or more: 3A090 whatever the use
    assert classify(big, date(2024, 1, 1)).result == "3A090.a"


def test_licence_scope_follows_the_country_groups():
    licence, version = controls.licence_on(date(2024, 1, 1))
    assert version.rule == "2023-23055"
    day = date(2024, 1, 1)
    covered = {c for c in ("CN", "MO", "HK", "VN", "SA", "AE", "IL", "IN", "TW", "SG", "DE")
               if licence.covers(c, day)}  # fmt: skip
    assert covered == {"CN", "MO", "HK", "VN", "SA", "AE"}  # Israel is D:4 but also A:6
    assert licence.headquarters("CN", day) and licence.headquarters("MO", day)
    assert not licence.headquarters("VN", day)
    later = date(2026, 8, 1)
    assert not controls.licence_on(later)[0].covers("AE", later)  # AE in A:5 from 2026-07-10
    first, _ = controls.licence_on(date(2022, 11, 1))
    assert first.covers("CN", date(2022, 11, 1)) and not first.covers("MO", date(2022, 11, 1))


def test_policies_exceptions_and_the_foundry_presumption():
    policy = controls.policy("2026-00789")
    assert policy.below == {"tpp": 21000, "dram_bandwidth_gbs": 6500}
    assert set(policy.destinations) == {"CN", "MO"} and policy.effective == date(2026, 1, 15)
    assert {e.name for e in controls.exceptions()} == {"NAC", "ACA", "HBM"}
    presumption, version = controls.foundry_presumption(date(2025, 6, 1))
    assert version.rule == "2025-00711" and presumption.node_nm_at_most == 16
    assert presumption.line_on(date(2026, 6, 1), has_hbm=None) == 30e9
    assert presumption.line_on(date(2027, 6, 1), has_hbm=False) == 35e9
    assert presumption.line_on(date(2027, 6, 1), has_hbm=True) == 30e9
    assert presumption.line_on(date(2029, 1, 1), has_hbm=False) == 40e9
    assert controls.foundry_presumption(date(2025, 1, 15)) is None


def test_rule_status_on_a_date():
    assert rule_status.state("2025-19001", date(2025, 9, 28)) == "in_force"  # not yet: default
    assert rule_status.state("2025-19001", date(2025, 10, 1)) == "in_force"
    assert rule_status.state("2025-19001", date(2025, 11, 10)) == "suspended"
    assert rule_status.state("2025-19001", date(2026, 11, 9)) == "suspended"
    assert rule_status.state("2025-19001", date(2026, 11, 10)) == "in_force"
    assert rule_status.state("2025-00636", date(2025, 5, 13)) == "not_enforced"
    assert rule_status.state("ofac-50-percent") == "in_force"
    assert set(rule_status.ownership_rules()) == {"2025-19001", "ofac-50-percent"}


def test_every_fact_has_a_source():
    for name in ("countries.json", "country_groups.yaml", "controls.yaml", "rules.yaml"):
        text = (DATA / name).read_text()
        assert "source" in text, name
    groups = yaml.safe_load((DATA / "country_groups.yaml").read_text())
    assert all(c.get("source") for c in groups["changes"])
    rules = yaml.safe_load((DATA / "rules.yaml").read_text())["rules"]
    assert all(s.get("source") for r in rules.values() for s in r["states"])


def test_the_demo_portfolio_keeps_every_field_the_rules_need():
    from monitor.portfolio import load_portfolio

    chips = {c.id: c for c in load_portfolio(PORTFOLIO).chips}
    assert chips["nvidia-h100-sxm"].kind == "logic"
    assert chips["nvidia-h100-sxm"].dram_bandwidth_gbs is None  # not recorded, not guessed
