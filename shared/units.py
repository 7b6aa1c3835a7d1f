"""Units bureaus report in, and conversion to an indicator's canonical unit (万元 → 亿元, 人 → 万人, …)."""

from __future__ import annotations

# unit -> (family, factor to the family's base unit)
_UNITS: dict[str, tuple[str, float]] = {
    "元": ("cny", 1.0),
    "万元": ("cny", 1e4),
    "亿元": ("cny", 1e8),
    "万亿元": ("cny", 1e12),
    "美元": ("usd", 1.0),
    "万美元": ("usd", 1e4),
    "亿美元": ("usd", 1e8),
    "人": ("people", 1.0),
    "万人": ("people", 1e4),
    "人次": ("visits", 1.0),
    "万人次": ("visits", 1e4),
    "吨": ("tonnes", 1.0),
    "万吨": ("tonnes", 1e4),
    "亩": ("mu", 1.0),
    "万亩": ("mu", 1e4),
    "平方米": ("m2", 1.0),
    "万平方米": ("m2", 1e4),
    "立方米": ("m3", 1.0),
    "万立方米": ("m3", 1e4),
    "个": ("items", 1.0),
    "万个": ("items", 1e4),
    "%": ("percent", 1.0),
}


class UnitError(ValueError):
    """A unit that is unknown or cannot be converted to the indicator's unit."""


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert ``value`` from one unit to another of the same family; identical units always pass."""
    if from_unit == to_unit:
        return value
    src = _UNITS.get(from_unit)
    dst = _UNITS.get(to_unit)
    if src is None:
        raise UnitError(f"unknown unit {from_unit!r}; expected {to_unit!r} or a unit convertible to it")
    if dst is None or src[0] != dst[0]:
        raise UnitError(f"{from_unit!r} cannot be converted to {to_unit!r}")
    return value * src[1] / dst[1]


def convertible_units(unit: str) -> list[str]:
    """Every unit a value may be submitted in for an indicator measured in ``unit``."""
    fam = _UNITS.get(unit)
    if fam is None:
        return [unit]
    return [u for u, (f, _) in _UNITS.items() if f == fam[0]]
