"""Ingest's HTTP schemas: what bureaus send and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.catalogue.model import Frequency, GrowthBasis, Measure
from shared.messages import ObservationStatus

# PostgreSQL text cannot hold NUL characters: refuse them at the door (422), not in the database (500).
NO_NUL = r"^[^\x00]*$"

_EXAMPLE: dict[str, Any] = {
    "indicator": "gdp",
    "region": "wuxi",
    "period": "2024-Q1",
    "measure": "cumulative_yoy_pct",
    "value": 4.9,
    "unit": "%",
    "status": "provisional",
    "source": "无锡市统计局 2024年一季度国民经济运行情况",
}


class ObservationIn(BaseModel):
    """One statistic as a bureau reports it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    indicator: str = Field(min_length=1, max_length=64, description="Indicator id (GET /v1/indicators)")
    region: str = Field(default="wuxi", max_length=32, description="Region id; the whole city by default")
    period: str = Field(
        min_length=4, max_length=16,
        description="SDMX-style period: 2024, 2024-S1, 2024-Q1 or 2024-M03 (2024-M02 is the 1—2月 release)",
    )
    measure: Measure = Field(description="What the value measures")
    value: float = Field(description="The figure, finite, in `unit`")
    unit: str = Field(min_length=1, max_length=16, description="Unit of the value; converted to the indicator's")
    status: ObservationStatus = Field(default=ObservationStatus.PROVISIONAL, description="SDMX OBS_STATUS")
    note: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)
    source: str | None = Field(default=None, max_length=500, pattern=NO_NUL,
                               description="Release or document the figure is from")
    revision_reason: str | None = Field(
        default=None, max_length=2000, pattern=NO_NUL,
        description="Why a figure differs from the one stored (a revision)",
    )
    growth_basis: GrowthBasis | None = Field(
        default=None, description="For a growth rate: real (实际增长) or nominal (名义增长), as the release labels "
        "it; refused when the indicator is read on the other basis (GET /v1/indicators gives each one's basis)",
    )


class ObservationBatchIn(BaseModel):
    """Several observations, stored all together or not at all."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"observations": [
        _EXAMPLE, {**_EXAMPLE, "indicator": "retail_sales", "measure": "cumulative_level", "value": 1012.3,
                   "unit": "亿元", "period": "2024-M03"},
    ]}]})

    observations: list[ObservationIn] = Field(min_length=1, description="At most INGEST_MAX_BATCH_SIZE (5000)")


class ObservationAccepted(BaseModel):
    """The outcome for one submitted observation."""

    id: str = Field(description="Id of the stored vintage (the same id comes back for an identical repeat)")
    outcome: str = Field(description="created, revised or unchanged")
    vintage: int


class BatchAccepted(BaseModel):
    """The outcome for a batch, in the order submitted."""

    results: list[ObservationAccepted]
    created: int
    revised: int
    unchanged: int


class ObservationOut(BaseModel):
    """A stored vintage of an observation."""

    id: str
    indicator: str
    region: str
    period: str
    measure: str
    vintage: int
    is_current: bool
    value: float
    unit: str
    submitted_value: float
    submitted_unit: str
    status: str
    revision_reason: str | None
    note: str | None
    source: str | None
    submitted_by: str
    recorded_at: datetime



class IndicatorOut(BaseModel):
    """An indicator ingest accepts."""

    id: str
    name_zh: str
    name_en: str
    unit: str
    accepted_units: list[str]
    frequency: Frequency
    period_formats: list[str]
    measures: list[Measure]
    min_value: float | None
    max_value: float | None
    growth_basis: GrowthBasis | None = Field(
        default=None, description="real or nominal: the basis its growth rates are read on, where it matters")


class UploadRowResult(BaseModel):
    """The outcome for one data row of an uploaded file."""

    line: int = Field(description="Line of the row in the uploaded file (the header is line 1); a workbook's row")
    id: str
    outcome: str = Field(description="created, revised or unchanged (what would happen, on a dry run)")
    vintage: int
    indicator: str = Field(description="The row's indicator, as read")
    region: str
    period: str
    measure: Measure
    value: float = Field(description="The value as stored, in the indicator's unit (converted from the row's)")
    unit: str = Field(description="The indicator's unit the value is stored in")
    label_zh: str = Field(description="The row in words: indicator, region and period as releases name them",
                          examples=["地区生产总值 · 无锡市 · 2024年一季度 · 累计增速"])


class SkippedRow(BaseModel):
    """A row of a workbook that is not data and was left out (a trailing 合计/总计 row)."""

    line: int = Field(description="Row of the sheet")
    reason: str = Field(description="Why, in Chinese")


class UploadAccepted(BaseModel):
    """The outcome for an uploaded file, row by row."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "format": "csv", "encoding": "gb18030", "dry_run": False, "ignored_columns": ["序号"],
        "rows": [{"line": 2, "id": "4f0c…", "outcome": "created", "vintage": 1}],
        "created": 1, "revised": 0, "unchanged": 0,
    }]})

    format: str = Field(description="csv, sdmx-csv or xlsx, as detected")
    encoding: str = Field(description="utf-8 or gb18030 (covers GBK), as detected; xlsx for a workbook")
    sheet: str | None = Field(default=None, description="For a workbook: the worksheet read")
    dry_run: bool = Field(description="True: checked and compared with what is stored, nothing stored")
    ignored_columns: list[str] = Field(description="Columns ingest does not read (e.g. 序号)")
    rows: list[UploadRowResult]
    skipped_rows: list[SkippedRow] = Field(default_factory=list, description="Workbook rows left out: a "
                                           "trailing 合计/总计 row")
    created: int
    revised: int
    unchanged: int


class KeyInfo(BaseModel):
    """An API key as the operator sees it (never the key itself)."""

    id: str
    organisation: str
    description: str | None
    key_prefix: str = Field(description="The key's first characters, to recognise it")
    indicators: list[str] | None = Field(description="Indicators the key may submit; null: all")
    regions: list[str] | None = Field(description="Regions the key may submit; null: all")
    created_at: datetime
    revoked_at: datetime | None


class IssuedKey(KeyInfo):
    """A newly issued key: ``key`` is shown this once and stored only as a hash."""

    key: str


class KeyIssueIn(BaseModel):
    """A key to issue for a submitting organisation."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "organisation": "江阴市统计局", "indicators": ["gdp", "retail_sales"], "regions": ["jiangyin"],
        "description": "江阴市统计局综合科 数据报送系统",
    }]})

    organisation: str = Field(min_length=1, max_length=64, pattern=NO_NUL,
                              description="Who submits (shown as submitted_by)")
    indicators: list[str] | None = Field(default=None, max_length=500, description="Indicator ids; null: all")
    regions: list[str] | None = Field(default=None, max_length=20, description="Region ids; null: all")
    description: str | None = Field(default=None, max_length=500, pattern=NO_NUL)


class ReplayIn(BaseModel):
    """Which observations to publish again."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "from_period": "2024-M01", "to_period": "2024-Q2", "indicators": None,
    }]})

    from_period: str = Field(min_length=4, max_length=16, description="First period (its start bounds the range)")
    to_period: str = Field(min_length=4, max_length=16, description="Last period (its end bounds the range)")
    indicators: list[str] | None = Field(default=None, max_length=500, description="Only these; null: all")


class ReplayAccepted(BaseModel):
    """How many events were queued for publication."""

    events: int = Field(description="ObservationRecorded events queued with replayed=true and new event ids")
