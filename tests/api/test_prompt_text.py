"""prompt_text over HTTP: fingerprints derived with the configured key, the text kept
only when ``keep_prompt_text`` is set (CONTRACT §1)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from detector.fingerprints import prompt_fingerprint, template_fingerprint
from tests.api.conftest import MakeServer
from tests.support.records import RecordFactory, stored_records

pytestmark = pytest.mark.db

KEY = "a-key-the-sender-shares"
TEXT = "Grade response 3 of 'Q17' against the rubric: https://example.com/r"


@pytest.mark.parametrize("keep", [False, True], ids=["text-dropped", "text-kept"])
def test_prompt_text_is_fingerprinted_and_kept_only_if_configured(
    make_server: MakeServer, engine: Engine, record_factory: RecordFactory, keep: bool
) -> None:
    live = make_server(fingerprint_key=KEY, keep_prompt_text=keep, pipeline_embedded=False)
    derived = record_factory.record(prompt_text=TEXT, prompt_chars=None)
    given = record_factory.record(prompt_text=TEXT, prompt_fingerprint="from-sender")
    plain = record_factory.record()
    with live.client() as client:
        result = client.post("/v1/records", json=[derived, given, plain]).json()
    assert result["accepted"] == 3, result
    first, second, third = stored_records(engine)
    assert first["prompt_fingerprint"] == prompt_fingerprint(TEXT, KEY.encode())
    assert first["template_fingerprint"] == template_fingerprint(TEXT, KEY.encode())
    assert first["prompt_chars"] == len(TEXT)
    assert second["prompt_fingerprint"] == "from-sender"
    assert second["template_fingerprint"] == first["template_fingerprint"]
    assert ("prompt_text" in first, "prompt_text" in second) == (keep, keep)
    if keep:
        assert first["prompt_text"] == TEXT
    assert "prompt_fingerprint" not in third
    assert "prompt_text" not in third
