"""Errors domain addons raise from their handlers to decide a message's fate.

``PermanentError``: retrying cannot fix it, the message goes to the exception queue (with a
category, optional counts, and ``keep``: what must stay recorded although the handler's effects
are rolled back). ``ReferenceWait``: the message names records still being received; it is
postponed without spending an attempt, its reason shown on the message while it waits.

``IdempotencyConflict`` is the base's own: an inbound post repeats an idempotency key with another
body (the inbound API answers 409).
"""

from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError

from .lifecycle.errors import PermanentError

__all__ = ["IdempotencyConflict", "PermanentError", "ReferenceWait"]


class ReferenceWait(RetryableJobError):
    """The message names records still being received: postponed (no attempt spent), with the
    reason shown on the message while it waits."""

    def __init__(self, msg):
        super().__init__(msg, seconds=10, ignore_retry=True)


class IdempotencyConflict(UserError):
    """An idempotency key already used with another body: nothing is stored; ``original`` is the
    message holding the key."""

    def __init__(self, message, original):
        super().__init__(message)
        self.original = original
