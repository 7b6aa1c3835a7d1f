import pytest

from shared.units import UnitError, convert, convertible_units


def test_money_converts_within_its_family() -> None:
    assert convert(4550, "亿元", "亿元") == 4550
    assert convert(45_500_000, "万元", "亿元") == pytest.approx(4550)
    assert convert(1.55, "万亿元", "亿元") == pytest.approx(15500)
    assert convert(130_000, "人", "万人") == pytest.approx(13)


def test_units_of_other_families_or_unknown_units_are_refused() -> None:
    with pytest.raises(UnitError, match="cannot be converted"):
        convert(38, "亿美元", "亿元")
    with pytest.raises(UnitError, match="unknown unit"):
        convert(1, "斤", "吨")


def test_convertible_units_lists_the_family() -> None:
    assert set(convertible_units("亿元")) == {"元", "万元", "亿元", "万亿元"}
    assert convertible_units("家") == ["家"]
