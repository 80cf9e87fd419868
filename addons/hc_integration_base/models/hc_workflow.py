from odoo import api, fields, models

from .hc_dashboard import grouped_figures


class HcWorkflow(models.Model):
    """A business workflow the integration serves (procurement, stores, workforce...), shown as one
    card of the Integrations dashboard: the figures of its flows together, whatever backend they use.

    Domain addons declare theirs in data, naming the object types whose flows belong to it; a flow a
    consultant adds with one of those types joins the card by itself."""

    _name = "hc.workflow"
    _inherit = ["hc.figures.mixin"]
    _description = "Integration Workflow"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True, help="What the workflow keeps in step, shown on its card.")
    object_types = fields.Char(
        required=True,
        help="Object types (as the flows name them, separated by spaces) whose flows belong to this workflow.",
    )
    action_id = fields.Many2one(
        "ir.actions.act_window", "Business screen", ondelete="set null",
        help="Where the card's Open button leads: the records this workflow keeps in step.",
    )
    flow_ids = fields.Many2many("hc.flow", string="Flows", compute="_compute_flow_ids")
    flow_count = fields.Integer("Number of flows", compute="_compute_flow_ids")

    def _object_type_list(self):
        return (self.object_types or "").split()

    @api.depends("object_types")
    def _compute_flow_ids(self):
        types = {t for workflow in self for t in workflow._object_type_list()}
        Flow = self.env["hc.flow"]
        flows = Flow.search_fetch([("object_type", "in", list(types))], ["object_type"]) if types else Flow
        for workflow in self:
            mine = set(workflow._object_type_list())
            workflow.flow_ids = flows.filtered(lambda flow, types=mine: flow.object_type in types)
            workflow.flow_count = len(workflow.flow_ids)

    def _figures_by_id(self, ids):
        return grouped_figures(self.env, {workflow.id: workflow.flow_ids.ids for workflow in self.browse(ids)})

    def _messages_action(self, xmlid, name, context=None):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action.update(domain=[("flow_id", "in", self.flow_ids.ids)], name=name, context=context or {})
        return action

    def action_view_exceptions(self):
        return self._messages_action("hc_integration_base.hc_message_exception_action",
                                     self.env._("Exceptions of %s", self.name), {"search_default_exception": 1})

    def action_view_messages(self):
        return self._messages_action("hc_integration_base.hc_message_action", self.env._("Messages of %s", self.name))

    def action_view_flows(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hc_integration_base.hc_flow_figures_action")
        action.update(domain=[("id", "in", self.flow_ids.ids)], name=self.env._("Flows of %s", self.name))
        return action

    def action_open_business(self):
        self.ensure_one()
        return self.action_id._get_action_dict() if self.action_id else False
