"""Envelopes accept every datacontenttype the CloudEvents JSON format reads as JSON, and nothing else."""

from __future__ import annotations

import json

import pytest

from shared.messages import InvalidMessage, decode, is_json_media_type

BASE = {"specversion": "1.0", "id": "e1", "source": "/wuxi-targets/ingest", "type": "t", "data": {"a": 1}}


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON", "text/json", "application/vnd.wuxi.targets+json",
                                          "application/cloudevents+json; charset=UTF-8"])
def test_json_media_types_are_accepted(content_type: str) -> None:
    assert decode(json.dumps({**BASE, "datacontenttype": content_type}).encode()).datacontenttype == content_type


def test_an_absent_datacontenttype_means_json() -> None:
    assert decode(json.dumps(BASE).encode()).datacontenttype == "application/json"


@pytest.mark.parametrize("content_type", ["application/xml", "text/plain", "json", "", "application/jsonx"])
def test_other_media_types_are_dead_letters_naming_the_field(content_type: str) -> None:
    with pytest.raises(InvalidMessage, match="datacontenttype"):
        decode(json.dumps({**BASE, "datacontenttype": content_type}).encode())
    assert not is_json_media_type(content_type)
