"""Errors domain addons raise from their handlers to decide a message's fate.

``PermanentError``: retrying cannot fix it, the message goes to the exception queue (with a
category, optional counts, and ``keep``: what must stay recorded although the handler's effects
are rolled back). ``ReferenceWait``: the message names records still being received; it is
postponed without spending an attempt, its reason shown on the message while it waits.
"""

from odoo.addons.queue_job.exception import RetryableJobError

from .lifecycle.errors import PermanentError

__all__ = ["PermanentError", "ReferenceWait"]


class ReferenceWait(RetryableJobError):
    """The message names records still being received: postponed (no attempt spent), with the
    reason shown on the message while it waits."""

    def __init__(self, msg):
        super().__init__(msg, seconds=10, ignore_retry=True)
