"""Keyed fingerprints of prompt text (CONTRACT.md §1).

Senders who must not ship prompt text hash it on their side with the same key and
send only the fingerprints (``detector fingerprint``, or these functions); the server
derives the same values from ``prompt_text``. The normal form, exactly:

1. Unicode NFKC (full-width and compatibility forms fold: ``ＡＢＣ１`` → ``ABC1``);
2. format characters removed (category Cf: zero-width space and joiners, soft
   hyphen, byte-order mark, bidi marks), which copy-paste inserts invisibly;
3. case-folded, then NFKC again (so the result is itself in NFKC: "NFKC_Casefold");
4. every run of whitespace (any Unicode space, tab or line break) to one space,
   and none at either end.

The template form then masks, in this order: URLs (``<url>``), e-mail addresses
(``<email>``), quoted spans (``<q>``, in ASCII, typographic, back-tick and guillemet
quotes; an apostrophe inside a word, as in ``don't``, is not a quote) and numbers
(``<n>``: runs of digits with ``.`` or ``,`` between digit groups; a sign stays text).

A fingerprint is the first 32 hex digits of HMAC-BLAKE2b of the UTF-8 form.

>>> key = b"k"
>>> prompt_fingerprint("Hello,   WORLD", key) == prompt_fingerprint("hello, world", key)
True
>>> template_of("Rate answer 17 of 'x', don't explain")
"rate answer <n> of <q>, don't explain"
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

_SPACE = re.compile(r"\s+")
_URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Quoted spans hold the variable part of a templated prompt ("rewrite 'X' so that").
# A single quote (ASCII or typographic) followed by a letter is an apostrophe, both as
# an opening quote ("don't") and inside a span ('it's here'), so contractions neither
# open a span nor close one early.
_QUOTED = re.compile(
    r"\"[^\"]*\""
    r"|(?<!\w)'(?:[^'\n]|'(?=\w))*'(?!\w)"
    r"|“[^”]*”"
    r"|‘(?:[^’\n]|’(?=\w))*’(?!\w)"
    r"|`[^`]*`"
    r"|«[^»]*»"
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _is_format(char: str) -> bool:
    return unicodedata.category(char) == "Cf"


def normalise(text: str) -> str:
    """The form the prompt and system hashes are taken of (steps 1–4 above).

    >>> normalise(" ＨＥＬＬＯ\\u200b\\u00a0 Wörld\\r\\n")
    'hello wörld'
    """
    folded = unicodedata.normalize("NFKC", text)
    if any(_is_format(char) for char in folded):
        folded = "".join(char for char in folded if not _is_format(char))
    folded = unicodedata.normalize("NFKC", folded.casefold())
    return _SPACE.sub(" ", folded).strip()


def template_of(text: str) -> str:
    """The normalised text with URLs, e-mails, quoted spans and numbers masked."""
    masked = _URL.sub("<url>", normalise(text))
    masked = _EMAIL.sub("<email>", masked)
    masked = _QUOTED.sub("<q>", masked)
    return _NUMBER.sub("<n>", masked)


def keyed_hash(text: str, key: bytes) -> str:
    """Hex HMAC-BLAKE2b-128 of ``text``: stable across processes, useless without the key."""
    # surrogatepass: a lone surrogate (possible from a file or argv, never from valid
    # JSON) hashes instead of raising.
    data = text.encode("utf-8", "surrogatepass")
    return hmac.new(key, data, hashlib.blake2b).hexdigest()[:32]


def prompt_fingerprint(text: str, key: bytes) -> str:
    """Keyed hash of the normalised last user turn."""
    return keyed_hash(normalise(text), key)


def template_fingerprint(text: str, key: bytes) -> str:
    """Keyed hash of the last user turn with its variable parts masked."""
    return keyed_hash(template_of(text), key)


def system_fingerprint(text: str, key: bytes) -> str:
    """Keyed hash of the normalised system prompt."""
    return keyed_hash(normalise(text), key)


def fingerprint_fields(
    key: bytes, *, prompt: str | None = None, system: str | None = None
) -> dict[str, str | int]:
    """The record fields a sender sets instead of ``prompt_text`` (and a system prompt).

    >>> sorted(fingerprint_fields(b"k", prompt="Hi"))
    ['prompt_chars', 'prompt_fingerprint', 'template_fingerprint']
    """
    fields: dict[str, str | int] = {}
    if prompt is not None:
        fields["prompt_fingerprint"] = prompt_fingerprint(prompt, key)
        fields["template_fingerprint"] = template_fingerprint(prompt, key)
        # Code points, as the server counts them (Python's len), not UTF-16 units.
        fields["prompt_chars"] = len(prompt)
    if system is not None:
        fields["system_fingerprint"] = system_fingerprint(system, key)
    return fields
