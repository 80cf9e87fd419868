{
    "name": "Healthcare Workforce Sync - Procurement",
    "summary": "Departmental demand booked on the department's cost centre from the HR system",
    "version": "19.0.1.0.0",
    "category": "Inventory/Purchase",
    "author": "HC Integration Suite",
    "website": "https://example.com/hc-integration",
    "license": "LGPL-3",
    "depends": ["hc_workforce_sync", "hc_procurement_sync"],
    "auto_install": True,
    "installable": True,
}
