"""SDMX-style reporting periods (2024, 2024-S1, 2024-Q1, 2024-M03) and the Chinese statistical calendar.

How a period is *named* in Chinese (2024年1—6月, 2024年6月末) is wording, in ``shared/wording.py``; this module
is only the calendar: which months a period covers, when it ends, and which of two periods is the later.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta

from shared.catalogue.model import Frequency

_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?P<freq>[SQM])(?P<idx>\d{1,2}))?$")
_MONTHS_PER = {Frequency.ANNUAL: 12, Frequency.HALF_YEARLY: 6, Frequency.QUARTERLY: 3, Frequency.MONTHLY: 1}
_COUNT = {Frequency.HALF_YEARLY: 2, Frequency.QUARTERLY: 4, Frequency.MONTHLY: 12}


class PeriodError(ValueError):
    """A period code that is malformed or out of range; the message says which rule it breaks."""


@functools.total_ordering
@dataclass(frozen=True, eq=True, order=False)
class Period:
    """A reporting period: a year, a half, a quarter or a month.

    Periods are totally ordered by ``sort_key``: the year, then the last month the period reaches, then how
    many months it spans. So within a year the period reaching further is the later one, and among periods
    ending in the same month the coarser one is the later, fuller statement: 2024 > 2024-S2 > 2024-Q4 >
    2024-M12, and 2024-S1 > 2024-Q2 > 2024-M06. (A half-year or annual figure is published after, and
    consolidates, the quarter or month ending with it.) No two distinct periods share a key, so "the latest
    period" never depends on the order rows come back in.
    """

    year: int
    frequency: Frequency
    index: int  # 1-based half, quarter or month; 1 for a year

    @classmethod
    def parse(cls, code: str) -> Period:
        """Parse an SDMX-style code; raises PeriodError naming the rule."""
        return _parse(code)

    @classmethod
    def _parse_code(cls, code: str) -> Period:
        """What ``parse`` returns for a code it has not parsed yet."""
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

    @functools.cached_property  # kept in the instance's __dict__: not a field, so not in eq, hash or repr
    def code(self) -> str:
        """The SDMX-style code."""
        if self.frequency == Frequency.ANNUAL:
            return str(self.year)
        if self.frequency == Frequency.MONTHLY:
            return f"{self.year}-M{self.index:02d}"
        return f"{self.year}-{self.frequency.value}{self.index}"

    @property
    def months_spanned(self) -> int:
        """How many months the period itself covers (12, 6, 3 or 1)."""
        return _MONTHS_PER[self.frequency]

    @property
    def last_month(self) -> int:
        """The last month (1-12) the period covers."""
        return self.index * self.months_spanned

    @property
    def first_month(self) -> int:
        """The first month (1-12) the period itself covers."""
        return self.last_month - self.months_spanned + 1

    def months(self, *, cumulative: bool) -> tuple[int, int]:
        """The months a figure for this period covers: from January for year-to-date measures (1—N月)."""
        return (1 if cumulative else self.first_month), self.last_month

    @property
    def is_year_end(self) -> bool:
        """Whether the period reaches December: a year-to-date figure for it covers the whole year."""
        return self.last_month == 12

    @property
    def year_fraction(self) -> float:
        """Share of the year gone at the end of the period (the linear 序时进度): 2024-Q1 → 0.25."""
        return self.last_month / 12

    @property
    def months_left(self) -> int:
        """Months of the year after the period (the 1—2月 release, 2024-M02, leaves 10)."""
        return 12 - self.last_month

    @property
    def sort_key(self) -> tuple[int, int, int]:
        """The key of the total order on periods (see the class docstring)."""
        return self.year, self.last_month, self.months_spanned

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self.sort_key < other.sort_key

    def start_date(self) -> date:
        """The first day of the period."""
        return date(self.year, self.first_month, 1)

    def end_date(self) -> date:
        """The last day of the period."""
        m = self.last_month
        if m == 12:
            return date(self.year, 12, 31)
        return date(self.year, m + 1, 1) - timedelta(days=1)

    def has_ended(self, today: date) -> bool:
        """Whether the period is over on ``today`` (its last day is still part of it)."""
        return today > self.end_date()


def parse_period(code: str) -> Period:
    """Shorthand for Period.parse."""
    return Period.parse(code)


# A service parses the same few hundred codes again and again (every figure read or received carries one);
# a period is immutable, so one parse per code serves them all. Errors are raised, never cached.
_parse = functools.lru_cache(maxsize=4096)(Period._parse_code)
