from odoo import fields, models

EVENT_TYPES = [("breakdown", "Breakdown"), ("corrective", "Corrective"), ("preventive", "Preventive")]
# Odoo's request priorities (maintenance.request.priority).
PRIORITIES = [("0", "Very low"), ("1", "Low"), ("2", "Normal"), ("3", "High")]
STATUSES = [("new", "New"), ("in_progress", "In progress"), ("done", "Done"), ("cancelled", "Cancelled")]
# The statuses a request's stage pushes back to the CMMS it came from.
PUSHED_STATUSES = ("in_progress", "done", "cancelled")


class MaintenanceStage(models.Model):
    _inherit = "maintenance.stage"

    hc_status = fields.Selection(
        STATUSES, string="Status sent to the CMMS",
        help="What moving a request from a legacy CMMS into this stage tells that system: in progress, done "
        "(with the hours worked) or cancelled; new (or empty) sends nothing.",
    )


class MaintenanceEquipmentCategory(models.Model):
    _inherit = "maintenance.equipment.category"

    hc_code = fields.Char("Legacy code", index="btree_not_null", copy=False,
                          help="The category's code (asset type) in the legacy CMMS.")


class MaintenanceEquipment(models.Model):
    """Equipment of the legacy CMMS's equipment master: its code, where it stands, its cost centre
    and whether it is critical."""

    _name = "maintenance.equipment"
    _inherit = ["maintenance.equipment", "hc.sync.mixin"]

    hc_code = fields.Char("Legacy code", index="btree_not_null", copy=False,
                          help="The equipment's code (asset number) in the legacy CMMS.")
    hc_location = fields.Char("Location code", help="Where the equipment stands (the CMMS's location code).")
    hc_site = fields.Char("Site", help="The site (the CMMS's site code).")
    hc_cost_center_id = fields.Many2one(
        "account.analytic.account", string="Cost centre", index="btree_not_null", ondelete="restrict",
        check_company=True, help="The cost centre (analytic account) the equipment's costs are booked on.",
    )
    hc_critical = fields.Boolean(
        "Critical", help="Critical equipment: its breakdowns run on the integration's urgent channel with high "
        "priority.")


class MaintenanceRequest(models.Model):
    """Requests made from CMMS work orders keep the work order's reference, type, place and the
    routing rule that chose their team; their status changes go back to the CMMS."""

    _name = "maintenance.request"
    _inherit = ["maintenance.request", "hc.sync.mixin"]

    hc_work_order = fields.Char("Work order", index="btree_not_null", copy=False, readonly=True,
                                help="The work order's reference in the legacy CMMS.")
    hc_event_type = fields.Selection(EVENT_TYPES, string="Event type", readonly=True, copy=False)
    hc_location = fields.Char("Location code", copy=False)
    hc_site = fields.Char("Site", copy=False)
    hc_route_id = fields.Many2one(
        "hc.maintenance.route", string="Routing rule", readonly=True, copy=False, ondelete="set null",
        index="btree_not_null", help="The rule that chose the team (empty: the default team).")
    hc_urgent = fields.Boolean("Urgent", readonly=True, copy=False,
                               help="A breakdown of critical equipment: handled on the urgent channel.")
    hc_started_at = fields.Datetime("Started", readonly=True, copy=False,
                                    help="When the request first reached an in-progress stage.")
    hc_push_revision = fields.Integer(readonly=True, copy=False,
                                      help="Resyncs of the status: each one may send each status once more.")
    hc_remote_state = fields.Selection(
        [("accepted", "Accepted"), ("rejected", "Rejected")], string="CMMS answer", readonly=True, copy=False)
    hc_remote_reason = fields.Char("CMMS remark", readonly=True, copy=False)

    def write(self, vals):
        result = super().write(vals)
        if "stage_id" in vals:
            started = self.filtered(lambda r: r.stage_id.hc_status == "in_progress" and not r.hc_started_at)
            if started:
                started.write({"hc_started_at": fields.Datetime.now()})
        return result

    def _hc_resync(self):
        """Send the current status again: a new revision of the message key, the same key on the wire
        (the CMMS answers a change it recorded with its first answer)."""
        for request in self:
            request.sudo().hc_push_revision += 1
        return super()._hc_resync()
