"""The catalogue: every quoted phrase is in the report verbatim, it loads, and a broken entry stops loading."""

from __future__ import annotations

import pytest

from shared.catalogue import CatalogueError, load_catalogue
from shared.catalogue.loader import REPORT_PATH, parse_catalogue
from shared.catalogue.model import QUANTITATIVE_KINDS, Comparator, Kind

REPORT = REPORT_PATH.read_text(encoding="utf-8")
# Part 一 reviews 2023 (where baselines come from); part 二 sets the 2024 targets.
REVIEW_2023 = REPORT[REPORT.index("一、2023年工作回顾"):REPORT.index("二、2024年主要工作")]
PLAN_2024 = REPORT[REPORT.index("二、2024年主要工作"):REPORT.index("三、全面加强政府自身建设")]
CATALOGUE = load_catalogue()
TARGETS = list(CATALOGUE.targets.values())


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_phrase_is_verbatim_in_the_report(target) -> None:
    assert target.phrase in REPORT, f"{target.id}: phrase not found verbatim: {target.phrase}"
    assert PLAN_2024.count(target.phrase) == 1, f"{target.id}: the phrase must name one place in part 二"
    assert (target.baseline_phrase is None) == (target.baseline_2023 is None), f"{target.id}: baseline pair"
    if target.baseline_phrase is not None:
        assert target.baseline_phrase in REVIEW_2023, f"{target.id}: baseline phrase not verbatim in part 一"


def test_the_catalogue_loads_with_every_section_and_kind() -> None:
    assert CATALOGUE.year == 2024
    assert len(CATALOGUE.targets) >= 140
    assert {t.section for t in TARGETS} == {"headline", *map(str, range(1, 10))}
    assert {t.kind for t in TARGETS} == set(Kind)
    # The eleven headline targets of the report's 主要预期目标.
    assert len([t for t in TARGETS if t.section == "headline"]) == 11


@pytest.mark.parametrize(
    ("target_id", "kind", "comparator", "value", "unit"),
    [
        ("gdp_growth", Kind.GROWTH_RATE, Comparator.ABOUT, 5.5, "%"),
        ("general_budget_revenue_growth", Kind.GROWTH_RATE, Comparator.ABOUT, 4.0, "%"),
        ("fixed_asset_investment_total", Kind.CUMULATIVE_TOTAL, Comparator.AT_LEAST, 4550, "亿元"),
        ("retail_sales_growth", Kind.GROWTH_RATE, Comparator.ABOUT, 6.5, "%"),
        ("fdi_actual_use", Kind.CUMULATIVE_TOTAL, Comparator.AT_LEAST, 38, "亿美元"),
        ("urban_new_jobs", Kind.COUNT, Comparator.AT_LEAST, 13, "万人"),
        ("income_in_step_with_growth", Kind.RELATIONAL, Comparator.IN_STEP, None, "%"),
        ("cpi_within_provincial_limit", Kind.CAP, Comparator.AT_MOST, None, "%"),
        ("new_little_giants", Kind.COUNT, Comparator.AT_LEAST, 80, "家"),
        ("major_project_investment", Kind.CUMULATIVE_TOTAL, Comparator.AT_LEAST, 1450, "亿元"),
        ("digital_core_va_share", Kind.SHARE, Comparator.ABOUT, 12.2, "%"),
        ("deposits_and_loans_5tn", Kind.LEVEL, Comparator.AT_LEAST, 5, "万亿元"),
        ("airport_passengers", Kind.CUMULATIVE_TOTAL, Comparator.AT_LEAST, 920, "万人次"),
    ],
)
def test_values_units_and_comparators_follow_the_report(target_id, kind, comparator, value, unit) -> None:
    t = CATALOGUE.targets[target_id]
    assert (t.kind, t.comparator, t.value, t.unit) == (kind, comparator, value, unit)


def test_quantitative_targets_have_a_series_and_the_others_do_not_have_a_value() -> None:
    for t in TARGETS:
        if t.kind in QUANTITATIVE_KINDS:
            assert t.indicator and t.measure, t.id
            assert t.measure in CATALOGUE.indicators[t.indicator].measures, t.id
        else:
            assert t.value is None and t.comparator is None, t.id


def test_levels_use_their_indicators_unit_and_bounds() -> None:
    for t in TARGETS:
        if t.kind in (Kind.LEVEL, Kind.CUMULATIVE_TOTAL, Kind.COUNT) and t.value is not None:
            ind = CATALOGUE.indicators[t.indicator]
            assert t.unit == ind.unit, t.id
            assert ind.min_value is None or t.value >= ind.min_value, t.id
            assert ind.max_value is None or t.value <= ind.max_value, t.id


