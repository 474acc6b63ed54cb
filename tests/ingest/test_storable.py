"""Characters no store keeps, and event times too far ahead, refused item by item.

Bodies are written with the standard library's ``json``, as a Python sender writes
them: it escapes a lone surrogate (``"\\ud800"``) where orjson refuses to write one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from detector.ingest.body import Media
from detector.ingest.service import validate_accounts, validate_records
from detector.schema import Limits
from tests.support.records import EPOCH, RecordFactory

KEY = b"test-fingerprint-key"

CHARS = [
    pytest.param("\x00", id="nul"),
    pytest.param("\ud800", id="lone-high-surrogate"),
    pytest.param("\udfff", id="lone-low-surrogate"),
]
# Each kind of string a record carries: (field blamed, words of the message, overrides).
KINDS = [
    pytest.param("account_id", "account_id:", lambda c: {"account_id": f"acct{c}"}, id="required"),
    pytest.param("event_id", "event_id:", lambda c: {"event_id": f"{c}e"}, id="event_id"),
    pytest.param("user_agent", "user_agent:", lambda c: {"user_agent": c}, id="optional"),
    pytest.param(
        "tool_names", "tool_names[1]:", lambda c: {"tool_names": ["a", c]}, id="list-item"
    ),
    pytest.param(
        "attributes", "attributes (a key):", lambda c: {"attributes": {c: "v"}}, id="attribute-key"
    ),
    pytest.param(
        "attributes", "attributes['k']:", lambda c: {"attributes": {"k": c}}, id="attribute-value"
    ),
    pytest.param("prompt_text", "prompt_text:", lambda c: {"prompt_text": f"a{c}"}, id="prompt"),
]
FORMS = ["array", "object", "ndjson"]


def body_of(items: list[Any], form: str) -> tuple[bytes, Media]:
    if form == "ndjson":
        return b"\n".join(json.dumps(item).encode() for item in items), "ndjson"
    document: Any = items if form == "array" else {"records": items}
    return json.dumps(document).encode(), "json"


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("field", "where", "poison"), KINDS)
@pytest.mark.parametrize("char", CHARS)
def test_a_record_with_an_unstorable_character_is_refused_alone(
    record_factory: RecordFactory, char: str, field: str, where: str, poison: Any, form: str
) -> None:
    before, target, after = record_factory.records(3)
    body, media = body_of([before, {**target, **poison(char)}, after], form)
    decoded = validate_records(body, media, Limits(), fingerprint_key=KEY)
    assert [r.event_id for r in decoded.items] == [before["event_id"], after["event_id"]]
    (error,) = decoded.errors
    assert (error.index, error.field, error.rule) == (1, field, "unstorable")
    code = f"U+{ord(char):04X}"
    assert error.message == f"{where} contains {code}, which the store cannot keep"


@pytest.mark.parametrize("char", CHARS)
def test_an_unstorable_character_in_an_unknown_field_is_ignored_with_it(
    record_factory: RecordFactory, char: str
) -> None:
    record = record_factory.record(x_vendor={"note": f"a{char}"})
    body, media = body_of([record], "array")
    decoded = validate_records(body, media, Limits(), fingerprint_key=KEY)
    assert decoded.errors == []
    assert [r.event_id for r in decoded.items] == [record["event_id"]]


@pytest.mark.parametrize("char", CHARS)
def test_an_account_with_an_unstorable_character_is_refused_alone(
    record_factory: RecordFactory, char: str
) -> None:
    good, bad, other = record_factory.accounts(3)
    bad["email_domain"] = f"example{char}.com"
    body, media = body_of([good, bad, other], "array")
    decoded = validate_accounts(body, media, Limits())
    assert [a.account_id for a in decoded.items] == [good["account_id"], other["account_id"]]
    assert [(e.index, e.field, e.rule) for e in decoded.errors] == [
        (1, "email_domain", "unstorable")
    ]


def test_a_surrogate_pair_is_one_character_and_kept(record_factory: RecordFactory) -> None:
    record = record_factory.record(user_agent="sdk \U0001f600")  # "\ud83d\ude00" escaped
    body, media = body_of([record], "array")
    assert b"\\ud83d\\ude00" in body
    decoded = validate_records(body, media, Limits(), fingerprint_key=KEY)
    assert decoded.errors == []
    assert decoded.items[0].user_agent == "sdk \U0001f600"


def test_a_body_broken_past_its_surrogate_is_still_refused_whole() -> None:
    from detector.errors import BadBatchError

    with pytest.raises(BadBatchError, match="not valid JSON"):
        validate_records(b'[{"account_id": "\\ud800"}', "json", Limits(), fingerprint_key=KEY)


# The future: a fixed time of receipt, so every message is predictable.
RECEIVED = EPOCH


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        pytest.param("ts_start", {"ts_start": RECEIVED + 3601, "ts_end": None}, id="ts_start"),
        pytest.param("ts_end", {"ts_start": RECEIVED, "ts_end": RECEIVED + 7200}, id="ts_end"),
        pytest.param(
            "ts_start", {"ts_start": "2099-12-30T00:00:00Z", "ts_end": None}, id="ts_start-2099"
        ),
    ],
)
def test_an_event_time_past_the_skew_is_refused(
    record_factory: RecordFactory, field: str, overrides: dict[str, Any]
) -> None:
    good, bad = record_factory.record(ts_start=RECEIVED - 60), record_factory.record(**overrides)
    body, media = body_of([good, bad], "ndjson")
    decoded = validate_records(body, media, Limits(), fingerprint_key=KEY, received_at=RECEIVED)
    assert [r.event_id for r in decoded.items] == [good["event_id"]]
    (error,) = decoded.errors
    assert (error.index, error.field, error.rule) == (1, field, "future")
    assert error.message.startswith(f"{field}: ")
    assert error.message.endswith(
        "after it was received; at most 3600 s ahead is accepted (DETECTOR_MAX_FUTURE_SKEW_SECONDS)"
    )


def test_the_2099_message_says_how_far_ahead(record_factory: RecordFactory) -> None:
    record = record_factory.record(ts_start="2099-12-30T00:00:00Z", ts_end=None)
    body, media = body_of([record], "array")
    decoded = validate_records(body, media, Limits(), fingerprint_key=KEY, received_at=RECEIVED)
    days = round((4_102_272_000 - RECEIVED) / 86_400)  # 2099-12-30T00:00:00Z
    assert decoded.errors[0].message.startswith(
        f"ts_start: 2099-12-30T00:00:00Z is {days:,} days after it was received"
    )


@pytest.mark.parametrize(
    ("skew", "ahead", "accepted"),
    [
        pytest.param(3600.0, 600, True, id="10-minutes-ahead-default-skew"),
        pytest.param(3600.0, 3600, True, id="at-the-skew"),
        pytest.param(60.0, 600, False, id="10-minutes-ahead-60s-skew"),
        pytest.param(0.0, 1, False, id="1s-ahead-no-skew"),
    ],
)
def test_the_skew_is_the_setting(
    record_factory: RecordFactory, skew: float, ahead: float, accepted: bool
) -> None:
    record = record_factory.record(ts_start=RECEIVED + ahead, ts_end=None)
    body, media = body_of([record], "array")
    limits = Limits(max_future_skew_seconds=skew)
    decoded = validate_records(body, media, limits, fingerprint_key=KEY, received_at=RECEIVED)
    assert (len(decoded.items) == 1) is accepted
    if not accepted:
        assert f"at most {skew:g} s ahead" in decoded.errors[0].message


def test_an_account_created_in_the_future_is_refused(record_factory: RecordFactory) -> None:
    now, ahead = record_factory.account(), record_factory.account(created_at=RECEIVED + 86_400 * 3)
    now["created_at"] = RECEIVED
    body, media = body_of([now, ahead], "array")
    decoded = validate_accounts(body, media, Limits(), received_at=RECEIVED)
    assert [a.account_id for a in decoded.items] == [now["account_id"]]
    (error,) = decoded.errors
    assert (error.field, error.rule) == ("created_at", "future")
    assert "is 3 days after it was received" in error.message
