"""How ingest's writes are committed: one request in one transaction, or single POSTs together (group commit).

``commit_one`` is a request's transaction with its Idempotency-Key bookkeeping: a stored response for the key
is answered again (or refused when the key was used for a different request), otherwise the request is
written and its response stored with it. Two requests revising one series at once collide on (series,
vintage), two retries with one key on its unique constraint: the loser is retried and sees the winner's work.

``SingleWrites`` commits single POSTs together. Each of them in a transaction of its own paid a connection
checkout, a BEGIN, a COMMIT (a WAL flush) and its statements, and 32 bureaus' clients posting at once queued
on that. A writer thread takes every single POST waiting (at most ``GROUP_MAX``) and writes them in one
transaction: each one's Idempotency-Key is looked up as ``commit_one`` would, their figures are recorded
together, per API key, in the order they came (``record_observations``: a series revised twice in one group
gets two vintages, as one request after the other would), each keyed response is stored, and every request is
answered only after the commit. Nothing waits for a group to fill: a request that finds the writer idle is
written at once, alone.

When the group's transaction breaks a unique key (a concurrent batch wrote the same series vintage), it is
rolled back and each request of the group is written alone by ``commit_one``, retries included. A request
repeating an Idempotency-Key of an earlier request in the same group is written alone after the group's
commit, so it is answered with the stored response. Any other failure fails every request of the group with
it; none of them is committed.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.ingest.adapters.store import IngestStore, Transaction, WriteConflict
from services.ingest.domain.keys import ApiKey
from services.ingest.domain.observations import Checked, Outcome
from services.ingest.service import Recorded, record_observations
from shared.clock import Clock

log = logging.getLogger(__name__)

GROUP_MAX = 256  # single POSTs in one transaction at most
ATTEMPTS = 3  # a write that keeps colliding with concurrent writers is refused after this many


@dataclass(frozen=True)
class Answer:
    """A committed request's response: status, JSON body, what each row did; ``replayed`` for a stored one."""

    status: int
    body: bytes
    results: list[Recorded]
    replayed: bool = False


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was used before for a different request (the routes answer 422)."""

    def __init__(self, key: str, used_at: datetime) -> None:
        super().__init__(f"Idempotency-Key {key!r} was used at {used_at} for a different request")
        self.key = key
        self.used_at = used_at


Writer = Callable[[Transaction], tuple[int, bytes, list[Recorded]]]


def commit_one(store: IngestStore, *, key_id: str, idem: str | None, fingerprint: str, write: Writer,
               now: datetime, idempotency_ttl: timedelta, dry_run: bool = False) -> Answer:
    """Run ``write`` in one transaction with the Idempotency-Key bookkeeping; a dry run is rolled back."""
    expired_before = now - idempotency_ttl
    for attempt in range(ATTEMPTS):
        try:
            with store.transaction() as tx:
                if idem is not None and not dry_run:
                    stored = tx.idempotency.find(key_id, idem, expired_before)
                    if stored is not None:
                        if stored.fingerprint != fingerprint:
                            raise IdempotencyKeyReused(idem, stored.created_at)
                        return Answer(stored.status_code, stored.body, [], replayed=True)
                status, body, results = write(tx)
                if dry_run:
                    tx.rollback()
                elif idem is not None:
                    tx.idempotency.store(key_id, idem, fingerprint, status, body, now)
                return Answer(status, body, results)
        except WriteConflict:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def single_answer(r: Recorded) -> tuple[int, bytes, list[Recorded]]:
    """A single POST's response: 201 for a new vintage, 200 for a figure identical to the stored one."""
    body = json.dumps({"id": r.id, "outcome": r.outcome.value, "vintage": r.vintage}).encode()
    return (200 if r.outcome == Outcome.UNCHANGED else 201), body, [r]


@dataclass
class _Single:
    key: ApiKey
    idem: str | None
    fingerprint: str
    checked: Checked
    future: Future[Answer] = field(default_factory=Future)


