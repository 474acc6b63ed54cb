"""Structured logs: one JSON object a line, with the request id of the request served.

Secrets never reach the output: the formatter replaces every configured API token
(and the fingerprint key) wherever it appears, as a last guard behind
code that simply never logs headers or bodies. Secrets shorter than
``MIN_SECRET_CHARS`` are not searched for: they would blank out ordinary words, and a
secret that short is not one anyway.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

from detector.config import Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
REDACTED = "[redacted]"
MIN_SECRET_CHARS = 8

# Attributes every LogRecord has; anything else was passed in ``extra=`` and is logged.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured copy of the message
}


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id", ...extra}`` on one line."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so that a token containing another is replaced whole.
        kept = sorted({s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)
        self.secrets = re.compile("|".join(re.escape(s) for s in kept)) if kept else None

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        line = orjson.dumps(entry, default=str).decode()
        return self.secrets.sub(REDACTED, line) if self.secrets else line


def secrets_of(settings: Settings) -> list[str]:
    return [*settings.token_values(), settings.fingerprint_key.get_secret_value()]


def log_config(settings: Settings, *, json: bool = True) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the process, uvicorn's loggers included."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter, "secrets": secrets_of(settings)}
        if json
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    level = settings.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # Requests are logged once, with their id, by RequestContextMiddleware.
            "uvicorn.access": {"level": "WARNING"},
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "alembic.runtime.plugins": {"level": "WARNING"},
            # /readyz reads the schema revision on every probe; its INFO lines are noise.
            "alembic.runtime.migration": {"level": "WARNING"},
        },
    }
