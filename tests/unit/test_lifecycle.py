"""The message lifecycle on its own: state sets, transitions, failure classification, lock names.

No database: ``classify`` is a pure function, and Odoo's exceptions are the real classes (the
module recognises them by name, without importing Odoo).
"""

import ast
import re
from pathlib import Path

import pytest

from odoo.exceptions import AccessDenied, AccessError, MissingError, UserError, ValidationError

from hc_integration_base import lifecycle
from hc_integration_base.lifecycle import (
    BLOCKING,
    DONE,
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
    STATES,
    TERMINAL,
    TRANSITIONS,
    Decision,
    PermanentError,
    can_transition,
    classify,
    lock_key,
)
from hc_integration_base.transports.errors import TransportError, http_error

ADDON = Path(__file__).resolve().parents[2] / "addons" / "hc_integration_base"
ALL = {state for state, _label in STATES}


def test_sets_partition_the_states():
    assert set(PENDING) | set(TERMINAL) | set(NEEDS_PERSON) == ALL
    assert not set(PENDING) & set(TERMINAL)
    assert set(TERMINAL) == {DONE, IGNORED, DUPLICATE}
    assert set(PENDING) == {NEW, QUEUED, PROCESSING, FAILED_RETRYING} == set(BLOCKING)
    assert set(OPEN) == ALL - set(TERMINAL)
    assert set(ENDED) == ALL - set(PENDING)
    assert set(SET_ASIDE) == {EXCEPTION, IGNORED, DUPLICATE}
    assert set(PROCESSED) == {DONE, EXCEPTION}
    assert set(RETRYABLE) == {EXCEPTION, FAILED_RETRYING}
    assert set(REPLAYABLE) == {EXCEPTION}
    assert set(PURGEABLE) == {DONE, DUPLICATE}


def test_sets_are_tuples_in_selection_order():
    order = [state for state, _label in STATES]
    for name in ("TERMINAL", "PENDING", "BLOCKING", "NEEDS_PERSON", "OPEN", "ENDED", "PROCESSED", "SET_ASIDE",
                 "RETRYABLE", "REPLAYABLE", "PURGEABLE"):
        states = getattr(lifecycle, name)
        assert isinstance(states, tuple), name  # usable as is in a domain and for SQL ``IN %s``
        assert list(states) == sorted(states, key=order.index), name


def test_terminal_states_have_no_way_out_and_every_other_has_one():
    assert {state for state, targets in TRANSITIONS.items() if not targets} == set(TERMINAL)
    assert set(TRANSITIONS) == ALL
    for targets in TRANSITIONS.values():
        assert targets <= ALL


@pytest.mark.parametrize(("old", "new", "allowed"), [
    (NEW, QUEUED, True), (QUEUED, PROCESSING, True), (PROCESSING, DONE, True),
    (PROCESSING, FAILED_RETRYING, True), (FAILED_RETRYING, PROCESSING, True), (EXCEPTION, QUEUED, True),
    (EXCEPTION, IGNORED, True), (DONE, DONE, True),
    (DONE, QUEUED, False), (IGNORED, QUEUED, False), (DUPLICATE, QUEUED, False), (NEW, DONE, False),
    (EXCEPTION, DONE, False), (QUEUED, DONE, False),
])
def test_transitions(old, new, allowed):
    assert can_transition(old, new) is allowed


def test_an_unknown_state_in_a_set_is_refused():
    with pytest.raises(ValueError, match="unknown message states"):
        lifecycle.states._ordered({DONE, "finished"})


# --- failure classification ---------------------------------------------------------------------
def decide(error, attempt=1, max_attempts=3):
    decision = classify(error, attempt, max_attempts)
    assert isinstance(decision, Decision)
    return decision


def test_transient_transport_failure_retries_while_attempts_remain():
    error = http_error(503, "http://127.0.0.1/x", retry_after=7)
    first = decide(error, attempt=1)
    assert (first.state, first.category, first.retry, first.spends_attempt) == (
        FAILED_RETRYING, "transport", True, True)
    assert first.retry_after == 7
    assert "HTTP 503" in first.reason
    assert decide(error, attempt=2).retry
    last = decide(error, attempt=3)
    assert (last.state, last.category, last.retry) == (EXCEPTION, "transport", False)
    assert last.reason.startswith("Gave up after 3 attempts: The remote system failed (HTTP 503)")


def test_open_circuit_waits_without_spending_an_attempt_even_after_the_last_one():
    error = TransportError("Circuit open for backend x", category="circuit_open", retry_after=12)
    for attempt in (1, 3, 9):
        decision = decide(error, attempt=attempt)
        assert (decision.state, decision.category, decision.retry, decision.spends_attempt) == (
            FAILED_RETRYING, "transport", True, False)
        assert decision.retry_after == 12
        assert decision.reason == "Circuit open for backend x"


def test_permanent_transport_failures():
    denied = decide(http_error(403, "http://127.0.0.1/x"))
    assert (denied.state, denied.category, denied.retry) == (EXCEPTION, "authentication", False)
    assert "403" in denied.reason and "Gave up" not in denied.reason
    refused = decide(http_error(404, "http://127.0.0.1/x"))
    assert (refused.state, refused.category) == (EXCEPTION, "transport")
    fault = decide(TransportError("SOAP fault: order unknown", category="soap_fault", transient=False))
    assert (fault.state, fault.category, fault.reason) == (EXCEPTION, "remote", "SOAP fault: order unknown")


