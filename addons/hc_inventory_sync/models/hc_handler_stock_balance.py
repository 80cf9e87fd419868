from odoo import api, fields, models

from .hc_handler_consumption import legacy_locations


class HcHandlerStockBalance(models.AbstractModel):
    """Stock balances (item, location, lot, quantity) reported by the legacy system.

    Each balance is a canonical document (schemas/stock_balance.v1.json). A page of a
    reconciliation's pull is staged as it is (one row per balance, unknown codes kept and named),
    then counted; the page that completes the pull starts the comparison. A message outside a pull
    (an event, an HL7 MFN^M15) is a reconciliation of its own - of the items it names - when its
    flow reconciles each message; otherwise its balances only check the urgent thresholds.
    """

    _name = "hc.handler.stock_balance"
    _inherit = "hc.handler.document"
    _description = "Integration Handler: stock balance"
    _document_schema = "hc_inventory_sync/schemas/stock_balance.v1.json"
    _document_key = "item_code"

    @api.model
    def _import_message(self, message):
        # A page is staged as a whole: no record per balance to link or bind.
        documents, _many = self._documents(message)
        rows = self._stage_rows(message, documents)
        Reconciliation = self.env["hc.reconciliation"].sudo()
        reconciliation = Reconciliation.search(
            [("batch_run_id", "=", message.batch_run_id.id)], limit=1) if message.batch_run_id else None
        unknown = sum(1 for row in rows if not row["product_id"] or not row["location_id"])
        counts = {"created": len(rows) - unknown, "updated": 0, "unchanged": 0, "failed": unknown}
        if reconciliation:
            reconciliation._stage_page(rows)
        elif not message.batch_run_id and message.flow_id.hc_reconcile_messages:
            if Reconciliation.search_count([("message_id", "=", message.id)], limit=1):
                return {"counts": {**counts, "created": 0, "unchanged": len(rows) - unknown}}  # compared already
            flow = message.flow_id
            reconciliation = Reconciliation.create({
                "flow_id": flow.id, "message_id": message.id, "scope": "listed",
                "user_id": (flow.hc_steward_id or flow.backend_id.responsible_user_id).id or False,
            })
            reconciliation._stage_message(rows)
            message.write({"res_model": reconciliation._name, "res_id": reconciliation.id})
        self._check_thresholds(message, rows)
        return {"counts": counts}

    @api.model
    def _stage_rows(self, message, balances):
        """Balances as staging rows, products, locations and lots resolved in a few queries."""
        products = self.env["hc.item.reference"]._products(
            message.backend_id, [b["item_code"] for b in balances], active_test=False)
        locations = legacy_locations(self.env)
        lots = {}
        lot_names = {str(b["lot"]) for b in balances if b.get("lot")}
        if lot_names:
            for lot in self.env["stock.lot"].search_fetch(
                    [("name", "in", list(lot_names)), ("product_id", "in", [p.id for p in products.values()])],
                    ["name", "product_id"]):
                lots[(lot.product_id.id, lot.name)] = lot.id
        rows = []
        for balance in balances:
            product = products.get(str(balance["item_code"]))
            location_code = str(balance["location_code"])
            lot_name = str(balance["lot"]) if balance.get("lot") else False
            expiry = balance.get("expiry_date") or False
            rows.append({
                "item_code": str(balance["item_code"]),
                "location_code": location_code,
                "product_id": product.id if product else False,
                "location_id": locations.get(location_code) or False,
                "lot_name": lot_name or "",
                "lot_id": lots.get((product.id, lot_name)) if product and lot_name else False,
                "expiry_date": fields.Date.to_date(str(expiry)[:10]) if expiry else False,
                "qty": float(balance["qty"]),
            })
        return rows

    @api.model
    def _check_thresholds(self, message, rows):
        Product = self.env["product.product"]
        Location = self.env["stock.location"]
        totals = {}
        for row in rows:
            if row["product_id"] and row["location_id"]:
                key = (row["product_id"], row["location_id"])
                totals[key] = totals.get(key, 0.0) + row["qty"]
        critical = set(Product.browse({p for p, _loc in totals}).filtered("product_tmpl_id.hc_critical").ids)
        for (product_id, location_id), qty in totals.items():
            if product_id in critical:
                self.env["stock.warehouse.orderpoint"]._hc_check_breach(
                    Product.browse(product_id), Location.browse(location_id), message, legacy_qty=qty)
