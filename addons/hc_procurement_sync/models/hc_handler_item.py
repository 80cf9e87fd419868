from odoo import api, models

from odoo.addons.hc_integration_base.models.hc_message import PermanentError

VENDOR_KEYS = ("hc_vendor_id", "hc_vendor_price", "hc_vendor_code", "hc_vendor_delay", "hc_vendor_min_qty",
               "hc_purchase_uom_id")


class HcHandlerSupplier(models.AbstractModel):
    """Suppliers: the generic record handler on partners (mapping decides the fields)."""

    _name = "hc.handler.supplier"
    _inherit = "hc.handler.generic"
    _description = "Integration Handler: supplier"


class HcHandlerItem(models.AbstractModel):
    """Catalog items: products whose vendor price line (product.supplierinfo) comes with them.

    The active mapping fills product fields plus ``hc_vendor_id`` (the supplier, usually
    resolved through the supplier flow's bindings), ``hc_vendor_price``, ``hc_vendor_code``,
    ``hc_vendor_delay``, ``hc_vendor_min_qty`` and ``hc_purchase_uom_id``; they become the
    product's vendor line, replaced at each change since the legacy catalog owns it.
    """

    _name = "hc.handler.item"
    _inherit = "hc.handler.generic"
    _description = "Integration Handler: catalog item"

    @api.model
    def _extra_targets(self):
        return VENDOR_KEYS

    @api.model
    def _values(self, message, payload):
        values = super()._values(message, payload)
        vendor = {key: values.pop(key) for key in VENDOR_KEYS if key in values}
        if not vendor.get("hc_vendor_id"):
            raise PermanentError(
                self.env._("Item %s names no known supplier: pull the suppliers first.", values.get("default_code")),
                category="mapping",
            )
        seller = {
            "partner_id": vendor["hc_vendor_id"],
            "price": vendor.get("hc_vendor_price") or 0.0,
            "product_code": vendor.get("hc_vendor_code") or False,
            "delay": vendor.get("hc_vendor_delay") or 1,
            "min_qty": vendor.get("hc_vendor_min_qty") or 0.0,
        }
        if vendor.get("hc_purchase_uom_id"):
            seller["product_uom_id"] = vendor["hc_purchase_uom_id"]
        values["seller_ids"] = [(5, 0, 0), (0, 0, seller)]
        return values
