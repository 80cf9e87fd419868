from odoo import api, models

from odoo.addons.hc_integration_base.exceptions import PermanentError

# Models of catalog items, which demand, receipt, consumption and stock balance documents name by code.
ITEM_MODELS = ("product.template", "product.product")
VENDOR_KEYS = ("hc_vendor_id", "hc_vendor_price", "hc_vendor_code", "hc_vendor_delay", "hc_vendor_min_qty",
               "hc_purchase_uom_id")


class HcItemReference(models.AbstractModel):
    """The item cross-reference: a legacy item code of one backend -> the product.

    A backend's item pull binds each product to the item's code (hc.binding, external ID path of
    the catalog flow); documents of that backend naming an item by code find the product through
    that binding. A code no binding of the backend knows is looked up as the product's internal
    reference (default_code), as before: catalogs loaded another way keep working.
    """

    _name = "hc.item.reference"
    _description = "Integration: legacy item codes"

    @api.model
    def _products(self, backend, codes, active_test=True):
        """``{code: product.product}`` for the codes it knows (one query per source)."""
        codes = {str(code) for code in codes if code not in (None, "")}
        if not codes:
            return {}
        Product = self.env["product.product"].with_context(active_test=active_test)
        found = {}
        bindings = self.env["hc.binding"].sudo().search_fetch(
            [("backend_id", "=", backend.id), ("res_model", "in", ITEM_MODELS), ("external_id", "in", list(codes))],
            ["res_model", "res_id", "external_id"], order="id")
        templates = self.env["product.template"].with_context(active_test=active_test).browse(
            {b.res_id for b in bindings if b.res_model == "product.template"}).exists()
        variants = Product.browse({b.res_id for b in bindings if b.res_model == "product.product"}).exists()
        for binding in bindings:
            if binding.res_model == "product.product" and binding.res_id in variants.ids:
                found.setdefault(binding.external_id, Product.browse(binding.res_id))
            elif binding.res_model == "product.template" and binding.res_id in templates.ids:
                variant = templates.browse(binding.res_id).with_context(active_test=active_test).product_variant_ids[:1]
                if variant:
                    found.setdefault(binding.external_id, variant)
        rest = codes - set(found)
        if rest:
            for product in Product.search_fetch([("default_code", "in", list(rest))], ["default_code"], order="id"):
                found.setdefault(product.default_code, product)
        return found

    @api.model
    def _codes(self, backend, products):
        """``{product id: code}``: how ``backend`` names each product (its own item binding), else
        the product's internal reference. The way back of :meth:`_products`, for documents Odoo sends."""
        bindings = self.env["hc.binding"].sudo().search_fetch(
            ["&", ("backend_id", "=", backend.id), "|",
             "&", ("res_model", "=", "product.product"), ("res_id", "in", products.ids),
             "&", ("res_model", "=", "product.template"), ("res_id", "in", products.product_tmpl_id.ids)],
            ["res_model", "res_id", "external_id"], order="id desc")
        by_variant = {b.res_id: b.external_id for b in bindings if b.res_model == "product.product"}
        by_template = {b.res_id: b.external_id for b in bindings if b.res_model == "product.template"}
        return {product.id: by_variant.get(product.id) or by_template.get(product.product_tmpl_id.id)
                or product.default_code or "" for product in products}

    @api.model
    def _product(self, backend, code):
        return self._products(backend, [code]).get(str(code), self.env["product.product"])

    @api.model
    def _flows_bringing_items(self):
        """Flows of any backend that bring items (a message naming an unknown item waits for them)."""
        return self.env["hc.handler.generic"]._flows_bringing(ITEM_MODELS)


class HcHandlerSupplier(models.AbstractModel):
    """Suppliers: the generic record handler on partners (the mapping decides the fields), its
    document checked against schemas/supplier.v1.json."""

    _name = "hc.handler.supplier"
    _inherit = "hc.handler.generic"
    _description = "Integration Handler: supplier"
    _document_schema = "hc_procurement_sync/schemas/supplier.v1.json"


class HcHandlerItem(models.AbstractModel):
    """Catalog items: products whose vendor price line (product.supplierinfo) comes with them.

    The document (schemas/item.v1.json, filled by the active mapping) holds product fields plus
    ``hc_vendor_id`` (the supplier, usually resolved through the supplier flow's bindings),
    ``hc_vendor_price``, ``hc_vendor_code``, ``hc_vendor_delay``, ``hc_vendor_min_qty`` and
    ``hc_purchase_uom_id``; they become the product's vendor line, replaced at each change since
    the legacy catalog owns it. The item's binding is the cross-reference other documents of the
    backend name the item by (hc.item.reference).
    """

    _name = "hc.handler.item"
    _inherit = "hc.handler.generic"
    _description = "Integration Handler: catalog item"
    _document_schema = "hc_procurement_sync/schemas/item.v1.json"

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
