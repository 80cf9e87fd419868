{
    "name": "Healthcare Procurement Sync",
    "summary": "Suppliers, item catalog, demand signals, purchase orders, receipts and "
    "bill outcomes exchanged with legacy procurement systems",
    "version": "19.0.1.0.0",
    "category": "Supply Chain/Purchase",
    "author": "HC Integration Suite",
    "website": "https://example.com/hc-integration",
    "license": "LGPL-3",
    "depends": ["hc_integration_base", "purchase_stock"],
    "data": [
        "data/hc_allowed_model_data.xml",
        "data/hc_job_rights_data.xml",
        "views/sync_status_views.xml",
        "data/hc_workflow_data.xml",
    ],
    "demo": [
        "demo/hc_procurement_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "hc_procurement_sync/static/src/views/*.xml",
        ],
        "web.assets_tests": [
            "hc_procurement_sync/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
