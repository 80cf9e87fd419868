{
    "name": "Healthcare Budget Sync",
    "summary": "Approved budgets per cost centre from the legacy finance system; purchases held to them",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "author": "HC Integration Suite",
    "website": "https://example.com/hc-integration",
    "license": "LGPL-3",
    "depends": ["hc_integration_base", "hc_workforce_sync", "hc_procurement_sync", "account_budget_oca"],
    "data": [
        "security/hc_budget_security.xml",
        "security/ir.model.access.csv",
        "data/hc_allowed_model_data.xml",
        "data/hc_budget_data.xml",
        "views/crossovered_budget_views.xml",
        "views/purchase_order_views.xml",
        "views/hc_flow_views.xml",
        "views/menus.xml",
        "data/hc_workflow_data.xml",
    ],
    "demo": [
        "demo/hc_budget_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "hc_budget_sync/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
