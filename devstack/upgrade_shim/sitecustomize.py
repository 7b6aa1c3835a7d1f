"""The fault drill's "newer version" of a producer: every event it writes carries a field no reader knows yet.

``devstack/drill.py`` puts this directory first on the ``PYTHONPATH`` of the evaluator it restarts in its
rolling-upgrade fault, so Python imports this module at start-up (``sitecustomize``), before the service's own
code. It wraps ``shared.messages.encode_events`` (and the name ``shared.outbox`` imports), which every outbox
row's payload comes from, so that every event's data gets ``UPGRADE_FIELD``, as a release adding an optional
field would. Readers of the current version must ignore it (``Envelope.read``), never dead-letter the event.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

UPGRADE_FIELD = "drill_upgrade_release"  # the field a newer version adds; the drill looks for it in the outbox
RELEASE = os.environ.get("WUXI_DRILL_UPGRADE_RELEASE", "2024.99-drill")


def _install() -> None:
    import shared.messages as messages

    original = messages.encode_events

    def encode_events(events: Iterable[Any], **kwargs: Any) -> Iterator[tuple[str, bytes]]:
        for event_id, payload in original(events, **kwargs):
            doc = json.loads(payload)
            doc["data"][UPGRADE_FIELD] = {"release": RELEASE, "note": "新版本字段"}
            yield event_id, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()

    messages.encode_events = encode_events
    import shared.outbox as outbox  # it imported the name before the patch only if already loaded

    outbox.encode_events = encode_events


_install()
