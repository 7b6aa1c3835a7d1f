"""SDMX-style reporting periods (2024, 2024-S1, 2024-Q1, 2024-M03) and the Chinese statistical calendar."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from shared.catalogue.model import Frequency

_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?P<freq>[SQM])(?P<idx>\d{1,2}))?$")
_MONTHS_PER = {Frequency.HALF_YEARLY: 6, Frequency.QUARTERLY: 3, Frequency.MONTHLY: 1}
_COUNT = {Frequency.HALF_YEARLY: 2, Frequency.QUARTERLY: 4, Frequency.MONTHLY: 12}
_QUARTER_ZH = {1: "一季度", 2: "上半年", 3: "前三季度", 4: "全年"}
_QUARTER_ALONE_ZH = {1: "一季度", 2: "二季度", 3: "三季度", 4: "四季度"}


class PeriodError(ValueError):
    """A period code that is malformed or out of range; the message says which rule it breaks."""


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: a year, a half, a quarter or a month."""

    year: int
    frequency: Frequency
    index: int  # 1-based half, quarter or month; 1 for a year

    @classmethod
    def parse(cls, code: str) -> Period:
        """Parse an SDMX-style code; raises PeriodError naming the rule."""
        m = _PATTERN.match(code)
        if not m:
            raise PeriodError(
                f"{code!r} is not a period code: use YYYY, YYYY-S1..S2, YYYY-Q1..Q4 or YYYY-M01..M12"
            )
        year = int(m["year"])
        if not 1990 <= year <= 2100:
            raise PeriodError(f"{code!r}: year must be between 1990 and 2100")
        if m["freq"] is None:
            return cls(year, Frequency.ANNUAL, 1)
        freq = Frequency(m["freq"])
        idx = int(m["idx"])
        if freq == Frequency.MONTHLY and len(m["idx"]) != 2:
            raise PeriodError(f"{code!r}: months have two digits, e.g. {year}-M03")
        if not 1 <= idx <= _COUNT[freq]:
            raise PeriodError(f"{code!r}: {freq.name.lower()} index must be between 1 and {_COUNT[freq]}")
        return cls(year, freq, idx)

    @property
    def code(self) -> str:
        """The SDMX-style code."""
        if self.frequency == Frequency.ANNUAL:
            return str(self.year)
        if self.frequency == Frequency.MONTHLY:
            return f"{self.year}-M{self.index:02d}"
        return f"{self.year}-{self.frequency.value}{self.index}"

    @property
    def last_month(self) -> int:
        """The last month (1-12) the period covers."""
        if self.frequency == Frequency.ANNUAL:
            return 12
        return self.index * _MONTHS_PER[self.frequency]

    @property
    def year_fraction(self) -> float:
        """Share of the year gone at the end of the period (时序进度): 2024-Q1 → 0.25."""
        return self.last_month / 12

    def end_date(self) -> date:
        """The last day of the period."""
        m = self.last_month
        if m == 12:
            return date(self.year, 12, 31)
        return date(self.year, m + 1, 1) - timedelta(days=1)

    def label_zh(self, cumulative: bool) -> str:
        """How a Chinese release names the period: 2024年1—3月, 2024年一季度, 2024年上半年, 2024年全年."""
        y = f"{self.year}年"
        if self.frequency == Frequency.ANNUAL:
            return y + "全年"
        if self.frequency == Frequency.HALF_YEARLY:
            return y + ("上半年" if self.index == 1 else ("全年" if cumulative else "下半年"))
        if self.frequency == Frequency.QUARTERLY:
            return y + (_QUARTER_ZH if cumulative else _QUARTER_ALONE_ZH)[self.index]
        if cumulative:
            return y + ("1月" if self.index == 1 else f"1—{self.index}月")
        return y + f"{self.index}月"


    def label_end_zh(self) -> str:
        """How a release names the end of the period, for stocks and levels: 2024年6月末, 2024年二季度末, 2024年末."""
        y = f"{self.year}年"
        if self.frequency == Frequency.ANNUAL or self.last_month == 12:
            return y + "末"
        if self.frequency == Frequency.HALF_YEARLY:
            return y + "上半年末"
        if self.frequency == Frequency.QUARTERLY:
            return y + _QUARTER_ALONE_ZH[self.index] + "末"
        return y + f"{self.index}月末"

    @property
    def months_left(self) -> int:
        """Months of the year after the period (the 1—2月 release, 2024-M02, leaves 10)."""
        return 12 - self.last_month


def parse_period(code: str) -> Period:
    """Shorthand for Period.parse."""
    return Period.parse(code)
