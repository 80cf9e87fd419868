"""Named transaction locks: a lock is a readable name, hashed to PostgreSQL's 64-bit advisory
lock key (as OCA connector names its locks), never a bare number.

Transaction-level locks only: released when the transaction ends, whatever happens to the
worker, so a crash never leaves one behind. Names in use: ``hc.backend.slot:<backend>:<n>``
(one of a backend's parallel jobs), ``hc.message.order:<backend>:<type>:<external id>`` (one
worker per external record); the domain addons' claims name the record they make.

A lock alone does not tell a transaction what the previous holder did: under Odoo's REPEATABLE
READ, a transaction whose snapshot was taken before that holder committed takes the free lock and
still sees the old rows, so it would make the record a second time or write a row changed since
(PostgreSQL then refuses it: could not serialize access). ``try_claim`` takes the lock and writes
its name in ``hc_lock_claim``; that row, written by a holder this snapshot cannot see, makes the
write fail at once, in a savepoint, and the claim answers ``STALE``: the caller waits and runs
again with a fresh snapshot.
"""

import hashlib

from psycopg2.errors import SerializationFailure

# What try_claim answers: the lock is held (go on), another transaction holds it (wait), or a
# holder committed after this transaction's snapshot was taken (wait: run again to see its work).
HELD, BUSY, STALE = "held", "busy", "stale"

CLAIM_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS hc_lock_claim (
    key bigint PRIMARY KEY,
    claimed_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
)"""
_CLAIM_SQL = """
INSERT INTO hc_lock_claim (key) VALUES (%s)
ON CONFLICT (key) DO UPDATE SET claimed_at = now() AT TIME ZONE 'UTC'"""


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


def try_claim(cr, name):
    """Hold the lock ``name`` until the end of ``cr``'s transaction and check that this
    transaction sees what every earlier holder committed: ``HELD``, ``BUSY`` (another transaction
    holds it) or ``STALE`` (a holder committed after this transaction's snapshot: it must run again
    before it makes or changes what the lock guards). ``cr`` is an Odoo cursor (a savepoint without
    flush, a query whose refusal is not logged as an error: it is expected)."""
    if not try_xact_lock(cr, name):
        return BUSY
    try:
        with cr.savepoint(flush=False):
            cr.execute(_CLAIM_SQL, (lock_key(name),), log_exceptions=False)
    except SerializationFailure:
        return STALE
    return HELD
