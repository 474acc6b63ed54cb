"""The password rule: long enough, not the user name, not guessable by zxcvbn."""

from __future__ import annotations

import pytest

from detector.dashboard.passwords import PasswordError, check_strength


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        pytest.param("short-pw", "at least 10", id="too-short"),
        pytest.param("aaaaaaaaaa", "too easy to guess", id="repeats"),
        pytest.param("password123!", "too easy to guess", id="common"),
        pytest.param("qwertyuiop12", "too easy to guess", id="keyboard-run"),
        pytest.param("alice-alice1", "user name", id="holds-the-name"),
        pytest.param("ALICE2026!!x", "user name", id="holds-the-name-in-capitals"),
    ],
)
def test_weak_passwords_are_refused_naming_the_rule(password: str, rule: str) -> None:
    with pytest.raises(PasswordError, match=rule):
        check_strength(password, username="alice")


@pytest.mark.parametrize(
    "password", ["correct-horse-battery-9", "amber-otter-lantern", "x7#Lq9!vR2@pW" * 10]
)
def test_strong_passwords_pass(password: str) -> None:
    check_strength(password, username="alice")
