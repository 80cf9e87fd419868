{
    "name": "Healthcare Integration Base: test models",
    "summary": "What the base's tests and benchmarks need (a synced record, a bare route); never for production",
    "version": "19.0.1.0.0",
    "category": "Hidden/Tests",
    "author": "HC Integration Suite",
    "website": "https://example.com/hc-integration",
    "license": "LGPL-3",
    "depends": ["hc_integration_base"],
    "data": [
        "security/ir.model.access.csv",
        "data/hc_allowed_model_data.xml",
    ],
    "installable": True,
}
