"""The message lifecycle in plain Python (no ORM): states, transitions, the state sets every
other file uses, failure classification and named locks; and the states of a batch run
(``lifecycle.runs``, imported as a module: its names are a run's, not a message's).

Spelled out here once, as queue_job spells its job states once in ``job.py``: a set typed again
elsewhere (a tuple in a domain, a list inside SQL) drifts from this one. Models, controllers and
SQL import these names; SQL receives them as parameters.
"""

from .states import (
    BLOCKING,
    DONE,
    DROPPED,
    DUPLICATE,
    ENDED,
    EXCEPTION,
    FAILED_RETRYING,
    IGNORED,
    NEEDS_PERSON,
    NEW,
    OPEN,
    PENDING,
    PROCESSED,
    PROCESSING,
    PURGEABLE,
    QUEUED,
    REPLAYABLE,
    RETRYABLE,
    SET_ASIDE,
    STATE_LABELS,
    STATES,
    STATUSBAR,
    TERMINAL,
    TRANSITIONS,
    can_transition,
)
from .errors import PermanentError
from .failures import CATEGORIES, Decision, classify
from .locks import lock_key, try_claim, try_xact_lock
from . import runs
