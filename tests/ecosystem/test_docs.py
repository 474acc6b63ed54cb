"""docs/operations.md documents every setting, by its environment variable."""

from __future__ import annotations

from pathlib import Path

from detector.config import Settings

OPERATIONS = Path(__file__).parents[2] / "docs" / "operations.md"


def test_every_setting_is_documented() -> None:
    text = OPERATIONS.read_text()
    missing = [
        f"DETECTOR_{name.upper()}"
        for name in Settings.model_fields
        if f"`DETECTOR_{name.upper()}`" not in text
    ]
    assert not missing, f"add to the settings table of docs/operations.md: {missing}"
