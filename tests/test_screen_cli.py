"""`monitor screen`, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import PORTFOLIO


def run_screen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "screen", *args],
        capture_output=True, text=True, encoding="utf-8", check=False, cwd=cwd,
    )  # fmt: skip


def one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr


def test_json_shape_for_one_name():
    result = run_screen("--portfolio", str(PORTFOLIO), "--format", "json",
                        "BEIJING BIREN TECH. DEV. CO LTD")  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"query", "matches"}
    assert data["query"] == "BEIJING BIREN TECH. DEV. CO LTD"
    assert [m["customer_id"] for m in data["matches"]] == ["biren"]
    match = data["matches"][0]
    assert set(match) == {"customer_id", "score", "reasons"}
    assert match["score"] == 100 and isinstance(match["score"], int)
    assert "normalised: abbreviation: tech -> technology" in match["reasons"]


def test_decoy_and_chinese_name_and_related_customers():
    decoy = run_screen("--portfolio", str(PORTFOLIO), "-f", "json", "Biren Capital Partners LLC")
    assert [m["customer_id"] for m in json.loads(decoy.stdout)["matches"]] == ["biren-capital"]
    chinese = run_screen("--portfolio", str(PORTFOLIO), "-f", "json", "华为技术有限公司")
    data = json.loads(chinese.stdout)
    assert data["query"] == "华为技术有限公司"
    assert [m["customer_id"] for m in data["matches"]] == ["huawei", "hisilicon"]
    assert data["matches"][1]["reasons"][0].startswith("subsidiary of huawei")
    nothing = run_screen("--portfolio", str(PORTFOLIO), "-f", "json", "Bitmain Technologies")
    assert json.loads(nothing.stdout) == {"query": "Bitmain Technologies", "matches": []}


def test_country_option_corroborates():
    result = run_screen("--portfolio", str(PORTFOLIO), "-f", "json", "--country", "CN", "Biren")
    matches = {m["customer_id"]: m for m in json.loads(result.stdout)["matches"]}
    assert "+5 country CN is the customer's" in matches["biren"]["reasons"]


def test_file_with_header_gives_one_result_per_row(tmp_path):
    names = tmp_path / "names.csv"
    names.write_text(
        "entity,name,country\n"
        "1,Moore Threads Intelligent Technology (Beijing) Co.,CN\n"
        "2,Moore Threadworks Textiles Ltd.,GB\n"
        '3,"Cambricon (Hong Kong) Co., Limited",HK\n'
        "4,Acme Widgets Inc.,\n"
        "\n",
        encoding="utf-8",
    )
    result = run_screen("--portfolio", str(PORTFOLIO), "-f", "json", "--file", str(names))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [row["query"] for row in data] == [
        "Moore Threads Intelligent Technology (Beijing) Co.",
        "Moore Threadworks Textiles Ltd.",
        "Cambricon (Hong Kong) Co., Limited",
        "Acme Widgets Inc.",
    ]
    assert all(set(row) == {"query", "matches"} for row in data)
    assert [[m["customer_id"] for m in row["matches"]] for row in data] == [
        ["moore-threads"], ["moore-threadworks"], ["cambricon"], [],
    ]  # fmt: skip
    assert "+5 country CN is the customer's" in data[0]["matches"][0]["reasons"]
    assert "+5 country GB is the customer's" in data[1]["matches"][0]["reasons"]


def test_file_without_header_uses_the_first_column(tmp_path):
    names = tmp_path / "names.csv"
    names.write_text("壁仞科技,note\nSophgo Technologies Pte. Ltd.,x\n", encoding="utf-8")
    result = run_screen("--portfolio", str(PORTFOLIO), "-f", "json", "--file", str(names))
    data = json.loads(result.stdout)
    assert [row["query"] for row in data] == ["壁仞科技", "Sophgo Technologies Pte. Ltd."]
    assert [row["matches"][0]["customer_id"] for row in data] == ["biren", "sophgo"]


def test_file_from_an_export_finds_its_columns_by_heading(tmp_path):
    """A CRM export's headings ("Customer Name", "Country_Code"): the heading row is not
    screened as a name, and the country column corroborates."""
    names = tmp_path / "names.csv"
    names.write_text(
        "Account ID,Customer Name,Country_Code\n"
        "A-17,Moore Threadworks Textiles Ltd.,GB\n"
        "A-18,Sophgo Technologies Pte. Ltd.,SG\n",
        encoding="utf-8",
    )
    result = run_screen("--portfolio", str(PORTFOLIO), "-f", "json", "--file", str(names))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [row["query"] for row in data] == [
        "Moore Threadworks Textiles Ltd.",
        "Sophgo Technologies Pte. Ltd.",
    ]
    assert "+5 country GB is the customer's" in data[0]["matches"][0]["reasons"]


def test_table_output(tmp_path):
    names = tmp_path / "names.csv"
    names.write_text("name\nZhipu AI\nBitmain Technologies\n", encoding="utf-8")
    result = run_screen("--portfolio", str(PORTFOLIO), "--file", str(names))
    assert result.returncode == 0, result.stderr
    assert "zhipu" in result.stdout and "no match" in result.stdout
    assert "Bitmain Technologies" in result.stdout


def test_portfolio_from_the_config(tmp_path):
    config = tmp_path / "monitor.yaml"
    config.write_text(f"data_dir: {tmp_path}\nportfolio: {PORTFOLIO}\n", encoding="utf-8")
    result = run_screen("-c", str(config), "-f", "json", "Inspur Taiwan")
    assert result.returncode == 0, result.stderr
    assert [m["customer_id"] for m in json.loads(result.stdout)["matches"]] == ["inspur-taiwan"]


def test_errors_are_one_line(tmp_path):
    missing = tmp_path / "names.csv"
    one_line_error(run_screen("--portfolio", str(PORTFOLIO), "--file", str(missing)),
                   str(missing), "not found")  # fmt: skip
    one_line_error(run_screen("--portfolio", str(PORTFOLIO)), "NAME", "--file")
    names = tmp_path / "ok.csv"
    names.write_text("name\nBiren\n", encoding="utf-8")
    one_line_error(run_screen("--portfolio", str(PORTFOLIO), "--file", str(names), "Biren"),
                   "not both")  # fmt: skip
    one_line_error(run_screen("--portfolio", str(tmp_path / "nope"), "Biren"), "not found")
    empty = tmp_path / "monitor.yaml"
    empty.write_text(f"data_dir: {tmp_path}\n", encoding="utf-8")
    one_line_error(run_screen("-c", str(empty), "Biren"), "no customers")
