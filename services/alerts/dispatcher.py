"""Delivers queued notifications: a pool of workers, backoff and a concurrency cap kept per receiver.

- Only the replica holding the dispatcher's leader lock fetches, groups and sends. A replica that loses
  the lock drops what it had buffered at once, and its workers send nothing more (a request already on the
  wire finishes; its outcome is still recorded).
- A fetcher hands due notifications to a thread pool, at most ``per_receiver`` at once to one receiver
  (``department:channel``), so a slow or dead receiver only ever ties up its own share of the workers.
- What it reads waits in bounded buffers (``fetch_due``): a receiver with a full buffer, or backing off, is left
  out of the next read, so a burst is read once and a dead receiver's backlog holds nobody up.
- A retryable failure blocks the receiver for an exponential backoff with jitter (at least its Retry-After,
  up to the retry budget); while blocked, one notification at a time probes it. The first success unblocks
  it and makes its whole backlog due at once, dead letters whose budget has not run out included.
- Retries are bounded by elapsed time (domain/retry.py); a notification is dead when its budget ran out.
  An ambiguous failure on a channel that cannot drop repeats leaves it uncertain (domain/delivery.py).
- Chat robots (WeCom, DingTalk, Feishu) take about 20 messages a minute: each robot (its URL) gets a sliding
  window of ``RobotLimits.max_per_window`` messages per ``window_s``, shared by every receiver using it, and one
  message at a time. When a robot's backlog is more than its window still allows, what waits is merged into
  one message (as many notifications as fit whole in the platform's size limit), sent when a slot frees; each
  notification keeps its own row and delivery-log line, all marked with the one delivery. A rate-limit answer
  (WeCom 45009, DingTalk 130101/660026, Feishu 11232) pauses that robot (DingTalk 10 minutes) and leaves the
  notifications pending: neither a failure of the receiver nor a step towards dead.
- Just before sending, silences are checked again: one created after the notification was queued holds it.
- A writer commits each attempt (notification state and the delivery log) in batches; only then does a
  notification count as sent and leave the in-flight set. A kill -9 between a delivery and that commit
  re-sends it once after the restart with the same Idempotency-Key, which the receiver uses to drop it.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.alerts.adapters.db import Database
from services.alerts.adapters.notifications import DueNotification, Recorded
from services.alerts.channels.base import Channel, DeliveryResult
from services.alerts.domain.delivery import Attempted, settle
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.model import AttemptOutcome, DeliveryStatus
from services.alerts.domain.retry import RetryBudget, backoff_s
from services.alerts.domain.silences import Silence, silenced_by
from services.alerts.domain.text import clean
from services.alerts.metrics import AlertsMetrics
from services.alerts.ratelimit import SlidingWindow
from services.alerts.receivers import Receivers
from shared.clock import Clock, utc_now
from shared.db import is_transient_error
from shared.faults import fault_point
from shared.messages import NotificationDeadLettered
from shared.outbox import Outbox

log = logging.getLogger(__name__)


class Leadership(Protocol):
    """The leader lock (shared/adapters/leader.py LeaderLock)."""

    def held(self) -> bool:
        """Whether this replica leads (taking the lock when free)."""
        ...

    def release(self) -> None:
        """Give the lock up."""
        ...


ROBOTS = frozenset({ChannelType.WECOM, ChannelType.DINGTALK, ChannelType.FEISHU})


@dataclass(frozen=True)
class RobotLimits:
    """How fast the chat robots are sent to (ALERTS_ROBOT_* settings)."""

    max_per_window: int = 18  # WeCom and DingTalk take 20 a minute: stay under it
    per_channel: Mapping[str, int] = field(default_factory=dict)  # channel type -> its own limit
    window_s: float = 60.0
    pause_s: float = 60.0  # after a rate-limit answer (WeCom, Feishu)
    dingtalk_pause_s: float = 600.0  # DingTalk refuses a robot for 10 minutes once it was sent too much
    max_merge: int = 50  # notifications looked at for one merged message

    def limit(self, channel: ChannelType) -> int:
        """Messages per window for a robot of this type."""
        return self.per_channel.get(channel.value, self.max_per_window)

    def pause(self, channel: ChannelType) -> float:
        """How long a robot of this type is left alone after it answered that we send too fast."""
        return self.dingtalk_pause_s if channel == ChannelType.DINGTALK else self.pause_s


@dataclass
class ReceiverState:
    """What the dispatcher knows about one receiver (kept in memory; a restart starts afresh)."""

    inflight: int = 0
    failures: int = 0  # consecutive retryable failures
    blocked_until: float = 0.0  # time.monotonic(); 0 = not blocked
    probing: bool = False


@dataclass
class _Outcome:
    row: DueNotification
    result: DeliveryResult
    duration_s: float
    delay_s: float
    recovered: bool  # first success after failures: make the receiver's backlog due
    silence_id: str | None = None  # held back by a silence at send time
    merged: int = 1  # notifications sent in the same message (a robot's merged backlog)


class Dispatcher:
    """Sends due notifications through the channels."""

    def __init__(self, db: Database, receivers: Receivers, channels: Mapping[ChannelType, Channel], *,
                 leader: Leadership, metrics: AlertsMetrics, outbox: Outbox, timeout_s: float,
                 budget: RetryBudget, retry_base_s: float, retry_max_s: float, poll_interval_s: float,
                 retry_ambiguous: frozenset[ChannelType] = frozenset({ChannelType.WEBHOOK}), workers: int = 32,
                 per_receiver: int = 4, flush_groups: Callable[[], float | None] | None = None,
                 robot_limits: RobotLimits | None = None,
                 merge: Callable[[list[DueNotification]], str | None] | None = None,
                 clock: Clock = utc_now, rng: random.Random | None = None,
                 monotonic: Callable[[], float] = time.monotonic, buffer_per_receiver: int = 1000,
                 max_buffered: int = 5000) -> None:
        self.db = db
        self.receivers = receivers
        self.channels = channels
        self.leader = leader
        self.metrics = metrics
        self.outbox = outbox
        self.timeout_s = timeout_s
        self.budget = budget
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.poll_interval_s = poll_interval_s
        self.retry_ambiguous = retry_ambiguous
        self.workers = workers
        self.per_receiver = per_receiver
        self.buffer_per_receiver = buffer_per_receiver
        self.max_buffered = max_buffered
        self.flush_groups = flush_groups
        self.robot_limits = robot_limits
        # The stored payload of several notifications to one receiver as one message; None when they do not fit
        # whole (built from pipeline.Rendering in main.py).
        self.merge = merge
        self._robot_types: dict[str, ChannelType] = {}  # robot URL -> its channel type
        self.limiter = SlidingWindow(lambda url: robot_limits.limit(self._robot_types[url]) if robot_limits else 1,
                                     robot_limits.window_s if robot_limits else 60.0, monotonic)
        self.clock = clock
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._states: dict[str, ReceiverState] = {}
        # Fetched and not yet committed (buffered, being sent, or being recorded): id -> its receiver.
        self._inflight: dict[int, str] = {}
        self._buffers: dict[str, deque[DueNotification]] = {}
        self._silences: list[Silence] = []
        self._need_fetch = True
        self._capped: set[str] = set()  # receivers left out of the last fetch: their buffer was full
        self._truncated = False  # the last fetch took as many rows as it asked for: more may be due
        self._leading = False
        self._results: queue.Queue[_Outcome] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._bookkeeping_failing_since: float | None = None
        self.rounds = 0  # dispatch rounds run, for tests waiting on progress
        self.on_dead_letter: Callable[[], None] | None = None  # wakes the outbox relay
        metrics.watch_dispatcher(lambda: (self._leading, sum(len(b) for b in self._buffers.values())))

    def wake(self) -> None:
        """Ask the dispatcher to look for due notifications (and silences) now: new rows were committed."""
        self._need_fetch = True
        self._wake.set()

    def check_ready(self) -> None:
        """Raise when outcomes cannot be recorded: the writer died, or its commits keep failing."""
        if self._writer is not None and not self._writer.is_alive():
            raise RuntimeError("dispatcher: the delivery-log writer stopped")
        since = self._bookkeeping_failing_since
        if since is not None and time.monotonic() - since > 1.0:
            raise RuntimeError(f"dispatcher: delivery outcomes not committed for {time.monotonic() - since:.0f}s")

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set; a bug stops the loop (readiness fails), a transient failure is retried."""
        self._writer = threading.Thread(target=self._write_loop, args=(stop,), name="dispatch-writer", daemon=True)
        self._writer.start()
        last_fetch = 0.0
        try:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="deliver") as pool:
                while not stop.is_set():
                    if self._writer is not None and not self._writer.is_alive():
                        raise RuntimeError("the delivery-log writer stopped")
                    wait = self.poll_interval_s
                    self._wake.clear()
                    try:
                        last_fetch, wait = self._round(pool.submit, last_fetch)
                    except Exception as exc:
                        if not is_transient_error(exc):
                            raise
                        log.warning("dispatch round failed (%s); retrying", type(exc).__name__)
                        wait = 1.0
                    self.rounds += 1
                    self._wake.wait(wait)
                self._writer.join(timeout=self.timeout_s + 5)
        finally:
            self.leader.release()

    def _round(self, submit: Callable[..., Any], last_fetch: float) -> tuple[float, float]:
        wait = self.poll_interval_s
        if not self._check_leadership():
            return last_fetch, wait
        polled = time.monotonic() - last_fetch > self.poll_interval_s
        if self.flush_groups is not None and (self._need_fetch or polled):
            next_flush = self.flush_groups()
            if next_flush is not None:
                wait = min(wait, max(0.01, next_flush))
        # Query only when new rows may be due, or when a buffer the last fetch had to leave short ran low;
        # a freed slot is served from the buffer.
        if (self._need_fetch or self._running_low()
                or time.monotonic() - last_fetch >= min(wait, self._until_unblocked())):
            self._need_fetch = False
            last_fetch = time.monotonic()
            self.fetch_due()
        self.submit_buffered(submit)
        return last_fetch, min(wait, self._until_unblocked())

    def _check_leadership(self) -> bool:
        leading = self.leader.held()
        if self._leading and not leading:
            with self._lock:
                self._leading = False  # under the lock: a robot worker putting back unsent rows sees it
                dropped = [r.id for b in self._buffers.values() for r in b]
                self._buffers.clear()
                self._forget(dropped)
            log.warning("dispatcher: leadership lost; dropped %d buffered notifications", len(dropped))
        if leading and not self._leading and self.robot_limits is not None:
            self._seed_limiter()
        self._leading = leading
        return leading

    def _seed_limiter(self) -> None:
        """Count what the previous leader sent to the robots within the window (from the delivery log)."""
        assert self.robot_limits is not None
        now = self.clock()
        try:
            with self.db.read() as repos:
                sent = repos.notifications.recent_sends(
                    [c.value for c in ROBOTS], now - timedelta(seconds=self.robot_limits.window_s))
        except Exception as exc:  # the window then starts empty: log, and go on
            if not is_transient_error(exc):
                raise
            log.warning("dispatcher: recent robot sends not read (%s)", type(exc).__name__)
            return
        ages: dict[str, list[float]] = {}
        for receiver, at in sent:
            key = self._robot_key(receiver)
            if key is not None:
                ages.setdefault(key, []).append((now - at).total_seconds())
        for key, a in ages.items():
            self.limiter.seed(key, a)

    def _robot_key(self, receiver: str) -> str | None:
        """The robot's URL when the receiver is a rate-limited chat robot (None otherwise)."""
        if self.robot_limits is None or self.receivers is None:
            return None
        dest = self.receivers.resolve(receiver)
        if dest is None or dest.type not in ROBOTS:
            return None
        self._robot_types[dest.address] = dest.type
        return dest.address

    def _until_unblocked(self) -> float:
        now = time.monotonic()
        with self._lock:
            waits = [s.blocked_until - now for s in self._states.values()
                     if s.blocked_until > now and not s.probing]
            robots = [k for ref, b in self._buffers.items() if b for k in [self._robot_key(ref)] if k]
        waits += [w for w in (self.limiter.wait_s(k) for k in robots) if w > 0]
        return max(0.01, min(waits)) if waits else self.poll_interval_s

    def fetch_due(self, limit: int = 2000) -> int:
        """Buffer due notifications not yet known to the dispatcher, per receiver; returns how many were new.

        The buffers are bounded, so that a burst of tens of thousands is not read again on every round and the ids
        the query must leave out stay a few thousand:

        - a receiver holding ``buffer_per_receiver`` rows is left out of the query (its rows wait in the database;
          the next fetch comes when its buffer is half empty);
        - so is a receiver backing off after failures: it is sent nothing until it answers again (then its backlog
          is made due and fetched), and what it holds does not count towards the next bound;
        - no more than ``max_buffered`` rows are held for the other receivers in all.
        """
        now_m = time.monotonic()
        with self._lock:
            blocked = {ref for ref, b in self._buffers.items() if b and self._backing_off(ref, now_m)}
            full = {ref for ref, b in self._buffers.items() if len(b) >= self.buffer_per_receiver} - blocked
            buffered = sum(len(b) for ref, b in self._buffers.items() if ref not in blocked)
            left_out = full | blocked
            known = [i for i, ref in self._inflight.items() if ref not in left_out]
        room = min(limit, self.max_buffered - buffered)
        now = self.clock()
        with self.db.read() as repos:
            due = repos.notifications.due(now, exclude=known, exclude_receivers=sorted(left_out),
                                          limit=room) if room > 0 else []
            self._silences = repos.silences.active(now)
        new = 0
        with self._lock:
            self._capped, self._truncated = full, room <= 0 or len(due) >= room
            for row in due:
                if row.id in self._inflight:
                    continue
                self._inflight[row.id] = row.receiver
                self._buffers.setdefault(row.receiver, deque()).append(row)
                new += 1
        return new

    def _backing_off(self, ref: str, now_m: float) -> bool:
        """Under the lock: whether the receiver failed and waits out its backoff (or one attempt probes it)."""
        s = self._states.get(ref)
        return s is not None and s.failures > 0 and (s.blocked_until > now_m or s.probing)

    def _running_low(self) -> bool:
        """Whether a buffer the last fetch left short is down to half: fetch before it runs dry."""
        now_m = time.monotonic()
        with self._lock:
            if self._truncated and sum(len(b) for ref, b in self._buffers.items()
                                       if not self._backing_off(ref, now_m)) <= self.max_buffered // 2:
                return True
            return any(len(self._buffers.get(ref, ())) <= self.buffer_per_receiver // 2 for ref in self._capped)

    def _forget(self, ids: Iterable[int]) -> None:
        """Under the lock: these notifications are not in flight any more."""
        for i in ids:
            self._inflight.pop(i, None)

    def submit_buffered(self, submit: Callable[..., Any]) -> int:
        """Hand buffered notifications to workers within each receiver's cap, backoff and robot limit; returns
        how many attempts (one merged robot message counts once)."""
        picked: list[tuple[list[DueNotification], str | None]] = []
        now_m = time.monotonic()
        with self._lock:
            for ref, buf in self._buffers.items():
                s = self._states.setdefault(ref, ReceiverState())
                robot = self._robot_key(ref) if buf else None
                cap = 1 if robot else self.per_receiver  # a robot: one message at a time, its backlog merged
                while buf and s.inflight < cap and not self._backing_off(ref, now_m):
                    if robot is not None and not self.limiter.try_acquire(robot):
                        break
                    if s.failures:
                        s.probing = True  # half-open: one attempt tells whether the receiver is back
                    s.inflight += 1
                    # More waiting than the robot's window still takes: merge what waits into this message.
                    n = 1
                    if robot is not None and self.merge is not None and len(buf) - 1 > self.limiter.remaining(robot):
                        n = min(len(buf), self.robot_limits.max_merge if self.robot_limits else 1)
                    picked.append(([buf.popleft() for _ in range(n)], robot))
        for rows, robot in picked:
            if robot is None:
                submit(self._attempt, rows[0])
            else:
                submit(self._attempt_robot, rows, robot)
        return len(picked)

    def _muted_by(self, row: DueNotification) -> Silence | None:
        # Every alert of the notification must be muted for it to be held back (a group with one alert
        # not silenced still goes, whole).
        if not row.matchers:
            return None
        now = self.clock()
        found = [silenced_by(self._silences, now, target_id=t, department=row.department, severity=sev)
                 for t, sev in row.matchers]
        return found[0] if all(found) else None

    def _attempt(self, row: DueNotification) -> None:
        if not self._leading:  # leadership lost while it waited for a worker: the new leader sends it
            with self._lock:
                self._inflight.pop(row.id, None)
                s = self._states.setdefault(row.receiver, ReceiverState())
                s.inflight, s.probing = max(0, s.inflight - 1), False
            return
        started = time.perf_counter()
        silence = self._muted_by(row)
        if silence is not None:
            result = DeliveryResult(False, False, None, f"held back by silence {silence.id}")
        else:
            result = self._send(row)
            if result.delivered:
                fault_point("alerts.dispatcher.delivered")  # a crash here re-sends it with the same key
        duration = time.perf_counter() - started
        with self._lock:
            s = self._states.setdefault(row.receiver, ReceiverState())
            s.probing = False
            s.inflight = max(0, s.inflight - 1)  # the request is over; the id stays known until committed
            delay, recovered = self._after(s, result) if silence is None else (0.0, False)
        if silence is None:
            self.metrics.delivery_duration.labels(row.channel).observe(duration)
        self._results.put(_Outcome(row, result, duration, delay, recovered, silence.id if silence else None))
        self._wake.set()  # a slot is free: serve the receiver's buffer

    def _after(self, s: ReceiverState, result: DeliveryResult) -> tuple[float, bool]:
        """The receiver's state after an attempt (under the lock): (delay before its next attempt, recovered)."""
        if result.delivered:
            recovered = s.failures > 0
            s.failures, s.blocked_until = 0, 0.0
            return 0.0, recovered
        if not result.retryable:
            return 0.0, False
        s.failures += 1
        delay = backoff_s(s.failures, self.retry_base_s, self.retry_max_s, self._rng)
        if result.retry_after_s is not None:  # honoured up to the budget
            delay = max(delay, min(result.retry_after_s, self.budget.budget_s))
        s.blocked_until = time.monotonic() + delay
        return delay, False

    def _attempt_robot(self, rows: list[DueNotification], robot: str) -> None:
        """One message to a chat robot (a slot of its window is taken): one notification, or several merged."""
        ref = rows[0].receiver
        if not self._leading:  # leadership lost while it waited for a worker: the new leader sends them
            with self._lock:
                self._forget(r.id for r in rows)
                s = self._states.setdefault(ref, ReceiverState())
                s.inflight, s.probing = max(0, s.inflight - 1), False
            self.limiter.release(robot)
            return
        started = time.perf_counter()
        held = [(r, m) for r in rows if (m := self._muted_by(r)) is not None]
        payload, live, back = self._merged([r for r in rows if all(r is not h for h, _ in held)])
        result = self._send(live[0], payload) if live else None
        if result is not None and result.delivered:
            fault_point("alerts.dispatcher.delivered")  # a crash here repeats the robot message (no key)
        duration = time.perf_counter() - started
        delay, recovered = 0.0, False
        with self._lock:
            if back and self._leading:  # did not fit in this message: first in line for the next
                self._buffers.setdefault(ref, deque()).extendleft(reversed(back))
            elif back:  # leadership lost meanwhile: the new leader sends them
                self._forget(r.id for r in back)
            s = self._states.setdefault(ref, ReceiverState())
            s.probing = False
            s.inflight = max(0, s.inflight - 1)
            if result is not None and result.rate_limited and self.robot_limits is not None:
                # The platform says we send too fast (another sender shares the robot, or a restart): leave it
                # alone for the pause; the notifications stay pending (domain/delivery.py: paused).
                delay = self.robot_limits.pause(ChannelType(live[0].channel))
                self.limiter.block(robot, delay)
                log.warning("robot %s answered that it is sent too fast: paused for %.0fs", ref, delay)
                self.metrics.robot_paused.labels(live[0].channel).inc()
            elif result is not None:
                delay, recovered = self._after(s, result)
        if result is None:
            self.limiter.release(robot)  # nothing went out
        else:
            self.metrics.delivery_duration.labels(live[0].channel).observe(duration)
            if result.delivered and len(live) > 1:
                self.metrics.robot_merged.labels(live[0].channel).inc(len(live) - 1)
            for r in live:
                self._results.put(_Outcome(r, result, duration, delay, recovered, merged=len(live)))
        for r, m in held:
            self._results.put(_Outcome(r, DeliveryResult(False, False, None, f"held back by silence {m.id}"),
                                       0.0, 0.0, False, m.id))
        self._wake.set()

    def _merged(self, rows: list[DueNotification]) -> tuple[str | None, list[DueNotification], list[DueNotification]]:
        """(payload, the notifications it carries, those left for the next message): as many as fit whole."""
        if not rows:
            return None, [], []
        best, used = rows[0].payload, 1
        if self.merge is not None:
            for k in range(2, len(rows) + 1):
                merged = self.merge(rows[:k])
                if merged is None:
                    break
                best, used = merged, k
        return best, rows[:used], rows[used:]

    def _send(self, row: DueNotification, payload: str | None = None) -> DeliveryResult:
        dest = self.receivers.resolve(row.receiver)
        channel = self.channels.get(ChannelType(row.channel))
        if dest is None or channel is None:
            return DeliveryResult(False, False, None, f"receiver {row.receiver} is not configured any more")
        try:
            return channel.send(dest, (payload if payload is not None else row.payload).encode(),
                                idempotency_key=row.idempotency_key, timeout_s=self.timeout_s)
        except Exception as exc:  # a bug in a channel must not lose the notification: retry it, loudly
            log.exception("channel %s failed", row.channel)
            return DeliveryResult(False, True, None, clean(f"{type(exc).__name__}: {exc}"))

    def _write_loop(self, stop: threading.Event) -> None:
        batch: list[_Outcome] = []
        backoff = 0.1
        while True:
            if not batch:
                try:
                    batch.append(self._results.get(timeout=0.2))
                except queue.Empty:
                    with self._lock:
                        idle = not self._inflight
                    if stop.is_set() and idle:
                        break
                    continue
            while len(batch) < 1000:
                try:
                    batch.append(self._results.get_nowait())
                except queue.Empty:
                    break
            try:
                self._commit(batch)
            except Exception as exc:
                # Keep the batch in flight (so it is not sent again) and retry the bookkeeping.
                self.metrics.bookkeeping_failures.inc()
                if self._bookkeeping_failing_since is None:
                    self._bookkeeping_failing_since = time.monotonic()
                try:
                    if is_transient_error(exc):
                        raise
                    self._commit_one_by_one(batch)  # a row the database refuses must not hold up the rest
                except Exception as again:
                    if not is_transient_error(again):
                        raise  # a bug: the writer stops, and with it the dispatcher's readiness
                    log.warning("recording %d delivery outcomes failed (%s); retrying in %.1fs", len(batch),
                                type(again).__name__, backoff)
                    # Not stop.wait: after a stop the outcomes still have to be recorded, at this pace too.
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
            self._bookkeeping_failing_since, backoff = None, 0.1
            self._release(batch)
            batch = []
            self._wake.set()  # the loop sees the writer's progress; it queries only if rows became due (_commit)

    def _commit_one_by_one(self, batch: list[_Outcome]) -> None:
        """Commit each outcome alone; those committed leave ``batch`` (so a retry does not record them twice)."""
        while batch:
            o = batch[0]
            try:
                self._commit([o])
            except Exception as exc:
                if is_transient_error(exc):
                    raise
                # What the receiver answered cannot be stored: store that instead (a bug if this fails too).
                log.exception("delivery outcome of notification %d refused by the database", o.row.id)
                self._commit([_Outcome(o.row, DeliveryResult(
                    o.result.delivered, o.result.retryable, o.result.http_status,
                    f"(the answer could not be stored: {type(exc).__name__})", o.result.retry_after_s,
                    o.result.ambiguous, o.result.rate_limited), o.duration_s, o.delay_s, o.recovered, o.silence_id,
                    o.merged)])
            self._release([batch.pop(0)])

    def _commit(self, batch: list[_Outcome]) -> None:
        now = self.clock()
        records, dead = [], []
        recovered = {o.row.receiver for o in batch if o.recovered}
        for o in batch:
            r, res = o.row, o.result
            attempt = r.attempts + (0 if o.silence_id else 1)
            if o.silence_id:
                status, outcome, next_at = DeliveryStatus.SUPPRESSED, AttemptOutcome.SUPPRESSED, now
            else:
                status, outcome, next_at = settle(
                    Attempted(res.delivered, res.retryable, res.ambiguous, res.retry_after_s, res.rate_limited),
                    since=r.retry_since, now=now, delay_s=o.delay_s, budget=self.budget,
                    retry_ambiguous=ChannelType(r.channel) in self.retry_ambiguous)
            if status == DeliveryStatus.DEAD:
                dead.append(self._dead_letter(r, attempt, res.error, now))
            error = res.error
            if o.merged > 1:  # the log line says that this delivery was shared
                note = f"one message with {o.merged - 1} other notification(s) to the robot (rate limit)"
                error = f"{error} ({note})" if error else note
            records.append(Recorded(r.id, attempt, status, outcome, next_at, clean(error), res.http_status,
                                    int(o.duration_s * 1000), now if res.delivered else None, o.silence_id))
        with self.db.transaction() as repos:
            repos.notifications.record(records, outbox=self.outbox, dead_letters=list(dead), now=now)
            if recovered:
                repos.notifications.hurry(recovered, now)
                revived = repos.notifications.revive(recovered, now, now - timedelta(seconds=self.budget.budget_s))
                if revived:
                    log.info("receivers %s answered again: %d dead letters queued again", sorted(recovered),
                             len(revived))
                    self.metrics.revived.inc(len(revived))
        for o, rec in zip(batch, records, strict=True):
            self.metrics.count(o.row.channel, rec.status, o.result)
        if recovered or any(rec.status == DeliveryStatus.PENDING and rec.next_attempt_at <= now for rec in records):
            self._need_fetch = True  # due again now (a receiver's backlog hurried, or a retry without delay)
        if dead and self.on_dead_letter is not None:
            self.on_dead_letter()

    @staticmethod
    def _dead_letter(r: DueNotification, attempts: int, error: str | None, now: datetime) -> NotificationDeadLettered:
        return NotificationDeadLettered(
            notification_id=r.id, idempotency_key=r.idempotency_key,
            alert_ids=tuple(a for a in (r.alert_ids or "").split(",") if a), kind=r.kind, department=r.department,
            channel=r.channel, attempts=attempts, last_error=clean(error), created_at=r.created_at, dead_at=now)

    def _release(self, batch: list[_Outcome]) -> None:
        with self._lock:
            self._forget(o.row.id for o in batch)
