"""Message states, the transitions between them and the named sets of states.

Each set is a tuple in the order of ``STATES``: usable as it is in a domain (``("state", "in",
PENDING)``), for ``IN %s`` in SQL, and as ``list(...)`` for ``= ANY(%s)``.
"""

NEW = "new"
QUEUED = "queued"
PROCESSING = "processing"
DONE = "done"
FAILED_RETRYING = "failed_retrying"
EXCEPTION = "exception"
IGNORED = "ignored"
DUPLICATE = "duplicate"

# The selection of ``hc.message.state``, in display order.
STATES = [
    (NEW, "New"),
    (QUEUED, "Queued"),
    (PROCESSING, "Processing"),
    (DONE, "Done"),
    (FAILED_RETRYING, "Failed, retrying"),
    (EXCEPTION, "Exception"),
    (IGNORED, "Ignored"),
    (DUPLICATE, "Duplicate"),
]
STATE_LABELS = dict(STATES)

# Allowed transitions of the state machine; anything else is refused.
TRANSITIONS = {
    NEW: frozenset({QUEUED, DUPLICATE, IGNORED, EXCEPTION}),
    QUEUED: frozenset({PROCESSING, FAILED_RETRYING, EXCEPTION, IGNORED}),
    PROCESSING: frozenset({DONE, FAILED_RETRYING, EXCEPTION, QUEUED}),
    FAILED_RETRYING: frozenset({PROCESSING, QUEUED, EXCEPTION, IGNORED}),
    EXCEPTION: frozenset({QUEUED, IGNORED}),
    DONE: frozenset(),
    IGNORED: frozenset(),
    DUPLICATE: frozenset(),
}


def _ordered(states):
    """``states`` as a tuple in the order of ``STATES`` (stable SQL parameters and domains)."""
    wanted = set(states)
    unknown = wanted - set(STATE_LABELS)
    if unknown:
        raise ValueError(f"unknown message states: {sorted(unknown)}")
    return tuple(state for state, _label in STATES if state in wanted)


def can_transition(old, new):
    """Whether a message in state ``old`` may be written to state ``new`` (staying is allowed)."""
    return old == new or new in TRANSITIONS[old]


# Nothing will happen to the message any more.
TERMINAL = _ordered(state for state, targets in TRANSITIONS.items() if not targets)
# A job will still process it: new, queued, running, or postponed after a transient failure.
PENDING = _ordered({NEW, QUEUED, PROCESSING, FAILED_RETRYING})
# An earlier message about the same record in one of these holds back later ones (the pending
# ones: a message in exception waits for a person and does not stop the record's next change).
BLOCKING = PENDING
# Nothing processes it until a person acts: the exception queue.
NEEDS_PERSON = _ordered({EXCEPTION})
# Not terminal: waiting for the job runner or for a person.
OPEN = _ordered(set(PENDING) | set(NEEDS_PERSON))
# Reached an end, for now or for good (figures count them by their end time).
ENDED = _ordered(set(TERMINAL) | set(NEEDS_PERSON))
# Ran to an end: applied or failed (error rates; ignored and duplicate ones never failed).
PROCESSED = _ordered({DONE, EXCEPTION})
# Ended without being applied.
SET_ASIDE = _ordered(set(ENDED) - {DONE})
# Ended for good without being applied (shown muted).
DROPPED = _ordered(set(TERMINAL) - {DONE})
# What an operator (or a resync) may queue again as it is.
RETRYABLE = _ordered({FAILED_RETRYING, EXCEPTION})
# Only a message that needs a person is replayed: a done one would be applied twice, an ignored
# or duplicate one was set aside on purpose, one still in flight would race its own replay.
REPLAYABLE = NEEDS_PERSON
# Deleted whole after the backend's message retention (what failed or was ignored stays).
PURGEABLE = _ordered({DONE, DUPLICATE})

# The happy path, shown in the message form's status bar (other states appear when reached).
STATUSBAR = (QUEUED, PROCESSING, DONE)

if set(PENDING) | set(TERMINAL) | set(NEEDS_PERSON) != set(STATE_LABELS) or set(PENDING) & set(TERMINAL):
    raise AssertionError("every state is exactly one of pending, terminal or needing a person")
