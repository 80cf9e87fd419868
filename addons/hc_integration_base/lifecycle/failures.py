"""What a failed attempt means for its message: a pure decision, written by the caller.

``classify(error, attempt, max_attempts)`` answers whether the message waits for another attempt
(and whether this one counted) or goes to the exception queue, under which category and with
which sentence. ``hc.message._handle_failure`` writes the decision; nothing here touches a record.

Odoo's own exceptions are recognised by their qualified class names (this module imports no
``odoo``): an ``AccessError`` is a security failure (the integration user may not do this), any
other ``UserError`` (``ValidationError``, ``MissingError``, ...) a validation failure.
"""

from dataclasses import dataclass

from ..transports.errors import TransportError
from .errors import PermanentError
from .states import EXCEPTION, FAILED_RETRYING

# The selection of ``hc.message.error_category``.
CATEGORIES = [
    ("transport", "Transport"),
    ("authentication", "Authentication"),
    ("validation", "Validation"),
    ("mapping", "Mapping"),
    ("remote", "Remote business error"),
    ("conflict", "Conflict"),
    ("security", "Security"),
    ("internal", "Internal error"),
]

SECURITY_ERRORS = frozenset({"odoo.exceptions.AccessError"})
# Transport categories of a remote system's own refusal (its business answer, not the wire's failure).
REMOTE_REFUSALS = frozenset({"soap_fault", "hl7_error", "hl7_reject"})
VALIDATION_ERRORS = frozenset({"odoo.exceptions.UserError"})


@dataclass(frozen=True)
class Decision:
    """``state`` to write; ``retry``: postpone the job rather than end it; ``spends_attempt``:
    whether the postponement counts against the flow's attempts (queue_job's ``ignore_retry``
    when not); ``retry_after``: seconds the remote system asked for, if any; ``unexpected``: a
    programming error, worth a traceback in the log."""

    state: str
    category: str
    reason: str
    retry: bool = False
    spends_attempt: bool = True
    retry_after: float | None = None
    unexpected: bool = False


def _plain(text, *args, **kwargs):
    return text % (args or kwargs) if (args or kwargs) else text


def _is_a(error, qualified_names):
    return any(f"{cls.__module__}.{cls.__qualname__}" in qualified_names for cls in type(error).__mro__)


def _first_arg(error):
    return str(error.args[0]) if error.args else str(error)


def classify(error, attempt, max_attempts, translate=_plain):
    """The :class:`Decision` for ``error`` raised by attempt number ``attempt`` (from 1) of at
    most ``max_attempts``. ``translate(text, *args, **kwargs)`` renders the sentences this adds
    (Odoo's ``env._``; plain ``%`` formatting by default)."""
    if isinstance(error, TransportError):
        if error.category == "circuit_open":
            # The call never left: the breaker protects the remote system while it recovers.
            # The message waits for the next probe without spending one of its attempts.
            return Decision(FAILED_RETRYING, "transport", error.user_message, retry=True,
                            spends_attempt=False, retry_after=error.retry_after)
        category = "authentication" if error.category == "authentication" else "transport"
        if error.transient and attempt < max_attempts:
            return Decision(FAILED_RETRYING, category, error.user_message, retry=True,
                            retry_after=error.retry_after)
        if error.category in REMOTE_REFUSALS:
            category = "remote"
        reason = error.user_message
        if error.transient:
            reason = translate("Gave up after %(n)s attempts: %(err)s", n=attempt, err=reason)
        return Decision(EXCEPTION, category, reason)
    if isinstance(error, PermanentError):
        return Decision(EXCEPTION, error.category, str(error))
    if _is_a(error, SECURITY_ERRORS):
        # The backend's integration user may not do this: a person must widen its rights or not.
        return Decision(EXCEPTION, "security",
                        translate("The integration user may not do this: %s", _first_arg(error)))
    if _is_a(error, VALIDATION_ERRORS):
        return Decision(EXCEPTION, "validation", _first_arg(error))
    return Decision(EXCEPTION, "internal", repr(error), unexpected=True)
