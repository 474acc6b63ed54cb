"""Record-by-record validation: each bad record names its field and rule; good ones stay."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from detector.fingerprints import prompt_fingerprint, template_fingerprint
from detector.ingest.body import Media
from detector.ingest.service import validate_accounts, validate_records
from detector.schema import Limits
from tests.ingest.cases import BAD_RECORDS, GOOD_EDGES, LIMITS, Bad
from tests.support.records import RecordFactory, encode

KEY = b"test-fingerprint-key"


def check(items: list[Any], form: str = "array", limits: Limits = LIMITS, **options: Any) -> Any:
    body, _ = encode(items, form)  # type: ignore[arg-type]
    media: Media = "ndjson" if form == "ndjson" else "json"
    return validate_records(body, media, limits, fingerprint_key=KEY, **options)


@pytest.mark.parametrize("form", ["array", "ndjson"])
@pytest.mark.parametrize("case", BAD_RECORDS)
def test_bad_record_is_rejected_naming_its_field(
    record_factory: RecordFactory, case: Bad, form: str
) -> None:
    before, target, after = record_factory.records(3)
    decoded = check([before, case.apply(target), after], form)
    assert [item.event_id for item in decoded.items] == [before["event_id"], after["event_id"]]
    assert decoded.positions == [0, 2]
    (error,) = decoded.errors
    assert (error.index, error.field) == (1, case.field), error.message
    assert error.message.startswith(case.field), error.message
    for words in case.words:
        assert words in error.message, error.message


@pytest.mark.parametrize("overrides", GOOD_EDGES)
def test_edge_values_are_accepted(record_factory: RecordFactory, overrides: dict[str, Any]) -> None:
    decoded = check([record_factory.record(**overrides)])
    assert decoded.errors == []
    assert len(decoded.items) == 1


def test_every_bad_record_of_one_batch_is_reported_in_order(record_factory: RecordFactory) -> None:
    cases: list[Bad] = [param.values[0] for param in BAD_RECORDS]
    items = [case.apply(record_factory.record()) for case in cases]
    decoded = check([record_factory.record(), *items, record_factory.record()])
    assert len(decoded.items) == 2
    assert [(e.index, e.field) for e in decoded.errors] == [
        (i + 1, case.field) for i, case in enumerate(cases)
    ]


def test_timestamps_are_stored_as_epoch_seconds(record_factory: RecordFactory) -> None:
    decoded = check(
        [
            # The factory removes a field given as None.
            record_factory.record(ts_start="2026-02-23T05:30:00+05:30", ts_end=None),
            record_factory.record(ts_start=1_771_804_800, ts_end="2026-02-23T00:00:01.5Z"),
        ]
    )
    first, second = decoded.items
    assert first.ts_start == 1_771_804_800.0
    assert first.ts_end is None
    assert (second.ts_start, second.ts_end) == (1_771_804_800.0, 1_771_804_801.5)
    assert isinstance(second.ts_start, float)


def test_a_line_with_two_records_is_not_ndjson(record_factory: RecordFactory) -> None:
    """``{...},{...}`` on one line must neither pass as two records nor dodge the limit."""
    one, two, three = record_factory.records(3)
    body = orjson.dumps(one) + b"," + orjson.dumps(two) + b"\n" + orjson.dumps(three) + b"\n"
    limits = Limits(max_records_per_batch=2)
    decoded = validate_records(body, "ndjson", limits, fingerprint_key=KEY)
    assert [item.event_id for item in decoded.items] == [three["event_id"]]
    (error,) = decoded.errors
    assert (error.index, error.field) == (0, "record")
    assert "not valid JSON" in error.message


@pytest.mark.parametrize(
    ("layout", "kept", "bad_lines"),
    [
        # Each body has as many values as newline-ended lines, but not one per line.
        ("{0} {1}\n\n{2}\n", [2], [0]),
        ("{0}\r\n{1}{2}\r\n   \r\n", [0], [1]),
        ("{0} {1}\n{{\n}}\n", [], [0, 1, 2]),
    ],
)
def test_ndjson_is_one_record_per_line_whatever_the_counts(
    record_factory: RecordFactory, layout: str, kept: list[int], bad_lines: list[int]
) -> None:
    records = record_factory.records(3)
    body = layout.format(*(orjson.dumps(record).decode() for record in records)).encode()
    decoded = validate_records(body, "ndjson", LIMITS, fingerprint_key=KEY)
    assert [item.event_id for item in decoded.items] == [records[i]["event_id"] for i in kept]
    assert [error.index for error in decoded.errors] == bad_lines


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final", [True, False])
def test_plain_ndjson_keeps_every_line(
    record_factory: RecordFactory, newline: str, final: bool
) -> None:
    records = record_factory.records(4)
    body = newline.join(orjson.dumps(record).decode() for record in records)
    body += newline if final else ""
    decoded = validate_records(body.encode(), "ndjson", LIMITS, fingerprint_key=KEY)
    assert [item.event_id for item in decoded.items] == [r["event_id"] for r in records]
    assert decoded.positions == [0, 1, 2, 3]


def test_a_broken_ndjson_line_rejects_only_that_line(record_factory: RecordFactory) -> None:
    one, two = record_factory.records(2)
    body = orjson.dumps(one) + b'\n{"event_id": "x",\n' + orjson.dumps(two)
    decoded = validate_records(body, "ndjson", LIMITS, fingerprint_key=KEY)
    assert [item.event_id for item in decoded.items] == [one["event_id"], two["event_id"]]
    assert [(e.index, e.field) for e in decoded.errors] == [(1, "record")]


def test_a_single_object_without_records_is_one_record(record_factory: RecordFactory) -> None:
    record = record_factory.record()
    decoded = validate_records(orjson.dumps(record), "json", LIMITS, fingerprint_key=KEY)
    assert [item.event_id for item in decoded.items] == [record["event_id"]]


class TestPromptText:
    """prompt_text yields fingerprints and prompt_chars; the text is kept only if configured."""

    TEXT = "Rate answer 17 of 'the essay' on a 1-10 scale.\n\nBe   strict."

    def test_fingerprints_derived_and_text_dropped(self, record_factory: RecordFactory) -> None:
        record = record_factory.record(
            prompt_text=self.TEXT, prompt_chars=None, prompt_fingerprint=None
        )
        (item,) = check([record], limits=Limits()).items
        assert item.prompt_text is None
        assert item.prompt_fingerprint == prompt_fingerprint(self.TEXT, KEY)
        assert item.template_fingerprint == template_fingerprint(self.TEXT, KEY)
        assert item.prompt_chars == len(self.TEXT)

    def test_text_kept_when_configured(self, record_factory: RecordFactory) -> None:
        record = record_factory.record(prompt_text=self.TEXT)
        (item,) = check([record], limits=Limits(), keep_prompt_text=True).items
        assert item.prompt_text == self.TEXT
        assert item.prompt_fingerprint == prompt_fingerprint(self.TEXT, KEY)

    def test_fingerprints_the_sender_gave_stand(self, record_factory: RecordFactory) -> None:
        record = record_factory.record(
            prompt_text=self.TEXT,
            prompt_fingerprint="sender-prompt-fp",
            template_fingerprint="sender-template-fp",
            prompt_chars=3,
        )
        (item,) = check([record], limits=Limits()).items
        assert (item.prompt_fingerprint, item.template_fingerprint) == (
            "sender-prompt-fp",
            "sender-template-fp",
        )
        assert item.prompt_chars == 3
        assert item.prompt_text is None

    def test_same_template_gives_same_template_fingerprint(
        self, record_factory: RecordFactory
    ) -> None:
        texts = ["Rate answer 17 of 'the essay'.", "Rate answer 942 of 'another essay'."]
        items = check(
            [record_factory.record(prompt_text=text) for text in texts], limits=Limits()
        ).items
        assert items[0].template_fingerprint == items[1].template_fingerprint
        assert items[0].prompt_fingerprint != items[1].prompt_fingerprint

    def test_the_key_changes_every_fingerprint(self, record_factory: RecordFactory) -> None:
        record = record_factory.record(prompt_text=self.TEXT)
        body, _ = encode([record])
        one = validate_records(body, "json", Limits(), fingerprint_key=b"a").items[0]
        two = validate_records(body, "json", Limits(), fingerprint_key=b"b").items[0]
        assert one.prompt_fingerprint != two.prompt_fingerprint


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        pytest.param({"account_id": None}, "account_id", "required", id="missing-account_id"),
        pytest.param({"created_at": None}, "created_at", "required", id="missing-created_at"),
        pytest.param(
            {"created_at": "2026-01-01T00:00:00"}, "created_at", "no UTC offset", id="naive"
        ),
        pytest.param({"created_at": 1.7e12}, "created_at", "milliseconds", id="milliseconds"),
        pytest.param({"signup_ip": "300.1.1.1"}, "signup_ip", "IPv4", id="bad-signup_ip"),
        pytest.param({"country": "usa"}, "country", "usa", id="country-not-alpha-2"),
        pytest.param({"verified": "yes"}, "verified", "bool", id="verified-string"),
        pytest.param({"program": "p" * 33}, "program", "length <= 32", id="program-oversized"),
        pytest.param(
            {"attributes": {"a": "1", "b": "2", "c": "3"}}, "attributes", "<= 2", id="attrs"
        ),
    ],
)
def test_bad_account_is_rejected_naming_its_field(
    record_factory: RecordFactory, overrides: dict[str, Any], field: str, words: str
) -> None:
    good, bad = record_factory.account(), record_factory.account(**overrides)
    if overrides.get(field, 0) is None:  # the factory removes fields given as None
        assert field not in bad
    decoded = validate_accounts(orjson.dumps([bad, good]), "json", LIMITS)
    assert [item.account_id for item in decoded.items] == [good["account_id"]]
    (error,) = decoded.errors
    assert (error.index, error.field) == (0, field), error.message
    assert error.message.startswith(field) and words in error.message, error.message


@pytest.mark.parametrize("form", ["array", "object", "ndjson"])
def test_a_utf8_byte_order_mark_is_ignored(record_factory: RecordFactory, form: str) -> None:
    records = record_factory.records(2)
    body, _ = encode(records, form)  # type: ignore[arg-type]
    media: Media = "ndjson" if form == "ndjson" else "json"
    decoded = validate_records(b"\xef\xbb\xbf" + body, media, LIMITS, fingerprint_key=KEY)
    assert decoded.errors == []
    assert [item.event_id for item in decoded.items] == [r["event_id"] for r in records]
