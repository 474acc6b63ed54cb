"""Committed segments as files: the event log a distributed job reads.

With ``DETECTOR_SEGMENT_EXPORT_DIR`` set, ingest writes every committed segment's
payload (the zstd NDJSON the store keeps) to that directory as one ``.json.zst`` file,
after the commit. Many stateless ingest replicas can then feed one Spark job
(``detector.scaleout.stage1``), while the database still holds the deduplication keys.

A file appears whole or not at all: it is written under a dot-name the job's file
source ignores, flushed to disk, then renamed, which is atomic within a directory.
Names are unique across replicas without coordination (time, host, process, random).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from pathlib import Path

log = logging.getLogger("detector.ingest")

SUFFIX = ".json.zst"


def export_segment(directory: Path, payload: bytes) -> Path | None:
    """Write ``payload`` as a new file in ``directory``; returns its path.

    The records are already committed when this runs, so a failure here must not
    undo the answer the client gets: it is logged (the segment stays in the store,
    which a re-export can copy) and None is returned.
    """
    name = f"{time.time_ns():020d}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    final = directory / f"{name}{SUFFIX}"
    # Spark's file source skips names starting with "." or "_": a half-written
    # file is never read.
    temporary = directory / f".{name}.tmp"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        temporary.rename(final)
    except OSError:
        log.exception("segment export to %s failed; the records are in the store", directory)
        temporary.unlink(missing_ok=True)
        return None
    return final
