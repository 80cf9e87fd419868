from odoo import api, models

COST_CENTRE = "account.analytic.account"


class HcHandlerDepartment(models.AbstractModel):
    """Departments of the legacy HR system (schemas/department.v1.json): one department per legacy
    code (kept in ``hc_code``: Odoo's departments have none), with its cost centre (which must have
    been received), parent and manager (linked when they arrive)."""

    _name = "hc.handler.department"
    _inherit = "hc.handler.master"
    _description = "Integration Handler: department"
    _document_schema = "hc_workforce_sync/schemas/department.v1.json"
    _record_model = "hr.department"
    _code_field = "hc_code"

    @api.model
    def _upsert(self, message, record, code, document):
        cost_centre = self._required_reference(
            message, "cost_centre", COST_CENTRE, "code", self._code(document.get("cost_centre_code")),
            self.env._("cost centre"))
        parent_code = self._code(document.get("parent_code"))
        parent = self._by_code(message, "hr.department", "hc_code", parent_code)
        manager_code = self._code(document.get("manager_identifier"))
        manager = self._by_code(message, "hr.employee", "hc_employee_code", manager_code)
        values = {
            "hc_code": code,
            "name": document["name"],
            "active": document.get("active", True) is not False,
            "hc_cost_center_id": cost_centre.id or False,
            "hc_parent_code": parent_code or False,
            "parent_id": parent.id if parent and parent != record else False,
            "hc_manager_code": manager_code or False,
            "manager_id": manager.id if manager.active else False,
        }
        return self._save(record, values)

    @api.model
    def _link_waiting(self, record, code):
        children = record.search([("hc_parent_code", "=", code), ("parent_id", "!=", record.id),
                                  ("id", "!=", record.id), ("company_id", "in", [record.company_id.id, False])])
        if children:
            children.with_context(hc_sync_apply=True).write({"parent_id": record.id})
