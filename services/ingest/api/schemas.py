"""Ingest's HTTP schemas: what bureaus send and what they get back."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.catalogue.model import Frequency, Measure
from shared.messages import ObservationStatus

_EXAMPLE = {
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
    note: str | None = Field(default=None, max_length=2000)
    source: str | None = Field(default=None, max_length=500, description="Release or document the figure is from")
    revision_reason: str | None = Field(
        default=None, max_length=2000, description="Why a figure differs from the one stored (a revision)"
    )


class ObservationBatchIn(BaseModel):
    """Several observations, stored all together or not at all."""

    model_config = ConfigDict(extra="forbid")

    observations: list[ObservationIn] = Field(min_length=1)


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


class ErrorItem(BaseModel):
    """One rejected field (FastAPI's validation error shape, plus the rule's name in ``type``)."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """A 422 answer: every bad row and field."""

    detail: list[ErrorItem]
