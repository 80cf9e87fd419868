{
    "name": "Healthcare Maintenance Sync",
    "summary": "Equipment master and maintenance events from a legacy CMMS, routed to teams; status pushed back",
    "version": "19.0.1.0.0",
    "category": "Manufacturing/Maintenance",
    "author": "HC Integration Suite",
    "website": "https://example.com/hc-integration",
    "license": "LGPL-3",
    # hc_workforce_sync: the cost centres (analytic accounts of its plan) equipment is booked on.
    # hr_maintenance (auto-installed with hr and maintenance) adds employee and department to equipment.
    "depends": ["hc_integration_base", "maintenance", "hr_maintenance", "hc_workforce_sync"],
    "data": [
        "security/ir.model.access.csv",
        "security/hc_maintenance_security.xml",
        "data/hc_maintenance_data.xml",
        "data/hc_allowed_model_data.xml",
        "security/hc_job_rights_data.xml",
        "views/hc_maintenance_route_views.xml",
        "views/maintenance_views.xml",
        "views/hc_flow_views.xml",
        "data/hc_workflow_data.xml",
    ],
    "demo": [
        "demo/hc_maintenance_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "hc_maintenance_sync/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
