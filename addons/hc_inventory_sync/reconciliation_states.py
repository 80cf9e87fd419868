"""Reconciliation states and their named sets (``hc.reconciliation.state``), spelled here once
as the base spells message and batch-run states in its ``lifecycle`` package: the models and the
dashboard import these names, views read the reconciliation's flags (a view cannot import a set).
Plain Python, no ``odoo`` import.
"""

RUNNING, COMPARING, DONE, FAILED = "running", "comparing", "done", "failed"
# The selection of ``hc.reconciliation.state``, in display order.
STATES = [(RUNNING, "Fetching balances"), (COMPARING, "Comparing"), (DONE, "Done"), (FAILED, "Failed")]

# Still on its way to a result: fetching balances or comparing them (shows its progress).
IN_PROGRESS = (RUNNING, COMPARING)
# Every balance is staged: the comparison runs or ran.
FETCHED = (COMPARING, DONE)

if set(IN_PROGRESS) | {DONE, FAILED} != {state for state, _label in STATES}:
    raise AssertionError("every reconciliation state is in progress, done or failed")
