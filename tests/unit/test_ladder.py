"""The ladder every reading climbs, as a table: the score, the status before, and what it gives.

The ladder below is 序时进度's: 严重滞后 under -10 points, 滞后 under -3, 符合进度 up to +3, 超前 beyond (the top
strict), hysteresis of 1 point on the 滞后 and 超前 lines but not on the 严重滞后 one (to show both kinds).
"""

from __future__ import annotations

import pytest

from services.evaluator.domain.ladder import Classified, Ladder
from services.evaluator.domain.model import Status

S = Status
LADDER = Ladder((S.FAR_BEHIND, S.BEHIND, S.ON_TRACK, S.AHEAD), (-10.0, -3.0, 3.0), strict_top=True,
                hysteresis_at=frozenset({1, 2}))


@pytest.mark.parametrize(("score", "previous", "margin", "expected"), [
    (-10.0, None, 1.0, Classified(S.BEHIND, S.BEHIND)),  # a lower bound is reached by equalling it
    (-10.1, None, 1.0, Classified(S.FAR_BEHIND, S.FAR_BEHIND)),
    (3.0, None, 1.0, Classified(S.ON_TRACK, S.ON_TRACK)),  # the strict top must be exceeded
    (3.1, None, 1.0, Classified(S.AHEAD, S.AHEAD)),
    (-9.5, S.FAR_BEHIND, 1.0, Classified(S.BEHIND, S.BEHIND)),  # no hysteresis on that line: improves at once
    (-2.5, S.BEHIND, 1.0, Classified(S.BEHIND, S.ON_TRACK, held_at=1)),  # not clear of -3 by the margin: held
    (-2.0, S.BEHIND, 1.0, Classified(S.ON_TRACK, S.ON_TRACK)),  # clear by exactly the margin: improves
    (-2.5, S.BEHIND, 0.0, Classified(S.ON_TRACK, S.ON_TRACK)),  # no margin, no hysteresis
    (-2.5, S.NEAR_CAP, 1.0, Classified(S.ON_TRACK, S.ON_TRACK)),  # a status of another ladder holds nothing
    (-11.0, S.ON_TRACK, 1.0, Classified(S.FAR_BEHIND, S.FAR_BEHIND)),  # worsening is never held
    (-5.0, S.BEHIND, 1.0, Classified(S.BEHIND, S.BEHIND)),  # the same step
    # Two steps up in one reading: the first line crossed without hysteresis, the second held...
    (3.5, S.BEHIND, 1.0, Classified(S.ON_TRACK, S.AHEAD, held_at=2)),
    # ... or both cleared; from the bottom, three lines at once.
    (4.5, S.FAR_BEHIND, 1.0, Classified(S.AHEAD, S.AHEAD)),
    (-2.5, S.FAR_BEHIND, 1.0, Classified(S.BEHIND, S.ON_TRACK, held_at=1)),
])
def test_the_ladder(score: float, previous: Status | None, margin: float, expected: Classified) -> None:
    assert LADDER.classify(score, previous, margin) == expected


def test_a_ladder_refuses_bounds_that_do_not_fit_its_statuses() -> None:
    with pytest.raises(ValueError, match="one ascending bound between each pair of statuses"):
        Ladder((S.BEHIND, S.ON_TRACK, S.AHEAD), (1.0, 0.0))
    with pytest.raises(ValueError, match="one ascending bound between each pair of statuses"):
        Ladder((S.BEHIND, S.ON_TRACK, S.AHEAD), (0.0,))
    assert Ladder((S.BEHIND, S.ON_TRACK, S.AHEAD), (0.0, 0.0)).level(0.0) == 2