class SingleWrites:
    """Commits single POSTs in groups, from a writer thread of its own (started by the first POST)."""

    def __init__(self, store: IngestStore, clock: Clock, idempotency_ttl: timedelta, *,
                 group_max: int = GROUP_MAX) -> None:
        self.store = store
        self.clock = clock
        self.idempotency_ttl = idempotency_ttl
        self.group_max = group_max
        self._queue: queue.SimpleQueue[_Single | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.groups = 0  # transactions written for groups of more than one request (read by the tests)

    def submit(self, key: ApiKey, idem: str | None, fingerprint: str, checked: Checked) -> Future[Answer]:
        """Queue one checked observation; the future is done once it is committed (or has failed)."""
        item = _Single(key, idem, fingerprint, checked)
        self._start()
        self._queue.put(item)
        return item.future

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is queued, then stop the writer thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout_s)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ingest-single-writes", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = False
            while len(group) < self.group_max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                group.append(item)
            self._write(group)
            if stop:
                return

    def _write(self, group: list[_Single]) -> None:
        try:
            if len(group) == 1:
                self._alone(group[0])
                return
            try:
                answers, later = self._together(group)
            except WriteConflict:
                log.info("single writes: a group of %d collided with a concurrent write; writing each alone",
                         len(group))
                for item in group:
                    self._alone(item)
                return
            self.groups += 1
            for item, answer in answers:
                if isinstance(answer, BaseException):
                    item.future.set_exception(answer)
                else:
                    item.future.set_result(answer)
            for item in later:
                self._alone(item)
        except BaseException as exc:  # never leave a request waiting: whatever is not answered fails with it
            for item in group:
                if not item.future.done():
                    item.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise

    def _alone(self, item: _Single) -> None:
        now = self.clock()
        try:
            answer = commit_one(
                self.store, key_id=item.key.id, idem=item.idem, fingerprint=item.fingerprint,
                now=now, idempotency_ttl=self.idempotency_ttl,
                write=lambda tx: single_answer(record_observations(
                    tx.observations, tx.events, [item.checked], submitted_by=item.key.organisation,
                    api_key_id=item.key.id, now=now)[0]))
        except Exception as exc:
            item.future.set_exception(exc)
        else:
            item.future.set_result(answer)

    def _together(self, group: list[_Single]) -> tuple[list[tuple[_Single, Answer | Exception]], list[_Single]]:
        """One transaction for the group: the answers (committed when this returns) and the requests left for
        later (a repeated Idempotency-Key)."""
        now = self.clock()
        expired_before = now - self.idempotency_ttl
        answers: dict[int, Answer | Exception] = {}
        later: list[_Single] = []
        keys_seen: set[tuple[str, str]] = set()
        by_key: dict[str, list[int]] = {}  # API key id -> the group's requests to record, in order
        with self.store.transaction() as tx:
            for i, item in enumerate(group):
                if item.idem is not None:
                    if (item.key.id, item.idem) in keys_seen:
                        later.append(item)
                        continue
                    keys_seen.add((item.key.id, item.idem))
                    stored = tx.idempotency.find(item.key.id, item.idem, expired_before)
                    if stored is not None:
                        answers[i] = (IdempotencyKeyReused(item.idem, stored.created_at)
                                      if stored.fingerprint != item.fingerprint
                                      else Answer(stored.status_code, stored.body, [], replayed=True))
                        continue
                by_key.setdefault(item.key.id, []).append(i)
            for indexes in by_key.values():
                key = group[indexes[0]].key
                results = record_observations(tx.observations, tx.events, [group[i].checked for i in indexes],
                                              submitted_by=key.organisation, api_key_id=key.id, now=now)
                for i, r in zip(indexes, results, strict=True):
                    status, body, rows = single_answer(r)
                    if (idem := group[i].idem) is not None:
                        tx.idempotency.store(key.id, idem, group[i].fingerprint, status, body, now)
                    answers[i] = Answer(status, body, rows)
        return [(group[i], answers[i]) for i in sorted(answers)], later
