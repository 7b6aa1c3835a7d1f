import pytest

from services.alerts.domain.lifecycle import Action, OpenAlert, decide
from shared.messages import Severity

W, C, OK = Severity.WARNING, Severity.CRITICAL, Severity.OK


@pytest.mark.parametrize(
    ("open_severity", "new", "action"),
    [(None, W, Action.OPEN), (None, C, Action.OPEN), (None, OK, Action.IGNORE),
     (W, C, Action.ESCALATE), (C, W, Action.UPDATE), (W, W, Action.UPDATE), (W, OK, Action.RESOLVE),
     (C, OK, Action.RESOLVE)],
)
def test_transitions(open_severity, new, action) -> None:
    alert = OpenAlert("a1", open_severity) if open_severity else None
    assert decide(alert, new) == action
