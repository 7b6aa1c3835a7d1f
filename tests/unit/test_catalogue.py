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
strength = "expected"
strength_marker = "左右"
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
        # A seasonal path written from memory is no parameter any more: last year's released figures are data.
        ("{ seasonal_profile = [0.1, 0.2, 1.0] }", "params.seasonal_profile", "previous_year_path"),
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


COUNT_TARGET = """
[[target]]
id = "new_firms"
section = "1"
name_zh = "新增规上工业企业"
name_en = "New firms"
phrase = "新增规上工业企业500家以上"
kind = "count"
indicator = "firms"
measure = "cumulative_level"
comparator = "at_least"
value = 500.0
unit = "家"
frequency = "Q"
lead_department = "fgw"
strength = "expected"
accrual = "new_this_year"
schedule = "batch"
batch_months = [12]
[[indicator]]
id = "firms"
name_zh = "新增规上工业企业数"
name_en = "New firms"
unit = "家"
frequency = "Q"
measures = ["cumulative_level"]
publisher = "fgw"
"""


def test_a_count_with_its_accrual_and_schedule_parses() -> None:
    t = parse_catalogue(MINIMAL + COUNT_TARGET).targets["new_firms"]
    assert (t.accrual, t.schedule, t.batch_months) == ("new_this_year", "batch", (12,))


@pytest.mark.parametrize(
    ("old", "new", "field", "rule"),
    [
        ('accrual = "new_this_year"\n', "", "accrual", "how it builds up"),
        ('schedule = "batch"\nbatch_months = [12]\n', "", "schedule", "how it is read mid-year"),
        ('accrual = "new_this_year"', 'accrual = "from_memory"', "accrual", "Input should be"),
        ("batch_months = [12]", "batch_months = []", "batch_months", "ascending"),
        ("batch_months = [12]", "batch_months = [12, 11]", "batch_months", "ascending"),
        ('schedule = "batch"\nbatch_months = [12]', 'schedule = "linear"\nbatch_months = [12]', "batch_months",
         "only a batch schedule"),
        ('accrual = "new_this_year"', 'accrual = "stock"\nschedule_unused = 1', "schedule_unused", "Extra inputs"),
        ('strength = "expected"\naccrual', 'accrual', "strength", "Field required"),
        ('strength = "expected"\naccrual', 'strength = "binding"\naccrual', "strength_marker", "binding target"),
        ('frequency = "Q"\nmeasures = ["cumulative_level"]\npublisher', 'frequency = "A"\nmeasures = '
         '["cumulative_level"]\npublisher', "schedule", "once a year"),
    ],
)
def test_a_count_without_its_reading_rules_names_the_field(old: str, new: str, field: str, rule: str) -> None:
    text = MINIMAL + COUNT_TARGET
    assert old in text
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(text.replace(old, new, 1))
    message = str(err.value)
    assert message.startswith("target 'new_firms'") and f"'{field}'" in message and rule in message, message


RELATIONAL = """
[[target]]
id = "income_in_step"
section = "headline"
name_zh = "居民收入与经济增长同步"
name_en = "Income in step"
phrase = "居民人均可支配收入与经济增长基本同步"
kind = "relational"
indicator = "income"
measure = "cumulative_yoy_pct"
comparator = "in_step"
unit = "%"
frequency = "Q"
lead_department = "fgw"
strength = "expected"
basis = "real"
params = { related_indicator = "gdp", band_pp = 0.5, deflator = "cpi" }
[[indicator]]
id = "income"
name_zh = "居民人均可支配收入"
name_en = "Income"
unit = "元"
frequency = "Q"
measures = ["cumulative_yoy_pct"]
publisher = "fgw"
growth_basis = "nominal"
[[indicator]]
id = "cpi"
name_zh = "居民消费价格"
name_en = "CPI"
unit = "%"
frequency = "M"
measures = ["cumulative_yoy_pct"]
publisher = "fgw"
"""
REAL_GDP = MINIMAL.replace('publisher = "fgw"\n', 'publisher = "fgw"\ngrowth_basis = "real"\n', 1)


def test_a_relational_target_compares_like_with_like() -> None:
    assert parse_catalogue(REAL_GDP + RELATIONAL).targets["income_in_step"].basis == "real"


@pytest.mark.parametrize(
    ("old", "new", "field", "rule"),
    [
        ('strength = "expected"\nbasis = "real"\n', 'strength = "expected"\n', "basis", "real or nominal"),
        ('strength = "expected"\nbasis = "real"', 'strength = "expected"\nbasis = "nominal"', "basis",
         "compare like with like"),
        (', deflator = "cpi"', "", "params.deflator", "name the price index"),
        ('deflator = "cpi"', 'deflator = "ppi"', "params.deflator", "unknown indicator"),
        ('growth_basis = "nominal"\n', "", "indicator", "growth_basis"),
    ],
)
def test_a_relational_basis_that_does_not_match_is_refused(old: str, new: str, field: str, rule: str) -> None:
    text = REAL_GDP + RELATIONAL
    assert old in text
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(text.replace(old, new, 1))
    message = str(err.value)
    assert message.startswith("target 'income_in_step'") and f"'{field}'" in message and rule in message, message


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


