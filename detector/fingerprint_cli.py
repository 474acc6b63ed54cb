"""``detector fingerprint``: the sender's side of CONTRACT.md's keyed fingerprints.

Either one text (an argument, or standard input with ``-``) to a JSON object of the
fields a record carries instead of ``prompt_text``, or, with ``--records``, NDJSON
records on standard input to the same records with ``prompt_text`` (and an optional
``system_prompt``) replaced by their fingerprints, ready for ``POST /v1/records``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TextIO

import orjson

from detector.config import get_settings
from detector.errors import DetectorError
from detector.fingerprints import fingerprint_fields


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "fingerprint", help="keyed fingerprints of prompt text, as the server computes them"
    )
    parser.add_argument(
        "text", nargs="?", default="-", help="the last user turn; '-' (default) reads stdin"
    )
    parser.add_argument(
        "--key-env",
        metavar="NAME",
        default=None,
        help="environment variable holding the key (default: DETECTOR_FINGERPRINT_KEY)",
    )
    parser.add_argument("--system", default=None, help="a system prompt to fingerprint too")
    parser.add_argument(
        "--records",
        action="store_true",
        help="read NDJSON records on stdin; write them with prompt_text replaced",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    key = _key(args.key_env)
    if args.records:
        return _records(key, sys.stdin, sys.stdout)
    text = _stdin_text(sys.stdin) if args.text == "-" else args.text
    fields = fingerprint_fields(key, prompt=text, system=args.system)
    sys.stdout.write(orjson.dumps(fields).decode() + "\n")
    return 0


def _key(env_name: str | None) -> bytes:
    if env_name is None:
        return get_settings().fingerprint_key.get_secret_value().encode()
    # The user names the variable; reading it here is the point of the option.
    value = os.environ.get(env_name)
    if not value:
        raise DetectorError(f"--key-env: environment variable {env_name} is not set or empty")
    return value.encode()


def _stdin_text(stream: TextIO) -> str:
    """Standard input whole, less one final line break (``echo`` adds it)."""
    text = stream.read()
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")


def _records(key: bytes, source: TextIO, sink: TextIO) -> int:
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            record: Any = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise DetectorError(f"stdin line {number}: not valid JSON ({exc})") from None
        if not isinstance(record, dict):
            raise DetectorError(f"stdin line {number}: a record must be a JSON object")
        prompt = record.pop("prompt_text", None)
        system = record.pop("system_prompt", None)
        fields = fingerprint_fields(
            key,
            prompt=prompt if isinstance(prompt, str) else None,
            system=system if isinstance(system, str) else None,
        )
        for name, value in fields.items():
            record.setdefault(name, value)  # a fingerprint the sender gave stands
        sink.write(orjson.dumps(record).decode() + "\n")
    return 0
