from odoo import api, models

from odoo.addons.hc_integration_base.exceptions import ReferenceWait
from odoo.addons.hc_integration_base.lifecycle.locks import BUSY, STALE, try_claim

COST_CENTRE = "account.analytic.account"


class HcHandlerEquipment(models.AbstractModel):
    """The legacy CMMS's equipment master (schemas/equipment.v1.json): one maintenance.equipment per
    code. Master data one record per legacy code, as the workforce masters are: the template of
    hc_workforce_sync (bindings, content hashes, adoption by code, references waiting for the pull
    that brings them) serves it as it is.

    The cost centre is an analytic account of the flow's cost-centre plan, whichever backend brought
    it (the HR system's master, in the demo); the category is found or created by code; the vendor
    is a partner found by reference (created from its name when unknown). Technicians stay Odoo's.
    """

    _name = "hc.handler.equipment"
    _inherit = "hc.handler.master"
    _description = "Integration Handler: equipment"
    _document_schema = "hc_maintenance_sync/schemas/equipment.v1.json"
    _record_model = "maintenance.equipment"
    _code_field = "hc_code"

    @api.model
    def _cost_centre(self, message, code):
        if not code:
            return self.env[COST_CENTRE]
        plan = message.flow_id.sudo().hc_analytic_plan_id or self.env.ref(
            "hc_workforce_sync.analytic_plan_cost_centres", raise_if_not_found=False)
        account = self.env[COST_CENTRE].with_context(active_test=False).search(
            [("code", "=", code), *([("plan_id", "=", plan.id)] if plan else [])], limit=1)
        if not account:
            flows = self.env["hc.flow"].sudo().search([
                ("object_type", "=", "cost_centre"), ("direction", "in", ("pull", "inbound")),
                ("company_id", "in", [message.backend_id.company_id.id, False])])
            self._missing_reference(message, flows, self.env._(
                "Equipment: unknown cost centre %(code)s (not received from the cost-centre master yet: pull the "
                "cost centres first).", code=code))
        return account

    @api.model
    def _category(self, document):
        """The equipment's category, made when missing, without two pages of one pull writing the same
        category row side by side (PostgreSQL would refuse one: could not serialize access).

        Odoo stores each category's ``fold`` (folded in the maintenance pipe: no equipment), recomputed
        from its equipment whenever a piece joins it, and writes the value when it is not known to be
        unchanged. The stored value is read here first, so a category that already has equipment is
        not written at all; the row is written only when the category is made, or unfolds (its first
        equipment): the page that claims the category's named lock does it, another waits (no attempt
        spent) and finds the category made or unfolded on its next run; so does a page begun before
        the one that made or unfolded it committed (its snapshot would not see the change)."""
        code = self._code(document.get("category_code"))
        Category = self.env["maintenance.equipment.category"]
        if not code:
            return Category
        domain = [("hc_code", "=", code), ("company_id", "in", [self.env.company.id, False])]
        category = Category.search(domain, limit=1)
        if category and not category.fold:
            return category  # fold is in the cache now: adding equipment leaves the row alone
        claim = try_claim(self.env.cr, f"maintenance.equipment.category:{self.env.company.id}:{code}")
        if claim == BUSY:
            raise ReferenceWait(self.env._(
                "Equipment category %(code)s is being created or updated by another page of the pull.", code=code))
        if claim == STALE:
            raise ReferenceWait(self.env._(
                "Equipment category %(code)s was changed by another page of the pull since this one began.",
                code=code))
        # No technician of its own: Odoo's default would make the integration user responsible.
        return category or Category.create({"name": (document.get("category_name") or code).strip(),
                                            "hc_code": code, "technician_user_id": False})

    @api.model
    def _vendor(self, document):
        code = self._code(document.get("vendor_code"))
        Partner = self.env["res.partner"].with_context(active_test=False)
        if not code:
            return Partner
        vendor = Partner.search([("ref", "=", code), ("is_company", "=", True)], limit=1)
        if not vendor and document.get("vendor_name"):
            vendor = Partner.create({"name": document["vendor_name"].strip(), "ref": code, "is_company": True,
                                     "supplier_rank": 1})
        return vendor

    @api.model
    def _upsert(self, message, record, code, document):
        values = {
            "hc_code": code,
            "name": document["name"].strip(),
            "serial_no": (document.get("serial_number") or "").strip() or False,
            "category_id": self._category(document).id or False,
            "hc_location": (document.get("location") or "").strip() or False,
            "hc_site": (document.get("site") or "").strip() or False,
            "hc_cost_center_id": self._cost_centre(message, self._code(document.get("cost_centre_code"))).id or False,
            "partner_id": self._vendor(document).id or False,
            "model": (document.get("model") or "").strip() or False,
            "warranty_date": self._date(document, "warranty_date"),
            "hc_critical": bool(document.get("critical")),
            "active": document.get("active", True) is not False,
        }
        return self._save(record, values)
