"""Reviewer accounts and their sessions, and the sign-in attempts the throttle counts.

Keyword-only functions that never commit: the caller owns the unit of work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.orm import aliased

from detector.errors import InvalidRequestError, NotFoundError
from detector.store.review_models import AuditRow, ReviewerRow, ReviewerSessionRow


@dataclass(frozen=True, slots=True)
class Reviewer:
    id: int
    username: str


# Names appear in the audit log and the page header: keep them plain.
USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,128}")


def add_reviewer(conn: Connection, *, username: str, password_hash: str, now: datetime) -> int:
    if not USERNAME.fullmatch(username):
        raise InvalidRequestError(
            f"username: {username!r} must be 1-128 letters, digits or . _ @ -"
        )
    found = conn.execute(select(ReviewerRow.id).where(ReviewerRow.username == username)).first()
    if found is not None:
        raise InvalidRequestError(f"username: {username!r} already exists")
    result = conn.execute(
        insert(ReviewerRow).values(
            username=username, password_hash=password_hash, active=True, created_at=now
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def set_password(conn: Connection, *, username: str, password_hash: str) -> None:
    result = conn.execute(
        update(ReviewerRow)
        .where(ReviewerRow.username == username)
        .values(password_hash=password_hash, active=True)
    )
    if result.rowcount == 0:
        raise NotFoundError(f"username: no reviewer {username!r}")
    # A new password signs every browser out.
    conn.execute(
        delete(ReviewerSessionRow).where(
            ReviewerSessionRow.reviewer_id.in_(
                select(ReviewerRow.id).where(ReviewerRow.username == username)
            )
        )
    )


def disable_reviewer(conn: Connection, *, username: str) -> None:
    ids = select(ReviewerRow.id).where(ReviewerRow.username == username)
    result = conn.execute(
        update(ReviewerRow).where(ReviewerRow.username == username).values(active=False)
    )
    if result.rowcount == 0:
        raise NotFoundError(f"username: no reviewer {username!r}")
    conn.execute(delete(ReviewerSessionRow).where(ReviewerSessionRow.reviewer_id.in_(ids)))


def list_reviewers(conn: Connection) -> list[tuple[str, bool, datetime]]:
    rows = conn.execute(
        select(ReviewerRow.username, ReviewerRow.active, ReviewerRow.created_at).order_by(
            ReviewerRow.username
        )
    )
    return [(row[0], bool(row[1]), row[2]) for row in rows]


def credentials(conn: Connection, *, username: str) -> tuple[Reviewer, str] | None:
    """The active reviewer of that name and their stored password hash."""
    row = conn.execute(
        select(ReviewerRow.id, ReviewerRow.username, ReviewerRow.password_hash).where(
            ReviewerRow.username == username, ReviewerRow.active.is_(True)
        )
    ).first()
    return None if row is None else (Reviewer(id=row[0], username=row[1]), row[2])


def open_session(
    conn: Connection, *, reviewer_id: int, token_hash: str, now: datetime, expires_at: datetime
) -> None:
    # Sign-in is a good moment to forget sessions that expired long ago.
    conn.execute(delete(ReviewerSessionRow).where(ReviewerSessionRow.expires_at < now))
    conn.execute(
        insert(ReviewerSessionRow).values(
            token_hash=token_hash, reviewer_id=reviewer_id, created_at=now, expires_at=expires_at
        )
    )


def session_reviewer(conn: Connection, *, token_hash: str, now: datetime) -> Reviewer | None:
    """The reviewer signed in with that session, if it is live and they are active."""
    row = conn.execute(
        select(ReviewerRow.id, ReviewerRow.username)
        .join(ReviewerSessionRow, ReviewerSessionRow.reviewer_id == ReviewerRow.id)
        .where(
            ReviewerSessionRow.token_hash == token_hash,
            ReviewerSessionRow.expires_at > now,
            ReviewerRow.active.is_(True),
        )
    ).first()
    return None if row is None else Reviewer(id=row[0], username=row[1])


def close_session(conn: Connection, *, token_hash: str) -> None:
    conn.execute(delete(ReviewerSessionRow).where(ReviewerSessionRow.token_hash == token_hash))


def record_sign_in_attempt(conn: Connection, *, username: str, address: str, now: datetime) -> int:
    """Audit a sign-in attempt as failed, before its password is checked; its id.

    Written (and committed by the caller) first, so that attempts running at the same
    time count each other: ``sign_in_failures`` then sees every attempt committed
    before its own, and at most the limit of them pass, however many race.
    ``sign_in_succeeded`` turns the entry into a success once the password matched.
    """
    return int(
        conn.execute(
            insert(AuditRow)
            .values(
                case_id=None,
                actor=username[:256],
                action="signin_failed",
                note=address[:256],
                detail={},
                created_at=now,
            )
            .returning(AuditRow.id)
        ).scalar_one()
    )


def sign_in_succeeded(conn: Connection, *, attempt_id: int) -> None:
    conn.execute(update(AuditRow).where(AuditRow.id == attempt_id).values(action="signin"))


def sign_in_refused(conn: Connection, *, attempt_id: int) -> None:
    """The attempt was over a limit and checked no password: ``signin_throttled``."""
    conn.execute(
        update(AuditRow).where(AuditRow.id == attempt_id).values(action="signin_throttled")
    )


@dataclass(frozen=True, slots=True)
class SignInFailures:
    """Failed attempts in the window: on this name from this address, from this
    address on any name, on this name from anywhere; and whether this name signed in
    from this address before (then the name's own limit does not apply there)."""

    pair: int
    address: int
    username: int
    known_address: bool


def sign_in_failures(
    conn: Connection, *, username: str, address: str, since: datetime, known_since: datetime
) -> SignInFailures:
    """The counts the throttle decides on, read in one statement."""
    name, where = username[:256], address[:256]
    failed = (AuditRow.action == "signin_failed") & (AuditRow.created_at >= since)
    # An alias, so that the subquery is not correlated with the counted rows.
    earlier = aliased(AuditRow)
    known = (
        select(earlier.id)
        .where(
            earlier.action == "signin",
            earlier.actor == name,
            earlier.note == where,
            earlier.created_at >= known_since,
        )
        .exists()
    )
    row = conn.execute(
        select(
            func.count().filter(failed & (AuditRow.actor == name) & (AuditRow.note == where)),
            func.count().filter(failed & (AuditRow.note == where)),
            func.count().filter(failed & (AuditRow.actor == name)),
            known,
        ).where(AuditRow.created_at >= since)
    ).one()
    return SignInFailures(
        pair=int(row[0]), address=int(row[1]), username=int(row[2]), known_address=bool(row[3])
    )
