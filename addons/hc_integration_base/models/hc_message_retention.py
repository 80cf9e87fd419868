"""Retention: old payloads are dropped (the message and its state stay), old unredacted payloads of
messages in exception too, and old done messages are deleted, after each backend's limits."""

from datetime import timedelta

from odoo import api, fields, models

from ..lifecycle import EXCEPTION, PURGEABLE, TERMINAL


class HcMessage(models.Model):
    _inherit = "hc.message"

    @api.model
    def _cron_purge(self):
        """Drop old payloads (keeping the record and state) and old unredacted payloads of messages
        in exception, then delete old done messages."""
        now = fields.Datetime.now()
        for backend in self.env["hc.backend"].with_context(active_test=False).search([]):
            payload_limit = now - timedelta(days=backend.payload_retention_days)
            old = self.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("received_at", "<", payload_limit),
                    ("state", "in", list(TERMINAL)),
                    ("payload", "!=", False),
                ]
            )
            old.write({"payload": False, "response": False, "payload_raw": False})
            # A message in exception keeps its redacted payload and its error (it can still be read
            # and retried), but not the unredacted one forever.
            raw_limit = now - timedelta(days=backend.exception_payload_retention_days)
            self.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("received_at", "<", raw_limit),
                    ("state", "=", EXCEPTION),
                    ("payload_raw", "!=", False),
                ]
            ).write({"payload_raw": False})
            delete_limit = now - timedelta(days=backend.message_retention_days)
            self.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("received_at", "<", delete_limit),
                    ("state", "in", PURGEABLE),
                ]
            ).unlink()
