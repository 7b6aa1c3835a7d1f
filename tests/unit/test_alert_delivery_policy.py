"""Retry by elapsed time, ambiguous failures, clean error text, receivers' own keys and the settings' rules. Pure."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.alerts.config import AlertsSettings, Scope
from services.alerts.domain.delivery import Attempted, settle
from services.alerts.domain.directory import ChannelSpec, ChannelType, DepartmentEntry, Directory
from services.alerts.domain.model import AttemptOutcome, DeliveryStatus
from services.alerts.domain.retry import RetryBudget, backoff_s
from services.alerts.domain.text import clean
from services.alerts.grouping import group_key
from services.alerts.receivers import ReceiverConfigError, Receivers

T0 = datetime(2024, 7, 1, 1, 0, tzinfo=UTC)
DAY = RetryBudget(86400)


def test_a_receiver_down_for_minutes_costs_a_lone_notification_nothing() -> None:
    # Probing every 15 s for 6 minutes is 24 probes: the old count-based limit gave up right there.
    rng = random.Random(1)
    now = T0
    for failures in range(1, 25):
        delay = backoff_s(failures, 1.0, 15.0, rng)
        status, outcome, at = settle(Attempted(False, True, False, None), since=T0, now=now, delay_s=delay,
                                     budget=DAY, retry_ambiguous=True)
        assert (status, outcome) == (DeliveryStatus.PENDING, AttemptOutcome.RETRY)
        now = at
    assert now - T0 < timedelta(minutes=7)


def test_the_budget_ends_retries_with_one_last_attempt_and_retry_after_is_honoured_up_to_it() -> None:
    budget = RetryBudget(3600)
    assert budget.next_attempt(T0, T0, 1.0, 120.0) == T0 + timedelta(seconds=120)  # Retry-After honoured
    assert budget.next_attempt(T0, T0, 1.0, 7200.0) == T0 + timedelta(hours=1)  # capped: one last try at the end
    status, outcome, _ = settle(Attempted(False, True, False, None), since=T0, now=T0 + timedelta(hours=1),
                                delay_s=1.0, budget=budget, retry_ambiguous=True)
    assert (status, outcome) == (DeliveryStatus.DEAD, AttemptOutcome.DEAD)


@pytest.mark.parametrize(("ambiguous", "retry_ambiguous", "status"), [
    (True, False, DeliveryStatus.UNCERTAIN),  # a robot timed out after the message went out: not sent again
    (True, True, DeliveryStatus.PENDING),  # a webhook: the receiver drops the repeat by its key
    (False, False, DeliveryStatus.PENDING),  # refused before anything went out: safe to retry
])
def test_ambiguous_failures_follow_the_channels_policy(ambiguous: bool, retry_ambiguous: bool,
                                                       status: DeliveryStatus) -> None:
    got, _, _ = settle(Attempted(False, True, ambiguous, None), since=T0, now=T0, delay_s=1.0, budget=DAY,
                       retry_ambiguous=retry_ambiguous)
    assert got == status


def test_error_text_from_receivers_is_cleaned_and_bounded() -> None:
    assert clean("HTTP 502: \x1f\x08\x00binary\x00") == "HTTP 502: \ufffd\ufffd\ufffdbinary\ufffd"
    assert clean(b"\xff\xfe\x00ok") == "\ufffd\ufffd\ufffdok"
    assert clean("\udc80 lone surrogate") == "? lone surrogate"
    long = clean("x" * 10_000)
    assert long is not None and len(long) == 500 and long.endswith("…")
    assert clean("line 1\n\tline 2") == "line 1\n\tline 2"


def _directory(*depts: str) -> Directory:
    return Directory([DepartmentEntry(id=d, channels=(ChannelSpec(type=ChannelType.WEBHOOK,
                                                                  address_env=f"{d.upper()}_URL",
                                                                  secret_env=f"{d.upper()}_SECRET"),))
                      for d in depts], {d: d for d in depts})


def test_each_webhook_signs_with_its_own_key_and_two_while_rotating() -> None:
    env = {"FGW_URL": "https://fgw.example/hook", "FGW_SECRET": "fgw-new fgw-old",
           "STATS_URL": "https://stats.example/hook", "STATS_SECRET": "stats-key"}
    r = Receivers(_directory("fgw", "stats"), tuple(ChannelType), env)
    fgw, stats = r.resolve("fgw:webhook"), r.resolve("stats:webhook")
    assert fgw is not None and fgw.signing_keys == (b"fgw-new", b"fgw-old")
    assert stats is not None and stats.signing_keys == (b"stats-key",)


@pytest.mark.parametrize(("env", "message"), [
    ({"FGW_URL": "https://fgw.example/hook", "STATS_URL": "https://stats.example/hook", "STATS_SECRET": "k"},
     "department 'fgw': webhook 'https://fgw.example/hook' has no signing secret: set FGW_SECRET"),
    ({"FGW_URL": "https://fgw.example/hook", "FGW_SECRET": "same", "STATS_URL": "https://stats.example/hook",
      "STATS_SECRET": "same"}, "each receiver needs its own secret"),
    ({"FGW_URL": "https://fgw.example/hook", "FGW_SECRET": "a b c"}, "give one key, or two while rotating"),
])
def test_a_webhook_without_its_own_key_stops_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(ReceiverConfigError, match=message):
        Receivers(_directory("fgw", "stats"), tuple(ChannelType), env)


def test_the_default_webhook_is_one_receiver_and_may_keep_one_secret() -> None:
    r = Receivers(_directory("fgw", "stats"), tuple(ChannelType), {}, default_webhook_url="https://hub.example/h",
                  default_webhook_secret="hub-key")
    assert {d.signing_keys for d in (r.resolve("fgw:webhook"), r.resolve("stats:webhook")) if d} == {(b"hub-key",)}
    with pytest.raises(ReceiverConfigError, match="own secret"):
        Receivers(_directory("fgw", "stats"), tuple(ChannelType), {},
                  webhook_urls={"fgw": "https://fgw.example/h", "stats": "https://stats.example/h"},
                  default_webhook_secret="shared")


def _settings(**kw: object) -> AlertsSettings:
    return AlertsSettings(database_url="sqlite://", **kw)  # type: ignore[arg-type]


def test_settings_refuse_what_would_weaken_security() -> None:
    with pytest.raises(ValidationError, match="ALERTS_LINK_SECRET: required"):
        _settings(public_url="https://alerts.example", webhook_secret="w")
    with pytest.raises(ValidationError, match="at least 16"):
        _settings(public_url="https://alerts.example", link_secret="short")
    with pytest.raises(ValidationError, match="ALERTS_SMTP_SECURITY"):
        _settings(smtp_host="mail.example", smtp_username="alerts", smtp_password="pw")
    assert _settings(smtp_host="mail.example", smtp_username="alerts", smtp_password="pw",
                     smtp_allow_plaintext_login=True).smtp_allow_plaintext_login
    assert _settings(smtp_username="alerts", smtp_security="implicit", smtp_port=465).smtp_port == 465
    with pytest.raises(ValidationError, match="greater than or equal to 365"):
        _settings(alert_retention_days=30)
    with pytest.raises(ValidationError, match="'pager' is not a channel"):
        _settings(retry_ambiguous_channels="webhook,pager")


def test_tokens_carry_scopes_and_the_bare_hash_keeps_every_scope() -> None:
    h = "ab" * 32
    s = _settings(api_tokens={"ops": h, "desk": {"sha256": h.upper(), "scopes": ["read", "acknowledge"]}})
    assert s.api_tokens["ops"].scopes == frozenset(Scope)
    assert s.api_tokens["desk"].scopes == {Scope.READ, Scope.ACKNOWLEDGE} and s.api_tokens["desk"].sha256 == h
    with pytest.raises(ValidationError, match="64 hex digits"):
        _settings(api_tokens={"ops": {"sha256": "secret-token", "scopes": ["read"]}})


def test_a_groups_key_is_made_of_its_parts_so_a_second_flush_meets_the_same_key() -> None:
    assert group_key("fgw:webhook", ["b", "a"]) == group_key("fgw:webhook", ["a", "b"])
    assert group_key("fgw:webhook", ["a", "b"]) != group_key("fgw:webhook", ["a", "c"])
    assert group_key("fgw:webhook", ["a"]) != group_key("stats:webhook", ["a"])
