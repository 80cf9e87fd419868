"""Errors domain addons raise from their handlers to decide a message's fate.

``PermanentError``: retrying cannot fix it, the message goes to the exception queue (with a
category, optional counts, and ``keep``: what must stay recorded although the handler's effects
are rolled back). ``ReferenceWait``: the message names records still being received; it is
postponed without spending an attempt, its reason shown on the message while it waits.

``KeyAlreadyUsed`` is the base's own: a post through the inbound API repeats an idempotency key (the
API answers 200 with the message holding it, or 409 when the body differs).
"""

from odoo.exceptions import UserError

from odoo.addons.queue_job.exception import RetryableJobError

from .lifecycle.errors import PermanentError

__all__ = ["KeyAlreadyUsed", "PermanentError", "ReferenceWait"]


class ReferenceWait(RetryableJobError):
    """The message names records still being received: postponed (no attempt spent), with the
    reason shown on the message while it waits."""

    def __init__(self, msg):
        super().__init__(msg, seconds=10, ignore_retry=True)


class KeyAlreadyUsed(UserError):
    """An inbound post repeats an idempotency key: nothing is stored. ``original`` is the message
    holding the key; ``same_body`` whether the post's body is the one it was stored with."""

    def __init__(self, message, original, same_body):
        super().__init__(message)
        self.original = original
        self.same_body = same_body
