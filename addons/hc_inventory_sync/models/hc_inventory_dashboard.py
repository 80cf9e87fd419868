from odoo import fields, models

from .. import reconciliation_states as states


class HcInventoryDashboard(models.Model):
    """The stores' view of the integration: one record per company, every figure computed live."""

    _name = "hc.inventory.dashboard"
    _description = "Inventory Integration Dashboard"

    name = fields.Char(default="Inventory integration", required=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, required=True)
    last_reconciliation_id = fields.Many2one("hc.reconciliation", compute="_compute_figures")
    last_reconciliation_state = fields.Selection(states.STATES, compute="_compute_figures")
    last_reconciliation_in_progress = fields.Boolean(compute="_compute_figures")
    last_reconciliation_date = fields.Datetime(compute="_compute_figures")
    last_reconciliation_progress = fields.Float(compute="_compute_figures")
    open_discrepancy_count = fields.Integer("Open discrepancies", compute="_compute_figures")
    below_threshold_count = fields.Integer("Critical items below threshold", compute="_compute_figures")
    orders_in_flight_count = fields.Integer("Urgent orders in flight", compute="_compute_figures")
    consumption_failed_count = fields.Integer("Consumption events in exception", compute="_compute_figures")
    location_failed_count = fields.Integer("Locations out of sync", compute="_compute_figures")

    _company_uniq = models.Constraint("unique(company_id)", "One dashboard per company.")

    def _below_threshold(self):
        rules = self.env["stock.warehouse.orderpoint"].search(
            [("hc_urgent", "=", True), ("company_id", "=", self.company_id.id)])
        return rules.filtered(lambda r: r.product_uom.compare(r.qty_on_hand, r.product_min_qty) < 0)

    def _in_flight_domain(self):
        return [("hc_trigger_message_id", "!=", False), ("company_id", "=", self.company_id.id),
                ("state", "in", ("draft", "sent", "to approve", "purchase")),
                ("receipt_status", "!=", "full")]

    def _compute_figures(self):
        for board in self:
            company = board.company_id.id
            last = self.env["hc.reconciliation"].search([("company_id", "in", [company, False])], limit=1)
            board.last_reconciliation_id = last
            board.last_reconciliation_state = last.state
            board.last_reconciliation_in_progress = last.is_in_progress
            board.last_reconciliation_date = last.date
            board.last_reconciliation_progress = last.progress
            board.open_discrepancy_count = self.env["hc.reconciliation.line"].search_count(
                [("state", "=", "open"), ("company_id", "in", [company, False])])
            board.below_threshold_count = len(board._below_threshold())
            board.orders_in_flight_count = self.env["purchase.order"].search_count(board._in_flight_domain())
            # Counts only: stores staff see how many, the integration team opens the messages.
            board.consumption_failed_count = self.env["hc.message"].sudo().search_count(
                [("flow_id.object_type", "=", "consumption"), ("state", "=", "exception")])
            board.location_failed_count = self.env["stock.location"].sudo().search_count(
                [("hc_sync_state", "=", "failed"), ("company_id", "in", [company, False])])

    def _open(self, model, domain, name, views="list,form"):
        return {"type": "ir.actions.act_window", "res_model": model, "domain": domain, "name": name,
                "view_mode": views}

    def action_open_last_reconciliation(self):
        return {"type": "ir.actions.act_window", "res_model": "hc.reconciliation",
                "res_id": self.last_reconciliation_id.id, "view_mode": "form"}

    def action_open_discrepancies(self):
        return self._open("hc.reconciliation.line", [("state", "=", "open")], self.env._("Open discrepancies"))

    def action_open_below_threshold(self):
        return self._open("stock.warehouse.orderpoint", [("id", "in", self._below_threshold().ids)],
                          self.env._("Critical items below threshold"))

    def action_open_orders_in_flight(self):
        return self._open("purchase.order", self._in_flight_domain(), self.env._("Urgent orders in flight"))

    def action_open_consumption_failed(self):
        return self._open("hc.message", [("flow_id.object_type", "=", "consumption"), ("state", "=", "exception")],
                          self.env._("Consumption events in exception"))

    def action_open_locations_failed(self):
        return self._open("stock.location", [("hc_sync_state", "=", "failed")], self.env._("Locations out of sync"))

    def action_open_dashboard(self):
        board = self.search([("company_id", "=", self.env.company.id)], limit=1) or self.sudo().create(
            {"company_id": self.env.company.id})
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": board.id, "view_mode": "form",
                "name": self.env._("Inventory integration")}
