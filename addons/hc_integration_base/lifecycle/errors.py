"""Errors a handler raises to decide a message's fate (plain Python: the classifier knows them).

Addons import them from ``odoo.addons.hc_integration_base.exceptions``.
"""


class PermanentError(Exception):
    """A failure that retrying cannot fix: the message goes to the exception queue."""

    def __init__(self, message, category="validation", counts=None, keep=None):
        super().__init__(message)
        self.category = category
        self.counts = counts or {}
        # Run after the handler's effects are rolled back: what must stay recorded all the same
        # (e.g. a remote rejection written on the business record).
        self.keep = keep
