from odoo import api, models


class HcHandlerDemand(models.AbstractModel):
    """A requisition's department is the HR system's department of that code: its cost centre
    becomes the default analytic distribution of the RFQ lines made for it."""

    _inherit = "hc.handler.demand"

    @api.model
    def _department_analytic(self, department, backend):
        """The cost centre of the department whose legacy code the requisition names (in the
        backend's company), else what the code table says (a department without a cost centre,
        or a code the HR system does not know)."""
        if department:
            found = self.env["hr.department"].search([
                ("hc_code", "=", str(department)), ("hc_cost_center_id", "!=", False),
                ("company_id", "in", [backend.company_id.id, False]),
            ], limit=1)
            if found:
                return found.hc_cost_center_id.id
        return super()._department_analytic(department, backend)