# --- issue 10: how each target accrues and is read mid-year, its strength, its basis, its owners ---

COUNT_AND_LEVEL_KINDS = (Kind.CUMULATIVE_TOTAL, Kind.COUNT, Kind.LEVEL)


@pytest.mark.parametrize("target", [t for t in TARGETS if t.kind in COUNT_AND_LEVEL_KINDS], ids=lambda t: t.id)
def test_every_count_and_level_says_how_it_accrues_and_how_it_is_read_mid_year(target) -> None:
    assert target.accrual is not None and target.schedule is not None, target.id
    if CATALOGUE.indicators[target.indicator].frequency == "A":
        assert target.schedule == "year_end", f"{target.id}: an annual series can only be read at the year end"


@pytest.mark.parametrize(
    ("target_id", "accrual", "schedule"),
    [
        ("tech_smes_registered", "new_this_year", "linear"),  # 入库 is redone every year: a count from zero
        ("high_tech_enterprises_net_added", "net_added", "year_end"),
        ("new_above_scale_industrial", "new_this_year", "batch"),  # recognised at the year end
        ("fixed_asset_investment_total", "new_this_year", "previous_year_path"),
        ("urban_new_jobs", "new_this_year", "linear"),
        ("deposits_and_loans_5tn", "stock", "linear"),
        ("owners_committee_coverage", "stock", "linear"),
    ],
)
def test_accrual_kinds_of_the_targets_issue_10_names(target_id: str, accrual: str, schedule: str) -> None:
    t = CATALOGUE.targets[target_id]
    assert (t.accrual, t.schedule) == (accrual, schedule)
    if t.id == "tech_smes_registered":
        assert (t.kind, t.measure) == (Kind.COUNT, "cumulative_level")


def test_no_seasonal_profile_written_from_memory_is_left() -> None:
    assert not [t.id for t in TARGETS if "seasonal_profile" in t.params]


BINDING_WORDS = ("确保", "约束性", "完成省下达")


def _clause(phrase: str) -> str:
    """The clause of the report holding the phrase: from the previous full stop or semicolon to the next."""
    i = REPORT.index(phrase)
    start = max(REPORT.rfind(c, 0, i) for c in "。；：\n") + 1
    ends = [j for j in (REPORT.find(c, i + len(phrase)) for c in "。；\n") if j != -1]
    return REPORT[start:min(ends)]


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_strength_comes_from_the_reports_own_words(target) -> None:
    clause = _clause(target.phrase)
    assert target.strength in ("binding", "expected"), target.id
    if target.strength_marker:
        assert target.strength_marker in clause or target.strength_marker == "预期目标", (target.id, clause)
    binding_words = [w for w in BINDING_WORDS if w in target.phrase or w in (target.strength_marker or "")]
    assert (target.strength == "binding") == bool(binding_words), (target.id, target.strength, clause)


def test_binding_and_expected_targets_issue_10_names() -> None:
    strength = {t.id: t.strength for t in TARGETS}
    assert strength["grain_sown_area"] == "binding"  # 确保粮食播种面积稳定在122万亩以上
    assert strength["childcare_town_coverage"] == "binding"  # 确保镇街覆盖率提升至85%以上
    assert strength["binding_environment_targets"] == "binding"  # 约束性指标完成省下达目标
    assert strength["gdp_growth"] == "expected"  # 左右, and a 主要预期目标
    assert strength["new_registered_funds"] == "expected"  # 力争


def test_the_relational_target_compares_like_with_like() -> None:
    t = CATALOGUE.targets["income_in_step_with_growth"]
    assert t.basis == "real"
    assert CATALOGUE.indicators["gdp"].growth_basis == "real"
    assert CATALOGUE.indicators["disposable_income"].growth_basis == "nominal"
    assert t.params["deflator"] == "cpi"  # nominal income growth deflated by the CPI, as NBS computes 实际增长


def test_owners_follow_the_departments_published_duties() -> None:
    deps = CATALOGUE.departments
    assert deps["szyl"].name_zh == "市市政和园林局"
    assert deps["dcd"].name_zh == "国家统计局无锡调查队"
    for ind in ("cpi", "disposable_income"):
        assert CATALOGUE.indicators[ind].publisher == "dcd", ind
    assert CATALOGUE.targets["parks_built"].lead_department == "szyl"
    assert CATALOGUE.targets["national_eco_garden_city"].lead_department == "szyl"
    jobs = CATALOGUE.targets["urban_new_jobs"]
    assert jobs.lead_department == "rsj" and "stats" not in jobs.co_departments
    assert CATALOGUE.indicators["urban_new_jobs"].publisher == "rsj"
