"""Named transaction locks: a lock is a readable name, hashed to PostgreSQL's 64-bit advisory
lock key (as OCA connector names its locks), never a bare number.

Transaction-level locks only: released when the transaction ends, whatever happens to the
worker, so a crash never leaves one behind. Names in use: ``hc.backend.slot:<backend>:<n>``
(one of a backend's parallel jobs), ``hc.message.order:<backend>:<type>:<external id>`` (one
worker per external record).
"""

import hashlib


def lock_key(name):
    """The signed 64-bit advisory lock key of ``name`` (stable across processes and releases)."""
    if not name:
        raise ValueError("a lock needs a name")
    digest = hashlib.blake2b(name.encode(), digest_size=8, person=b"hc.lock").digest()
    return int.from_bytes(digest, "big", signed=True)


def try_xact_lock(cr, name):
    """Take the lock ``name`` until the end of ``cr``'s transaction if no other transaction holds
    it; ``True`` when taken (or already held by this transaction), ``False`` at once otherwise."""
    cr.execute("SELECT pg_try_advisory_xact_lock(%s)", (lock_key(name),))
    return bool(cr.fetchone()[0])
