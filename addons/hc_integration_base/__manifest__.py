{
    "name": "Healthcare Integration Base",
    "summary": "Backends, transports, credentials and sync framework for legacy "
    "healthcare systems (REST, SOAP, HL7 v2 over MLLP)",
    "version": "19.0.1.0.0",
    "category": "Technical/Integrations",
    "author": "HC Integration Suite",
    "website": "https://example.com/hc-integration",
    "license": "LGPL-3",
    "depends": ["mail", "product", "queue_job", "base_automation"],
    "external_dependencies": {"python": ["requests", "zeep", "lxml", "hl7"]},
    "data": [
        "security/hc_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "data/hc_allowed_model_data.xml",
        "data/queue_job_data.xml",
        "views/hc_backend_views.xml",
        "views/hc_batch_run_views.xml",
        "views/hc_mapping_views.xml",
        "views/hc_flow_views.xml",
        "wizards/hc_message_wizard_views.xml",
        "views/hc_message_views.xml",
        "views/menus.xml",
        "views/hc_dashboard_views.xml",
        "views/hc_allowed_model_views.xml",
    ],
    "demo": [
        "demo/hc_backend_demo.xml",
        "demo/hc_flow_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "hc_integration_base/static/src/js/*.js",
        ],
        "web.assets_tests": [
            "hc_integration_base/static/tests/tours/*.js",
        ],
    },
    "application": True,
    "installable": True,
}