def test_seasonal_profiles_are_twelve_cumulative_shares_ending_at_one() -> None:
    profiles = [t.params["seasonal_profile"] for t in TARGETS if "seasonal_profile" in t.params]
    assert profiles
    for p in profiles:
        assert isinstance(p, list) and len(p) == 12 and p == sorted(p) and p[-1] == 1.0


MINIMAL = """
year = 2024
[[department]]
id = "fgw"
name_zh = "市发展改革委"
name_en = "DRC"
[[indicator]]
id = "gdp"
name_zh = "地区生产总值"
name_en = "GDP"
unit = "亿元"
frequency = "Q"
measures = ["cumulative_yoy_pct"]
publisher = "fgw"
[[target]]
id = "gdp_growth"
section = "headline"
name_zh = "地区生产总值增长"
name_en = "GDP growth"
phrase = "地区生产总值增长5.5%左右"
kind = "growth_rate"
indicator = "gdp"
measure = "cumulative_yoy_pct"
comparator = "about"
value = 5.5
unit = "%"
frequency = "Q"
lead_department = "fgw"
"""


def test_a_minimal_catalogue_parses() -> None:
    cat = parse_catalogue(MINIMAL)
    assert [t.id for t in cat.targets_for_indicator("gdp")] == ["gdp_growth"]


@pytest.mark.parametrize(
    ("old", "new", "entry", "field"),
    [
        ('kind = "growth_rate"', 'kind = "growth"', "target 'gdp_growth'", "kind"),
        ('lead_department = "fgw"', 'lead_department = "nobody"', "target 'gdp_growth'", "lead_department"),
        ('indicator = "gdp"\nmeasure', 'indicator = "gpd"\nmeasure', "target 'gdp_growth'", "indicator"),
        ('measure = "cumulative_yoy_pct"\ncomparator', 'measure = "yoy_pct"\ncomparator', "target 'gdp_growth'",
         "measure"),
        ('value = 5.5', 'value = "five"', "target 'gdp_growth'", "value"),
        ('section = "headline"', 'section = "10"', "target 'gdp_growth'", "(entry)"),
        ('frequency = "Q"\nmeasures', 'frequency = "W"\nmeasures', "indicator 'gdp'", "frequency"),
        ('publisher = "fgw"', 'publisher = "tjj"', "indicator 'gdp'", "publisher"),
        ('name_zh = "市发展改革委"', 'name_zh = "委"', "department 'fgw'", "name_zh"),
        ('year = 2024', 'year = "2024"', "catalogue", "year"),
    ],
)
def test_a_broken_entry_stops_loading_naming_entry_and_field(old, new, entry, field) -> None:
    assert old in MINIMAL
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(MINIMAL.replace(old, new, 1))
    message = str(err.value)
    assert message.startswith(entry), message
    assert f"'{field}'" in message, message


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ("{ band_pp = -0.5 }", "params.band_pp", "greater than 0"),
        ('{ band_pp = "wide" }', "params.band_pp", "a number"),
        ("{ bandpp = 0.5 }", "params.bandpp", "unknown parameter"),
        ("{ seasonal_profile = [0.1, 0.2, 1.0] }", "params.seasonal_profile", "12 cumulative shares"),
        ("{ seasonal_profile = [0.2, 0.1, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 1.0] }",
         "params.seasonal_profile", "never decreasing"),
        ('{ value_from = "province" }', "params.province_limit", "required"),
        ('{ value_from = "city" }', "params.value_from", "'province'"),
    ],
)
def test_broken_params_name_the_param(params: str, field: str, rule: str) -> None:
    text = MINIMAL.replace('lead_department = "fgw"', f'lead_department = "fgw"\nparams = {params}')
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(text)
    assert str(err.value).startswith(f"target 'gdp_growth': field '{field}'"), str(err.value)
    assert rule in str(err.value)


def test_a_growth_target_without_value_names_the_missing_field() -> None:
    with pytest.raises(CatalogueError, match=r"target 'gdp_growth'.*value"):
        parse_catalogue(MINIMAL.replace("value = 5.5\n", ""))


def test_a_target_defined_twice_is_refused() -> None:
    twice = MINIMAL + MINIMAL[MINIMAL.index("[[target]]"):]
    with pytest.raises(CatalogueError, match=r"target 'gdp_growth': field 'id': defined twice"):
        parse_catalogue(twice)


def test_malformed_toml_is_refused() -> None:
    with pytest.raises(CatalogueError, match="not valid TOML"):
        parse_catalogue(MINIMAL + "\n[[target]\n")
