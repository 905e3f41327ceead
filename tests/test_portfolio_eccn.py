"""ECCNs named in text: whole codes only, paragraphs kept."""

from __future__ import annotations

from monitor.portfolio import ECCN_RE, Chip


def test_eccn_pattern_takes_whole_codes_and_their_paragraphs():
    # SYNTHETIC: one string probing each boundary
    text = (
        "3A090 x3A090 3A0901 3A090.a 3A090.a.1 5A992.z 4A090.b.12 ３A090 3A090_ "
        "3A090.a_ 3A090.ab (4A994). 9E99 1C351.d.5"
    )
    assert ["".join(m.groups()) for m in ECCN_RE.finditer(text)] == [
        "3A090", "3A090.a", "3A090.a.1", "5A992.z", "4A090.b.12",
        "3A090", "3A090", "4A994", "1C351.d.5",
    ]  # fmt: skip


def test_a_chips_free_text_eccn_field_gives_its_codes():
    chip = Chip(id="h20", name="H20", eccn="3A991 / 4A994 (not 3A090 under the Oct 2023 rule)")
    assert chip.eccns == ["3A991", "4A994", "3A090"]
