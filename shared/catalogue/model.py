"""The target catalogue's types: indicators bureaus report, targets the report sets, departments owning them.

Pure data, no I/O. Validated by pydantic when the catalogue loads; cross-references (a target's
indicator, its departments, a relational target's other indicator) are checked by ``Catalogue``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Frequency(StrEnum):
    """How often an indicator's statistic is published."""

    MONTHLY = "M"  # monthly cumulative releases; January and February come out together as 1—2月
    QUARTERLY = "Q"
    HALF_YEARLY = "S"
    ANNUAL = "A"


class Measure(StrEnum):
    """What an observation's value measures (the SDMX-like measure dimension)."""

    LEVEL = "level"  # the level in the period itself (a month's output, a stock at period end)
    CUMULATIVE_LEVEL = "cumulative_level"  # year-to-date total, 1—N月累计
    YOY_PCT = "yoy_pct"  # year-on-year growth of the period alone, in %
    CUMULATIVE_YOY_PCT = "cumulative_yoy_pct"  # year-to-date growth over the same months last year, in %


class Kind(StrEnum):
    """How a target is evaluated."""

    GROWTH_RATE = "growth_rate"  # "增长X%左右": cumulative year-on-year growth against X
    CUMULATIVE_TOTAL = "cumulative_total"  # an annual amount (投资1450亿元): 序时进度 on cumulative level
    COUNT = "count"  # an annual count (新增…80家以上): 序时进度 on the cumulative count
    SHARE = "share"  # a ratio in % (占GDP比重12.2%左右)
    LEVEL = "level"  # a stock or level reached by year-end (存贷款规模突破5万亿元, 覆盖率提高到70%)
    CAP = "cap"  # must not exceed (涨幅控制在…范围内)
    RELATIONAL = "relational"  # against another indicator's actual value (与经济增长基本同步)
    MILESTONE = "milestone"  # a thing done or not (建成投产…, 出台…); from the department's status report
    QUALITATIVE = "qualitative"  # a judgement (稳中提质); from the department's status report


class Comparator(StrEnum):
    """How the actual value is compared with the target value."""

    ABOUT = "about"  # 左右: within a band either side
    AT_LEAST = "at_least"  # 以上, 超, 不少于, 突破, 达到
    AT_MOST = "at_most"  # 控制在, 以内, 不超过
    IN_STEP = "in_step"  # 同步: relational, about equal to the other indicator


class Strength(StrEnum):
    """How firmly the report commits to a target, from its own words."""

    BINDING = "binding"  # 约束性, 确保, 完成省下达: missing it is critical
    # 预期性, 力争, 争创, 左右, or no marker (what is not 约束性 is 预期性): a warning unless far off
    EXPECTED = "expected"


class Accrual(StrEnum):
    """How a count, total or level builds up over the year."""

    NEW_THIS_YEAR = "new_this_year"  # built up from zero each year (新增, 完成投资, 入库 redone every year)
    STOCK = "stock"  # a stock or ratio at a date (余额, 覆盖率): read against its level at the last year's end
    NET_ADDED = "net_added"  # the change of a stock since the last year's end (净增), may be negative


class Schedule(StrEnum):
    """How a target is read before the year is over: what is expected by the end of a period."""

    LINEAR = "linear"  # 序时进度 = the share of the year gone (flows from zero; stocks from last year's end level)
    PREVIOUS_YEAR_PATH = "previous_year_path"  # last year's released 1—N月 shares when sent, else linear
    BATCH = "batch"  # granted in batches in ``batch_months``: 暂不评估 before them, linear over them
    YEAR_END = "year_end"  # judged only on the year-end figure (annual series; levels known only then)
    DIRECT = "direct"  # a ratio read against the target value in every period (year-to-date shares)


class GrowthBasis(StrEnum):
    """Whether a growth rate is at comparable prices (real) or current prices (nominal)."""

    REAL = "real"  # GDP: 按可比价格计算
    NOMINAL = "nominal"  # income, sales, investment: current prices


