from odoo import api, models

from odoo.addons.hc_integration_base.exceptions import PermanentError


class HcHandlerCostCentre(models.AbstractModel):
    """The legacy cost-centre master: one analytic account per code in the flow's cost-centre plan
    (schemas/cost_centre.v1.json). Its parent is another cost centre, kept as a code until it arrives."""

    _name = "hc.handler.cost_centre"
    _inherit = "hc.handler.master"
    _description = "Integration Handler: cost centre"
    _document_schema = "hc_workforce_sync/schemas/cost_centre.v1.json"
    _record_model = "account.analytic.account"
    _code_field = "code"

    @api.model
    def _plan(self, message):
        plan = message.flow_id.sudo().hc_analytic_plan_id
        if not plan:
            raise PermanentError(self.env._("Flow %s names no cost-centre plan: choose the analytic plan its cost "
                                            "centres belong to.", message.flow_id.name), category="mapping")
        return plan

    @api.model
    def _by_code(self, message, model_name, code_field, code, domain=()):
        if model_name == self._record_model and not domain and message.flow_id.object_type == "cost_centre":
            domain = [("plan_id", "=", self._plan(message).id)]
        return super()._by_code(message, model_name, code_field, code, domain)

    @api.model
    def _upsert(self, message, record, code, document):
        parent_code = self._code(document.get("parent_code"))
        parent = self._by_code(message, self._record_model, "code", parent_code) if parent_code else record.browse()
        values = {
            "code": code,
            "name": document["name"],
            "plan_id": self._plan(message).id,
            "active": document.get("active", True) is not False,
            "hc_parent_code": parent_code or False,
            "hc_parent_id": parent.id if parent and parent != record else False,
        }
        return self._save(record, values)

    @api.model
    def _link_waiting(self, record, code):
        children = record.search([("hc_parent_code", "=", code), ("plan_id", "=", record.plan_id.id),
                                  ("hc_parent_id", "!=", record.id), ("id", "!=", record.id)])
        if children:
            children.with_context(hc_sync_apply=True).write({"hc_parent_id": record.id})
