"""Keyed fingerprints of prompt text (CONTRACT.md §1).

Senders who must not ship prompt text hash it on their side with the same key and
send only the fingerprints; the server derives the same values from ``prompt_text``.

>>> key = b"k"
>>> prompt_fingerprint("Hello,   WORLD", key) == prompt_fingerprint("hello, world", key)
True
>>> template_fingerprint("Rate answer 17 of 'x'", key) == template_fingerprint(
...     "rate answer 942 of 'something else'", key)
True
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

_SPACE = re.compile(r"\s+")
_URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Quoted spans in ASCII and typographic quotes; they hold the variable part of a
# templated prompt ("rewrite 'X' so that ...").
_QUOTED = re.compile(r"\"[^\"]*\"|'[^'\n]*'|“[^”]*”|‘[^’]*’|`[^`]*`|«[^»]*»")
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*")


def normalise(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed: the form the prompt hash is taken of."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def template_of(text: str) -> str:
    """The normalised text with URLs, e-mails, quoted spans and numbers masked."""
    masked = _URL.sub("<url>", normalise(text))
    masked = _EMAIL.sub("<email>", masked)
    masked = _QUOTED.sub("<q>", masked)
    return _NUMBER.sub("<n>", masked)


def keyed_hash(text: str, key: bytes) -> str:
    """Hex HMAC-BLAKE2b-128 of ``text``: stable across processes, useless without the key."""
    return hmac.new(key, text.encode("utf-8"), hashlib.blake2b).hexdigest()[:32]


def prompt_fingerprint(text: str, key: bytes) -> str:
    return keyed_hash(normalise(text), key)


def template_fingerprint(text: str, key: bytes) -> str:
    return keyed_hash(template_of(text), key)


def system_fingerprint(text: str, key: bytes) -> str:
    return keyed_hash(normalise(text), key)
