"""What makes two requests with one Idempotency-Key the same request (services/ingest/domain/idempotency.py)."""

from __future__ import annotations

import hashlib

from services.ingest.domain.idempotency import fingerprint


def test_two_requests_are_the_same_request_only_when_method_path_query_and_body_all_match() -> None:
    base = fingerprint("POST", "/v1/observations", "", b'{"value": 1}')
    assert base == fingerprint("POST", "/v1/observations", "", b'{"value": 1}')
    assert len(base) == 64 and base == hashlib.sha256(b'POST\0/v1/observations\0\0{"value": 1}').hexdigest()
    others = [fingerprint("PUT", "/v1/observations", "", b'{"value": 1}'),
              fingerprint("POST", "/v1/observations/batch", "", b'{"value": 1}'),
              fingerprint("POST", "/v1/observations", "dry_run=true", b'{"value": 1}'),
              fingerprint("POST", "/v1/observations", "", b'{"value": 2}'),
              fingerprint("POST", "/v1/observation", "s", b'{"value": 1}')]  # the parts do not run together
    assert len({base, *others}) == 6
