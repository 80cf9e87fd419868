"""Credentials the simulators accept (test data, not secrets)."""

BASIC_USER = "odoo"
BASIC_PASSWORD = "odoo-secret"
API_KEY = "sim-api-key"
STATIC_TOKEN = "sim-static-token"
OAUTH_CLIENT_ID = "odoo-client"
OAUTH_CLIENT_SECRET = "oauth-secret"
WSSE_USER = BASIC_USER
WSSE_PASSWORD = BASIC_PASSWORD
