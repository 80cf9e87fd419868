from odoo import fields, models


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
    hc_steward_id = fields.Many2one(
        "res.users", string="Stock steward",
        help="Stock balance flows: who reviews the reconciliations and receives their activities.",
    )

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
    _inherit = "hc.batch.run"

    def write(self, vals):
        result = super().write(vals)
        if vals.get("state") in ("failed", "cancelled"):
            for reconciliation in self.env["hc.reconciliation"].sudo().search(
                    [("batch_run_id", "in", self.ids), ("state", "=", "running")]):
                reconciliation.write({"state": "failed", "error_message": reconciliation.batch_run_id.error_message
                                      or self.env._("The balance pull was cancelled.")})
        elif vals.get("state") == "running":
            self.env["hc.reconciliation"].sudo().search(
                [("batch_run_id", "in", self.ids), ("state", "=", "failed")]).write(
                {"state": "running", "error_message": False})
        return result
