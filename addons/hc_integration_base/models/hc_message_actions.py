"""What an operator does with messages: retry, assign, ignore with a reason, replay an edited copy."""

from odoo import models
from odoo.exceptions import AccessError, UserError

from ..lifecycle import IGNORED, RETRYABLE


class HcMessage(models.Model):
    _inherit = "hc.message"

    # --- operator actions -----------------------------------------------------------------------------
    def _check_operator(self):
        if not self.env.user.has_group("hc_integration_base.group_hc_operator"):
            raise AccessError(self.env._("Only integration operators can act on messages."))

    def action_retry(self):
        self._check_operator()
        return self._retry()

    def _retry(self):
        retryable = self.filtered(lambda m: m.state in RETRYABLE)
        if not retryable:
            raise UserError(self.env._("Only messages in exception or retrying can be retried."))
        retryable.sudo().write({"error_category": False})
        retryable.sudo()._enqueue()
        return True

    def action_assign_to_me(self):
        self._check_operator()
        self.write({"user_id": self.env.uid})

    def _ignore(self, reason):
        self._check_operator()
        if not (reason or "").strip():
            raise UserError(self.env._("Give a reason to ignore a message."))
        for message in self:
            message.sudo().write({"state": IGNORED, "ignore_reason": reason})
            message.message_post(body=self.env._("Ignored: %s", reason))
            message.activity_ids.action_feedback(feedback=reason)

    def _replay(self, payload):
        """A new message linked to this one, with an edited payload; this one stays unchanged."""
        self.ensure_one()
        self._check_operator()
        new = self._receive_replay(payload)
        self.message_post(body=self.env._("Replayed as message %s.", new.id))
        return new