# The report's words that mark a target's strength. A target with none of them is expected: in Chinese
# planning practice every indicator not declared 约束性 is 预期性 (and the headline list is 主要预期目标).
BINDING_MARKERS = frozenset({"确保", "约束性", "完成省下达"})
EXPECTED_MARKERS = frozenset({"预期目标", "力争", "争创", "争取", "力促", "左右", ""})
# Kinds read along the year (need an accrual and a schedule), and shares (need a schedule).
ACCRUING_KINDS = frozenset({Kind.CUMULATIVE_TOTAL, Kind.COUNT, Kind.LEVEL})

# Kinds whose progress is read from statistics; the others come from status reports.
QUANTITATIVE_KINDS = frozenset(
    {Kind.GROWTH_RATE, Kind.CUMULATIVE_TOTAL, Kind.COUNT, Kind.SHARE, Kind.LEVEL, Kind.CAP, Kind.RELATIONAL}
)

SECTIONS = ("headline", "1", "2", "3", "4", "5", "6", "7", "8", "9")


class Department(BaseModel):
    """A Wuxi municipal department that owns targets or receives alerts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=2)  # the short official name, e.g. 市发展改革委
    name_en: str = Field(min_length=2)
    parent: str | None = None  # the next step up the administrative chain, for escalation


class Indicator(BaseModel):
    """A statistic that bureaus submit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=2)
    name_en: str = Field(min_length=2)
    unit: str = Field(min_length=1)  # the unit of level values (亿元, 万人, 家, 个, %, …)
    frequency: Frequency
    measures: tuple[Measure, ...] = Field(min_length=1)
    publisher: str  # department id of who publishes it (usually stats)
    min_value: float | None = None  # plausible bounds for level values, in ``unit``
    max_value: float | None = None
    growth_basis: GrowthBasis | None = None  # real or nominal growth; required where a relational target uses it
    at_date: bool = False  # level values are positions at the period's end (余额, 覆盖率): dated 6月末, not 1—6月
    provisional_zh: str = Field(default="初步数", min_length=2)  # what a provisional figure is called (初步核算数)


class Target(BaseModel):
    """One checkable 2024 commitment of the work report."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    section: str
    name_zh: str = Field(min_length=2)
    name_en: str = Field(min_length=2)
    phrase: str = Field(min_length=4)  # verbatim from the report
    kind: Kind
    indicator: str | None = None  # indicator id; None for milestones and qualitative targets
    measure: Measure | None = None
    comparator: Comparator | None = None
    value: float | None = None
    unit: str | None = None
    baseline_2023: float | None = None
    baseline_phrase: str | None = None  # verbatim from the report's 2023 review, where it states one
    frequency: Frequency
    lead_department: str  # department id
    co_departments: tuple[str, ...] = ()
    strength: Strength  # from the report's words (strength_marker); shapes the severity of missing it
    strength_marker: str = ""  # the word that decides it (确保, 力争, 左右, 预期目标, …); empty when none
    accrual: Accrual | None = None  # counts, totals and levels: how the figure builds up over the year
    schedule: Schedule | None = None  # counts, totals, levels and shares: how it is read mid-year
    batch_months: tuple[int, ...] = ()  # schedule "batch": the months in which recognitions are granted
    basis: GrowthBasis | None = None  # relational targets: compare real with real or nominal with nominal
    params: dict[str, float | str | list[float]] = Field(default_factory=dict)
    # The headline target (section "headline") this one feeds, e.g. major-project investment feeds fixed-asset
    # investment: the alerts service's inhibition holds back its warnings while the headline one is critical.
    feeds: str | None = None

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Target:
        if self.section not in SECTIONS:
            raise ValueError(f"section must be one of {', '.join(SECTIONS)}")

        if self.kind in QUANTITATIVE_KINDS:
            missing = [
                name
                for name in ("indicator", "measure", "comparator", "unit")
                if getattr(self, name) is None
            ]
            if self.kind != Kind.RELATIONAL and self.value is None and "value_from" not in self.params:
                missing.append("value")
            if missing:
                raise ValueError(f"a {self.kind} target needs {', '.join(missing)}")
        if self.kind == Kind.RELATIONAL and not isinstance(self.params.get("related_indicator"), str):
            raise ValueError("a relational target needs params.related_indicator")
        if self.lead_department in self.co_departments:
            raise ValueError("lead_department must not also be a co-department")
        return self

