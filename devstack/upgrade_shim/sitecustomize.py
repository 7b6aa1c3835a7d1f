"""The fault drill's "newer version" of a producer: every event it writes carries a field no reader knows yet.

``devstack/drill.py`` puts this directory first on the ``PYTHONPATH`` of the evaluator it restarts in its
rolling-upgrade fault, so Python imports this module at start-up (``sitecustomize``), before the service's own
code. It wraps ``shared.messages.envelope_for`` (and the name ``shared.outbox`` imports) so that every event's
data gets ``UPGRADE_FIELD``, as a release adding an optional field would. Readers of the current version must
ignore it (``Envelope.read``), never dead-letter the event.
"""

from __future__ import annotations

import os
from typing import Any

UPGRADE_FIELD = "drill_upgrade_release"  # the field a newer version adds; the drill looks for it in the outbox
RELEASE = os.environ.get("WUXI_DRILL_UPGRADE_RELEASE", "2024.99-drill")


def _install() -> None:
    import shared.messages as messages

    original = messages.envelope_for

    def envelope_for(data: Any, **kwargs: Any) -> messages.Envelope:
        env = original(data, **kwargs)
        return env.model_copy(update={"data": {**env.data, UPGRADE_FIELD: {"release": RELEASE, "note": "新版本字段"}}})

    messages.envelope_for = envelope_for
    import shared.outbox as outbox  # it imported the name before the patch only if already loaded

    outbox.envelope_for = envelope_for  # type: ignore[assignment]


_install()
