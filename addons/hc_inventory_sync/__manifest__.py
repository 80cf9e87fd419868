{
    "name": "Healthcare Inventory Sync",
    "summary": "Stock balances, reconciliation, consumption and urgent replenishment "
    "with legacy departmental systems",
    "version": "19.0.1.0.0",
    "category": "Supply Chain/Inventory",
    "author": "HC Integration Suite",
    "website": "https://example.com/hc-integration",
    "license": "LGPL-3",
    "depends": ["hc_integration_base", "hc_procurement_sync", "stock"],
    "data": [],
    "installable": True,
}