def test_transient_authentication_failure_keeps_its_category():
    error = TransportError("token endpoint down", category="authentication", transient=True)
    assert (decide(error).state, decide(error).category) == (FAILED_RETRYING, "authentication")
    assert decide(error, attempt=3).category == "authentication"


def test_permanent_error_keeps_its_category():
    decision = decide(PermanentError("no partner SUP-9", category="mapping"), attempt=1)
    assert (decision.state, decision.category, decision.reason, decision.retry) == (
        EXCEPTION, "mapping", "no partner SUP-9", False)
    assert decide(PermanentError("bad")).category == "validation"


def test_odoo_errors():
    security = decide(AccessError("You are not allowed to modify Contact"))
    assert (security.state, security.category) == (EXCEPTION, "security")
    assert security.reason == "The integration user may not do this: You are not allowed to modify Contact"
    for error in (UserError("Quantity must be positive"), ValidationError("Quantity must be positive"),
                  MissingError("Quantity must be positive"), AccessDenied("Quantity must be positive")):
        decision = decide(error)
        assert (decision.state, decision.category, decision.reason, decision.unexpected) == (
            EXCEPTION, "validation", "Quantity must be positive", False), type(error)


def test_anything_else_is_an_internal_error_worth_a_traceback():
    decision = decide(KeyError("lines"), attempt=1)
    assert (decision.state, decision.category, decision.retry, decision.unexpected) == (
        EXCEPTION, "internal", False, True)
    assert decision.reason == "KeyError('lines')"


def test_a_class_merely_named_like_odoos_is_not_taken_for_it():
    class AccessError(Exception):  # noqa: N818 - a local class with Odoo's name, another module
        pass

    assert decide(AccessError("x")).category == "internal"


def test_sentences_go_through_the_given_translator():
    calls = []

    def translate(text, *args, **kwargs):
        calls.append(text)
        return "[fr] " + (text % (args or kwargs))

    decision = classify(AccessError("non"), 1, 3, translate=translate)
    assert decision.reason == "[fr] The integration user may not do this: non"
    gave_up = classify(http_error(503, "http://127.0.0.1/x"), 3, 3, translate=translate)
    assert gave_up.reason.startswith("[fr] Gave up after 3 attempts")
    assert calls == ["The integration user may not do this: %s", "Gave up after %(n)s attempts: %(err)s"]


# --- named locks --------------------------------------------------------------------------------
def test_lock_keys_are_stable_signed_64_bit_and_distinct():
    names = [f"hc.backend.slot:{b}:{s}" for b in range(50) for s in range(8)]
    names += [f"hc.message.order:{b}:item:ITM-{i}" for b in range(5) for i in range(200)]
    keys = [lock_key(name) for name in names]
    assert len(set(keys)) == len(keys)
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert lock_key("hc.backend.slot:1:0") == lock_key("hc.backend.slot:1:0")
    # Fixed for good: two releases running side by side must take the same lock for one name.
    assert lock_key("hc.backend.slot:1:0") == -741281758639075916
    with pytest.raises(ValueError):
        lock_key("")


def test_try_xact_lock_asks_postgres_for_the_hashed_key():
    class Cursor:
        def execute(self, query, params):
            self.query, self.params = query, params

        def fetchone(self):
            return (False,)

    cursor = Cursor()
    assert lifecycle.try_xact_lock(cursor, "hc.message.order:1::P8") is False
    assert cursor.query == "SELECT pg_try_advisory_xact_lock(%s)"
    assert cursor.params == (lock_key("hc.message.order:1::P8"),)


# --- the rules this package exists for ----------------------------------------------------------
def test_lifecycle_imports_no_odoo():
    for path in (ADDON / "lifecycle").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(name == "odoo" or name.startswith("odoo.") for name in names), path


STATE_WORDS = {f'"{state}"' for state in ALL} | {f"'{state}'" for state in ALL}


def spelled_out_state_sets(path):
    """Tuples, lists, sets and SQL strings naming two or more message states, outside lifecycle."""
    found = []
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            states = [e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in ALL]
            if len(states) >= 2:
                found.append((node.lineno, states))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if sum(word in node.value for word in STATE_WORDS) >= 2:
                found.append((node.lineno, node.value[:60]))
    return found


def test_no_state_set_is_spelled_out_outside_lifecycle():
    """The acceptance of the lifecycle: every Python file of the three addons (tests aside) uses the
    sets from here. Other selections share words (a batch run is ``done`` too, a picking ``done`` or
    ``cancel``), so only collections naming two or more message states count; one state compared
    alone is not a set."""
    offenders = {}
    for path in (ADDON.parent).glob("hc_*/**/*.py"):
        if "lifecycle" in path.parts or "tests" in path.parts:
            continue
        found = spelled_out_state_sets(path)
        if found:
            offenders[str(path.relative_to(ADDON.parent))] = found
    assert not offenders, offenders


def test_every_advisory_lock_goes_through_the_named_lock_helper():
    """No bare lock number, no advisory lock function outside ``lifecycle/locks.py``."""
    call = re.compile(r"pg_\w*advisory\w*\s*\(")
    offenders = []
    for path in (ADDON.parent).glob("hc_*/**/*.py"):
        text = path.read_text()
        if path != ADDON / "lifecycle" / "locks.py" and "tests" not in path.parts and call.search(text):
            offenders.append(str(path))
        if re.search(r"\b741[12]\b", text):
            offenders.append(f"{path}: lock number")
    assert not offenders, offenders
