"""Reviewer passwords, hashed with scrypt (RFC 7914) from the standard library.

The stored form is ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>``, so the cost can rise
later without invalidating old hashes: each hash carries the parameters it was made with.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# n=2**15, r=8, p=1: OWASP's 2023 password-storage minimum for scrypt is n=2**17 with
# 64 MiB; 2**15 (32 MiB, ~50 ms here) keeps sign-in and tests quick on a 2-core box
# while staying far above what a GPU cracks cheaply. Raise it with ``N``.
N = 2**15
R = 8
P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
MIN_LENGTH = 10
# zxcvbn's score 3 of 4: "safely unguessable", about 10**8 guesses and more, what its
# authors give as protection against online attacks and slow-hash offline ones.
MIN_SCORE = 3
# zxcvbn refuses longer input; a password past it is judged on its first characters.
_ESTIMATED_CHARS = 72


class PasswordError(ValueError):
    """A password that does not meet the rule, named in the message."""


def check_strength(password: str, *, username: str = "") -> None:
    """Refuse a password shorter than ``MIN_LENGTH``, one holding the user name, or
    one zxcvbn finds guessable (common passwords, words, keyboard runs, repeats,
    dates, and variations on the user name)."""
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"password: must be at least {MIN_LENGTH} characters")
    name = username.strip().casefold()
    if len(name) >= 3 and name in password.casefold():
        raise PasswordError("password: must not contain the user name")
    # Imported here: only setting a password needs it, and it loads word lists.
    from zxcvbn import zxcvbn

    estimate = zxcvbn(password[:_ESTIMATED_CHARS], user_inputs=[name] if name else [])
    if estimate["score"] < MIN_SCORE:
        warning = estimate["feedback"].get("warning") or "it is easy to guess"
        raise PasswordError(
            f"password: too easy to guess ({warning.rstrip('.')}); "
            "use a longer phrase of unrelated words"
        )


def hash_password(password: str, *, n: int = N) -> str:
    """A new salted scrypt hash of ``password`` in the stored form."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, n, R, P)
    return f"scrypt${n}${R}${P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; constant-time in the comparison."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(digest, bytes.fromhex(expected))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem: scrypt needs 128*n*r bytes; OpenSSL's default cap (32 MiB) is just below.
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * n * r,
        dklen=_HASH_BYTES,
    )
