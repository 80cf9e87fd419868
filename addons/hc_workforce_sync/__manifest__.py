{
    "name": "Healthcare Workforce Sync",
    "summary": "Cost centres, departments and employees from the legacy HR and payroll system",
    "version": "19.0.1.0.0",
    "category": "Human Resources/Employees",
    "author": "HC Integration Suite",
    "website": "https://example.com/hc-integration",
    "license": "LGPL-3",
    "depends": ["hc_integration_base", "hr", "account"],
    "data": [
        "data/hc_workforce_data.xml",
        "data/hc_allowed_model_data.xml",
        "data/hc_job_rights_data.xml",
        "views/hr_views.xml",
        "views/hc_flow_views.xml",
        "data/hc_workflow_data.xml",
    ],
    "demo": [
        "demo/hc_workforce_demo.xml",
    ],
    "installable": True,
}
