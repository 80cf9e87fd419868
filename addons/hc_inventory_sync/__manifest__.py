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
    "data": [
        "security/ir.model.access.csv",
        "security/hc_inventory_security.xml",
        "data/hc_inventory_data.xml",
        "data/hc_allowed_model_data.xml",
        "data/hc_job_rights_data.xml",
        "views/hc_reconciliation_views.xml",
        "views/stock_views.xml",
        "wizards/hc_reconciliation_dismiss_views.xml",
        "data/hc_workflow_data.xml",
    ],
    "demo": [
        "demo/hc_inventory_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "hc_inventory_sync/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
