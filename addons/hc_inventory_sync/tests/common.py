from odoo.addons.hc_integration_base.tests.common import HcIntegrationCase


class InventoryCase(HcIntegrationCase):
    """Simulators, the demo flows pointed at them, departmental locations and a few products."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rest, _soap = cls.use_demo_backends(read_timeout=2, breaker_threshold=100)
        cls.flow_events = cls.env.ref("hc_inventory_sync.demo_flow_consumption_inbound")
        cls.flow_pull = cls.env.ref("hc_inventory_sync.demo_flow_consumption_pull")
        cls.flow_balances = cls.env.ref("hc_inventory_sync.demo_flow_stock_balances")
        cls.stock = cls.env.ref("stock.stock_location_stock")
        cls.pharmacy = cls.env.ref("hc_inventory_sync.demo_location_pharmacy")
        cls.icu = cls.env.ref("hc_inventory_sync.demo_location_icu")
        cls.consumed = cls.env.ref("hc_inventory_sync.location_patient_consumption")
        cls.vendor = cls.env["res.partner"].create({"name": "Critical vendor", "ref": "SUP-0002", "is_company": True})
        Product = cls.env["product.product"]
        cls.gloves = Product.create({"name": "Gloves", "default_code": "ITM-I1", "is_storable": True,
                                     "standard_price": 2.0})
        cls.reagent = Product.create({"name": "Reagent", "default_code": "ITM-I2", "is_storable": True,
                                      "tracking": "lot", "standard_price": 40.0})
        cls.saline = Product.create({
            "name": "Saline 500 ml", "default_code": "ITM-I3", "is_storable": True, "hc_critical": True,
            "standard_price": 1.5,
            "seller_ids": [(0, 0, {"partner_id": cls.vendor.id, "price": 1.2, "min_qty": 1})],
            "route_ids": [(6, 0, cls.env.ref("purchase_stock.route_warehouse0_buy").ids)],
        })
        cls.lot_a = cls.env["stock.lot"].create({"name": "LOT-A", "product_id": cls.reagent.id})

    def put(self, product, location, qty, lot=None):
        self.env["stock.quant"]._update_available_quantity(product, location, qty, lot_id=lot)

    def on_hand(self, product, location, lot=None):
        return self.env["stock.quant"]._get_available_quantity(product, location, lot_id=lot, allow_negative=True)

    def apply(self, flow, payload):
        """A message of ``flow`` (named by its reference) applied with the jobs it leads to."""
        reference = payload.get("reference") if isinstance(payload, dict) else None
        return self.receive(flow, payload, jobs="run", external_id=reference)
