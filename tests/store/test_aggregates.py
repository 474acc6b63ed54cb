"""Stage 1's batches in the store: written once, read back in batch order."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from detector.store.aggregates import (
    Part,
    batch_committed,
    last_batch,
    load_stage2,
    parts_after,
    save_stage2,
    write_batch,
)
from detector.store.db import write_transaction


def parts(batch_id: int) -> list[Part]:
    return [
        Part(batch_id, 3600.0, "accounts", 2, b"a"),
        Part(batch_id, 3600.0, "keys", 5, b"k"),
        Part(batch_id, None, "behind", 1, b"r"),
    ]


@pytest.mark.db
def test_a_batch_is_written_once_and_read_in_order(engine: Engine) -> None:
    with engine.connect() as conn:
        assert last_batch(conn) is None
        assert not batch_committed(conn, batch_id=0)
    for batch_id in (0, 1):
        with write_transaction(engine) as conn:
            write_batch(conn, batch_id=batch_id, watermark=7200.0 * batch_id, parts=parts(batch_id))
    # The batch's row is its key: a second write of it fails as a whole, parts too.
    with pytest.raises(IntegrityError), write_transaction(engine) as conn:
        write_batch(conn, batch_id=1, watermark=None, parts=parts(1))
    with engine.connect() as conn:
        assert batch_committed(conn, batch_id=1)
        assert last_batch(conn) == (1, 7200.0)
        assert parts_after(conn, after_batch=-1) == parts(0) + parts(1)
        assert parts_after(conn, after_batch=0) == parts(1)


@pytest.mark.db
def test_stage2_checkpoint_is_replaced(engine: Engine) -> None:
    for after in (3, 4):
        with write_transaction(engine) as conn:
            save_stage2(conn, version=13, after_batch=after, decisions_seen=2, state=b"s%d" % after)
    with engine.connect() as conn:
        saved = load_stage2(conn)
    assert saved is not None
    assert (saved.after_batch, saved.decisions_seen, saved.state) == (4, 2, b"s4")
