"""The upload template a bureau downloads: the columns, the indicators its key may write, one example row.

Pure: catalogue, key and today in, a plain description out; services/ingest/adapters/workbook.py writes it
as .xlsx, the route as CSV. The example row leaves 数值 blank, so an unfilled template is refused (naming the
row), never stored as a figure nobody reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.ingest.domain.keys import ApiKey
from shared.catalogue import Catalogue
from shared.catalogue.model import Frequency
from shared.regions import REGIONS

COLUMNS = ("指标", "地区", "期别", "口径", "数值", "单位", "数据状态", "备注", "来源")
VALUE_COLUMN = COLUMNS.index("数值")
MEASURE_NAMES = {"level": "当期", "cumulative_level": "累计", "yoy_pct": "同比增长",
                 "cumulative_yoy_pct": "累计增速"}
STATUS_NAMES = ("初步数", "预计数", "最终核实数")
FREQUENCY_NAMES = {Frequency.MONTHLY: "月度", Frequency.QUARTERLY: "季度", Frequency.HALF_YEARLY: "半年度",
                   Frequency.ANNUAL: "年度"}
PERIOD_WRITING = {
    Frequency.MONTHLY: "2024年6月（1—6月累计写作 2024年1—6月 亦可）；也可按季、半年、年报送",
    Frequency.QUARTERLY: "2024年二季度、2024年前三季度；也可按半年、年报送",
    Frequency.HALF_YEARLY: "2024年上半年、2024年下半年；也可按年报送",
    Frequency.ANNUAL: "2024年",
}
_QUARTER_NAMES = ("一季度", "二季度", "三季度", "四季度")
INSTRUCTIONS = (
    "一、每行填写一个数据：指标、地区、期别、口径、数值、单位为必填；数据状态不填即为初步数。",
    "二、指标可填中文名称或代码（见“指标”工作表），地区可填“江阴市”或“江阴”等，口径填累计、累计增速、当期、同比增长。",
    "三、期别写成文本，如 2024年6月、2024年二季度、2024年上半年、2024年；不要写成日期（如 2024/6/30），"
    "日期无法确定所指期别。",
    "四、数值填数字，可带千位分隔符（1,378,600），不要带单位；增速填百分数的数值（5.8 表示 5.8%）。",
    "五、单位须与口径一致：增速为 %，总量可用指标单位或可换算的单位（亿元、万元）。",
    "六、示例行（第2行）的“数值”留空：请填上数值或删去该行，留空上传会被拒绝。",
    "七、不要合并单元格；公式须在 Excel 或 WPS 中计算并保存后上传；末尾的“合计”行会被跳过。",
    "八、上传前可在“数据报送”页面（/upload）先点“预检”：列出每个问题所在的行和列，不保存任何数据。",
)


@dataclass(frozen=True)
class TemplateIndicator:
    """One indicator the key may write, as the template lists it."""

    id: str
    name_zh: str
    unit: str
    frequency_zh: str
    period_writing: str
    measures_zh: tuple[str, ...]


@dataclass(frozen=True)
class Template:
    """What a template holds: columns, the key's indicators and regions, the choices, an example row."""

    columns: tuple[str, ...]
    indicators: tuple[TemplateIndicator, ...]
    regions: tuple[str, ...]
    measures: tuple[str, ...]
    statuses: tuple[str, ...]
    example: tuple[str, ...]
    instructions: tuple[str, ...]


def last_ended_period(frequency: Frequency, today: date) -> str:
    """The latest period of this frequency that has ended by ``today``, as a bureau writes it (2024年二季度)."""
    y, m = today.year, today.month
    if frequency == Frequency.MONTHLY:
        return f"{y}年{m - 1}月" if m > 1 else f"{y - 1}年12月"
    if frequency == Frequency.QUARTERLY:
        q = (m - 1) // 3
        return f"{y}年{_QUARTER_NAMES[q - 1]}" if q else f"{y - 1}年四季度"
    if frequency == Frequency.HALF_YEARLY:
        return f"{y}年上半年" if m > 6 else f"{y - 1}年下半年"
    return f"{y - 1}年"


def build_template(catalogue: Catalogue, key: ApiKey, today: date) -> Template:
    """The template for this key: only the indicators and regions it may write."""
    indicators = [i for i in catalogue.indicators.values() if key.indicators is None or i.id in key.indicators]
    regions = [name for rid, name in REGIONS.items() if key.regions is None or rid in key.regions]
    listed = tuple(TemplateIndicator(
        id=i.id, name_zh=i.name_zh, unit=i.unit, frequency_zh=FREQUENCY_NAMES[i.frequency],
        period_writing=PERIOD_WRITING[i.frequency], measures_zh=tuple(MEASURE_NAMES[m] for m in i.measures),
    ) for i in indicators)
    example: tuple[str, ...] = ()
    if indicators:
        first = indicators[0]
        measure = first.measures[0]
        unit = "%" if measure.endswith("_pct") else first.unit
        example = (first.name_zh, regions[0] if regions else "", last_ended_period(first.frequency, today),
                   MEASURE_NAMES[measure], "", unit, STATUS_NAMES[0], "", "")
    return Template(COLUMNS, listed, tuple(regions), tuple(MEASURE_NAMES.values()), STATUS_NAMES, example,
                    INSTRUCTIONS)
