from odoo import api, fields, models

from .maintenance import EVENT_TYPES, PRIORITIES


class HcMaintenanceRoute(models.Model):
    """A routing rule: which maintenance team gets the requests of matching maintenance events.

    Rules are tried in sequence; the first whose every set criterion matches wins (an empty
    criterion matches anything). No rule matching: the flow's default team, else the company's
    first team. Kept by integration consultants and maintenance managers in the UI.
    """

    _name = "hc.maintenance.route"
    _description = "Maintenance Routing Rule"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10, help="Rules are tried in this order; the first match wins.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    event_type = fields.Selection(EVENT_TYPES, help="Only events of this type. Empty: any.")
    site = fields.Char(help="Only events at this site code (case does not matter). Empty: any.")
    location = fields.Char(
        help="Only events at this location code or under it: ICU matches ICU and ICU-2F (case does not matter). "
        "Empty: any.")
    category_id = fields.Many2one(
        "maintenance.equipment.category", string="Equipment category", check_company=True,
        help="Only events of equipment of this category. Empty: any.")
    min_priority = fields.Selection(
        PRIORITIES, string="Priority at least", help="Only events of this priority or higher. Empty: any.")
    critical_only = fields.Boolean("Critical equipment only", help="Only events of equipment marked critical.")
    team_id = fields.Many2one("maintenance.team", string="Team", required=True, check_company=True,
                              ondelete="restrict", help="The team the matching requests go to.")
    request_count = fields.Integer(compute="_compute_request_count", string="Requests routed")

    def _compute_request_count(self):
        counts = dict(self.env["maintenance.request"]._read_group(
            [("hc_route_id", "in", self.ids)], ["hc_route_id"], ["__count"]))
        for route in self:
            route.request_count = counts.get(route, 0)

    def _matches(self, facts):
        """Whether this rule matches an event: ``facts`` has event_type, site, location,
        category (a record), priority (Odoo's 0-3) and critical."""
        self.ensure_one()
        site, location = (facts.get("site") or "").upper(), (facts.get("location") or "").upper()
        return all((
            not self.event_type or self.event_type == facts.get("event_type"),
            not self.site or self.site.strip().upper() == site,
            not self.location or location == self.location.strip().upper()
            or location.startswith(self.location.strip().upper() + "-")
            or location.startswith(self.location.strip().upper() + "/"),
            not self.category_id or self.category_id == facts.get("category"),
            not self.min_priority or (facts.get("priority") or "0") >= self.min_priority,
            not self.critical_only or bool(facts.get("critical")),
        ))

    @api.model
    def _route(self, facts, company=None):
        """The first rule of the company matching ``facts`` (empty: none)."""
        company = company or self.env.company
        for route in self.search([("company_id", "=", company.id)]):
            if route._matches(facts):
                return route
        return self.browse()

    def action_view_requests(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("maintenance.hr_equipment_request_action")
        action["domain"] = [("hc_route_id", "=", self.id)]
        action["context"] = {}
        return action
