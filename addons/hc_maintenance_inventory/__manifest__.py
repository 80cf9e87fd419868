{
    "name": "Healthcare Maintenance Sync - Spare Parts",
    "summary": "Spare parts the CMMS reports used on a work order become stock moves of its request",
    "version": "19.0.1.0.0",
    "category": "Manufacturing/Maintenance",
    "author": "HC Integration Suite",
    "website": "https://example.com/hc-integration",
    "license": "LGPL-3",
    # The consumption handler of hc_inventory_sync makes the stock moves (and starts the urgent
    # replenishment of a critical part below its threshold); this bridge links them to the request.
    "depends": ["hc_maintenance_sync", "hc_inventory_sync"],
    "data": [
        "views/maintenance_views.xml",
    ],
    "demo": [
        "demo/hc_maintenance_inventory_demo.xml",
    ],
    "auto_install": True,
    "installable": True,
}
