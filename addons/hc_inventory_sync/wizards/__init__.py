from . import hc_reconciliation_dismiss
