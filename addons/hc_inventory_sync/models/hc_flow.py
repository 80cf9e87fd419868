from odoo import api, fields, models

from odoo.addons.hc_integration_base.lifecycle import runs

from .. import reconciliation_states as states


class HcFlow(models.Model):
    _inherit = "hc.flow"

    object_type = fields.Selection(
        selection_add=[("consumption", "Consumption"), ("stock_balance", "Stock balance")],
        ondelete={"consumption": "set default", "stock_balance": "set default"},
    )
    hc_shortage_policy = fields.Selection(
        [("allow", "Allow negative stock"), ("exception", "Stop in the exception queue")],
        string="Stock shortage policy", default="exception", required=True,
        help="Consumption flows: what to do when a department uses more than Odoo has at the location "
        "(or a lot Odoo does not know). Allow records the move and leaves a negative quant to be "
        "reconciled; Stop sends the event to the exception queue until someone acts.",
    )
    hc_large_difference_value = fields.Float(
        "Large difference value", default=1000.0,
        help="Stock balance flows: a reconciliation line whose value reaches this amount gives the "
        "steward an activity.",
    )
    hc_reconcile_messages = fields.Boolean(
        "Reconcile each message",
        help="Inbound stock balance flows (an HL7 MFN^M15 through the MLLP listener, an inbound post): each message "
        "is a reconciliation of its own, comparing the items it names with Odoo's quants at the mapped locations "
        "(as the nightly pull compares every item). Off: a balance event only checks the urgent thresholds.",
    )
    hc_steward_id = fields.Many2one(
        "res.users", string="Stock steward",
        help="Stock balance flows: who reviews the reconciliations and receives their activities.",
    )

    def _config_field_names(self):
        return [*super()._config_field_names(), "hc_shortage_policy", "hc_large_difference_value", "hc_steward_id"]

    def action_pull_now(self):
        """Stock balance pulls are reconciliations: the run's pages are compared with Odoo's quants
        (also when the nightly scheduled pulls start them)."""
        action = super().action_pull_now()
        if self.object_type == "stock_balance":
            run = self.env["hc.batch.run"].browse(action["res_id"])
            reconciliation = self.env["hc.reconciliation"].create({"batch_run_id": run.id, "flow_id": self.id})
            return {"type": "ir.actions.act_window", "res_model": "hc.reconciliation",
                    "res_id": reconciliation.id, "view_mode": "form"}
        return action


class HcBatchRun(models.Model):
    """A stock balance pull is a reconciliation: its end, failure and resumption move it."""

    _inherit = "hc.batch.run"

    def _reconciliations(self, states):
        return self.env["hc.reconciliation"].sudo().search([("batch_run_id", "in", self.ids), ("state", "in", states)])

    def _on_finished(self):
        result = super()._on_finished()
        self._reconciliations([states.RUNNING])._on_pull_finished()
        return result

    def _on_failed(self):
        result = super()._on_failed()
        for reconciliation in self._reconciliations(states.IN_PROGRESS):
            run = reconciliation.batch_run_id
            if run.state == runs.CANCELLED:
                reconciliation._fail(self.env._("The balance pull was cancelled."), alert=False)
            else:
                reconciliation._fail(run.error_message or self.env._("The balance pull failed."))
        return result

    def _on_resumed(self):
        result = super()._on_resumed()
        self._reconciliations([states.FAILED]).write({"state": states.RUNNING, "error_message": False})
        return result

    @api.model
    def _cron_watchdog(self):
        result = super()._cron_watchdog()
        self.env["hc.reconciliation"].sudo()._cron_watchdog(self._stuck_minutes())
        return result
