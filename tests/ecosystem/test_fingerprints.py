"""Sender-side (``detector fingerprint``) and server-side fingerprints agree."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import orjson
import pytest
from sqlalchemy import Engine

from detector.config import Settings
from detector.fingerprints import normalise, prompt_fingerprint, template_of
from tests.ecosystem.stored import stored_records
from tests.support.server import serve_in_thread

KEY = "sender-and-server-share-this-key"

TRICKY = {
    "plain": "Explain why the sky is blue.",
    "nfc-vs-nfd": "Cafe\u0301 and caf\u00e9 and \u01f0",
    "fullwidth": "ＲＡＴＥ　ａｎｓｗｅｒ　１７",
    "ligature": "\ufb01nd the ﬃ",
    "casefold": "STRASSE Straße ΣΊΣΥΦΟΣ",
    "zero-width": "hel\u200blo\u200d wor\u00adld\ufeff",
    "whitespace": "\t tabs\r\nand\u2028line\u3000breaks \u00a0 ",
    "numbers": "Solve 1,234.56 + -7 and ٣٤ then 1e10 and x²",
    "quotes": "Rewrite 'it's here' as “that” or ‘this’ don't `code` «fr»",
    "urls-emails": "See https://example.com/a?b=1 or www.x.org, mail a.b+c@d.co.uk",
    "emoji": "👩\u200d💻 writes code 🚀",
    "rtl": "\u202bمرحبا\u202c بالعالم 42",
    "cjk": "解释一下这个问题 第3题",
    "empty": "",
    "only-space": " \n\t ",
    "long": "word " * 5000,
}


def _sender_side(records: list[dict[str, object]]) -> list[dict[str, object]]:
    """Records as the ``detector fingerprint --records`` command rewrites them."""
    run = subprocess.run(
        [sys.executable, "-m", "detector.cli", "fingerprint", "--records", "--key-env", "FP_KEY"],
        input=b"".join(orjson.dumps(r) + b"\n" for r in records),
        capture_output=True,
        env={**os.environ, "FP_KEY": KEY},
        timeout=60,
        check=True,
    )
    return [orjson.loads(line) for line in run.stdout.splitlines()]


@pytest.mark.db
def test_sender_and_server_fingerprints_agree(
    make_settings: Callable[..., Settings], engine: Engine
) -> None:
    settings = make_settings(fingerprint_key=KEY)
    base = {"ts_start": 1_771_804_800, "account_id": "acct-1", "request_model": "m"}
    by_server = [
        {**base, "event_id": f"server-{name}", "prompt_text": text} for name, text in TRICKY.items()
    ]
    by_sender = _sender_side(
        [
            {**base, "event_id": f"sender-{name}", "prompt_text": text}
            for name, text in TRICKY.items()
        ]
    )
    assert all("prompt_text" not in record for record in by_sender)
    with serve_in_thread(settings) as server, server.client() as client:
        answer = client.post("/v1/records", json=by_server + by_sender)
    assert answer.json()["accepted"] == 2 * len(TRICKY), answer.json()
    stored = stored_records(engine)
    for name in TRICKY:
        server_side, sender_side = stored[f"server-{name}"], stored[f"sender-{name}"]
        for field in ("prompt_fingerprint", "template_fingerprint", "prompt_chars"):
            assert server_side[field] == sender_side[field], (name, field)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Café", "Cafe\u0301"),
        ("ＨＥＬＬＯ world", "hello   WORLD"),
        ("zero\u200bwidth", "zerowidth"),
        ("line\r\nbreak", "line break"),
        ("Straße", "STRASSE"),
    ],
    ids=["nfd", "fullwidth-space", "zero-width", "crlf", "sharp-s"],
)
def test_same_prompt_same_fingerprint(left: str, right: str) -> None:
    assert prompt_fingerprint(left, b"k") == prompt_fingerprint(right, b"k")


@pytest.mark.parametrize(
    ("text", "template"),
    [
        ("Rate answer 17 of 'x'", "rate answer <n> of <q>"),
        ("don't stop, it's 3 o'clock", "don't stop, it's <n> o'clock"),
        ("rewrite 'it's here' now", "rewrite <q> now"),
        ("total 1,234.5 then -7", "total <n> then -<n>"),
        ("go to https://a.io/x?y=2 or mail me@a.io", "go to <url> or mail <email>"),
        ("“smart” ‘single’ «guillemets» `code`", "<q> <q> <q> <q>"),
        ("٣٤ items", "<n> items"),
    ],
    ids=[
        "basic",
        "contractions",
        "apostrophe-in-quote",
        "numbers",
        "url-email",
        "quotes",
        "arabic",
    ],
)
def test_template_masks(text: str, template: str) -> None:
    assert template_of(text) == template


def test_normal_form_is_stable() -> None:
    for text in TRICKY.values():
        assert normalise(normalise(text)) == normalise(text)


def test_cli_single_text_and_missing_key() -> None:
    env = {**os.environ, "FP_KEY": KEY}
    one = subprocess.run(
        [sys.executable, "-m", "detector.cli", "fingerprint", "--key-env", "FP_KEY", "-"],
        input=b"Hello   WORLD\n",
        capture_output=True,
        env=env,
        check=True,
    )
    fields = orjson.loads(one.stdout)
    assert fields["prompt_fingerprint"] == prompt_fingerprint("hello world", KEY.encode())
    assert fields["prompt_chars"] == len("Hello   WORLD")
    missing = subprocess.run(
        [sys.executable, "-m", "detector.cli", "fingerprint", "--key-env", "NO_SUCH_VAR_X", "a"],
        capture_output=True,
        env=env,
        check=False,
    )
    assert missing.returncode == 1
    assert b"NO_SUCH_VAR_X is not set" in missing.stderr
