"""Every reason a message is not running now, in one place.

A message waits — postponed by queue_job without spending one of its attempts — when:
- every processing slot of its backend is busy (the backend's *Parallel jobs*);
- another worker holds its external record, or an earlier message about that record is pending
  (per-record ordering);
- its backend's circuit is open (the call would not leave; decided by ``lifecycle.classify``);
- it names records that the flows bringing them may still deliver (``ReferenceWait``, raised by
  the handlers through ``_references_may_arrive``).

Each wait goes through ``_postpone`` (or ``_note_wait`` for a ``ReferenceWait`` already raised):
the reason is written on the message's ``wait_reason`` in a transaction of its own (it survives
the job's rollback) and shown in the message list and form until the message runs. Locks are
named transaction locks (``lifecycle.try_xact_lock``): released when the job's transaction ends;
a handler making a record that pages side by side may both make claims it (``lifecycle.try_claim``).
"""

import logging
from datetime import timedelta

from psycopg2 import OperationalError

from odoo import fields, models

from odoo.addons.queue_job.exception import RetryableJobError

from ..lifecycle import BLOCKING, runs, try_xact_lock
from ..lifecycle.locks import CLAIM_TABLE_SQL

_logger = logging.getLogger(__name__)

# How long a message naming a record not received yet waits for the flows that bring it, and
# after how long without a stored page a running pull no longer counts as bringing anything.
REFERENCE_WAIT = timedelta(hours=1)
STALE_RUN = timedelta(minutes=15)


class HcMessage(models.Model):
    _inherit = "hc.message"

    wait_reason = fields.Char(
        readonly=True, copy=False,
        help="Why the message is not running now (a busy backend, an earlier message about the same "
        "record, an open circuit, records still being received); cleared when it runs.",
    )

    def init(self):
        """The table of named claims (``lifecycle.try_claim``): one row per lock name claimed."""
        res = super().init()
        self.env.cr.execute(CLAIM_TABLE_SQL)
        return res

    # --- the waits --------------------------------------------------------------------------------
    def _take_backend_slot(self):
        """Hold one of the backend's ``job_capacity`` slots until the job's transaction ends; when
        all are taken the job waits."""
        capacity = self.backend_id.job_capacity
        if capacity <= 0:
            return
        for slot in range(capacity):
            if try_xact_lock(self.env.cr, self._backend_slot_lock(slot)):
                return
        self._postpone(self.env._("Every processing slot of backend %s is busy.", self.backend_id.name), 1)

    def _wait_for_others(self):
        """Waits a domain addon adds, e.g. for a process of Odoo's that this job would collide with
        (it postpones through ``_postpone``); none here."""

    def _backend_slot_lock(self, slot):
        return f"hc.backend.slot:{self.backend_id.id}:{slot}"

    def _wait_for_predecessors(self):
        """Apply messages about one external record in the order received: one worker at a time
        holds the record, and an earlier unfinished message about it holds this one back."""
        lock = self._ordering_lock()
        if not lock:
            return
        if not try_xact_lock(self.env.cr, lock):
            self._postpone(self.env._("Another worker is applying a message about this record."), 1)
        earlier = self.sudo().search_count(
            [
                ("backend_id", "=", self.backend_id.id),
                ("object_type", "=", self.object_type),
                ("external_id", "=", self.external_id),
                ("direction", "=", self.direction),
                ("id", "<", self.id),
                ("state", "in", BLOCKING),
            ],
            limit=1,
        )
        if earlier:
            self._postpone(self.env._("An earlier message about this record is still pending."), 2)

    def _ordering_lock(self):
        key = self._ordering_key()
        return f"hc.message.order:{key}" if key else None

    def _references_may_arrive(self, flows):
        """Whether ``flows`` may still deliver the records this message names, so that it waits
        (``ReferenceWait``) rather than fails.

        Scheduled pulls start together, so the first catalog page can be applied before the
        suppliers it names: that page waits while a pull of those flows is active (a page stored
        in the last ``STALE_RUN``), one of their pages is not applied yet, or one of their inbound
        messages received earlier is not. Later inbound messages do not count (a steady stream
        would hold it forever, and two messages naming each other would wait on each other), and
        no message waits longer than ``REFERENCE_WAIT`` after it was received.
        """
        self.ensure_one()
        now = fields.Datetime.now()
        flows -= self.flow_id
        if not flows or now - (self.received_at or now) >= REFERENCE_WAIT:
            return False
        return bool(
            self.sudo().search_count(
                [("flow_id", "in", flows.ids), ("state", "in", BLOCKING), ("id", "!=", self.id),
                 "|", ("batch_run_id", "!=", False), ("id", "<", self.id)],
                limit=1,
            ) or self.env["hc.batch.run"].sudo().search_count(
                [("flow_id", "in", flows.ids), ("state", "=", runs.RUNNING), ("write_date", ">", now - STALE_RUN)],
                limit=1,
            )
        )

    # --- how a wait is recorded ---------------------------------------------------------------------
    def _postpone(self, reason, seconds, values=None, cause=None):
        """Wait: note ``reason`` (with ``values``) on the message and have queue_job run the job
        again after ``seconds``, without counting an attempt."""
        self._note_wait(reason, values)
        raise RetryableJobError(reason, seconds=seconds, ignore_retry=True) from cause

    def _note_wait(self, reason, values=None):
        """Write ``reason`` as the message's ``wait_reason`` (and ``values``) in a transaction of
        its own; nothing when the reason is already there and nothing else changes, so a job
        waiting again and again costs no write. Only a note: a concurrent write on the message
        (an operator acting on it) must not turn the wait into a failure."""
        self.ensure_one()
        if not values and self.wait_reason == reason:
            return
        try:
            self.with_context(tracking_disable=True)._write_apart({**(values or {}), "wait_reason": reason})
        except OperationalError:
            _logger.info("Message %s waits (%s); its note was not written (concurrent update)", self.id, reason)
        self.invalidate_recordset()  # written by another transaction: read it again from there

