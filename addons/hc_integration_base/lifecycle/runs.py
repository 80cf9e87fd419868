"""Batch-run states and their named sets (``hc.batch.run.state``), spelled here once as the
message states are in ``states.py``: models, domains and views (through the run's flags, a view
cannot import a set) use these names.
"""

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"
# The selection of ``hc.batch.run.state``, in display order.
STATES = [(RUNNING, "Running"), (DONE, "Done"), (FAILED, "Failed"), (CANCELLED, "Cancelled")]

# Stopped before its last page (by a page, a person or the watchdog): resumable from the
# checkpoint while pages remain.
STOPPED = (FAILED, CANCELLED)
# Ended, for good or until resumed: no page job will follow.
ENDED = (DONE, *STOPPED)
# The happy path, shown in the run form's status bar (other states appear when reached).
STATUSBAR = (RUNNING, DONE)

if set(ENDED) | {RUNNING} != {state for state, _label in STATES}:
    raise AssertionError("every batch-run state is running or ended")
