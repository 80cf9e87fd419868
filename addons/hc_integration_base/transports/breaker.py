"""A circuit breaker per backend: fail fast while a system is down, probe it once in a while."""

import threading
import time


class CircuitBreaker:
    """closed → (threshold consecutive transient failures) → open → (cooldown) → half-open.

    While open, calls fail at once with a *circuit open* error. After the cooldown one probe
    call is let through (others still fail fast): its success closes the circuit, its failure
    opens it again. Permanent errors (a 404, a SOAP client fault) say nothing about the
    system's health and leave the count alone.
    """

    def __init__(self, threshold=5, cooldown=30.0, clock=time.monotonic):
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self.state = "closed"
        self.failure_count = 0
        self.opened_at = None
        self.opened_at_wall = None
        self.last_error = None
        self._probing = False

    def before_call(self):
        from .errors import TransportError  # noqa: PLC0415

        with self._lock:
            if self.state == "closed":
                return
            elapsed = self._clock() - self.opened_at
            if self.state == "open" and elapsed >= self.cooldown:
                self.state = "half_open"
            if self.state == "half_open" and not self._probing:
                self._probing = True
                return
            wait = max(self.cooldown - elapsed, 0)
            raise TransportError(
                f"Circuit open after {self.failure_count} consecutive failures; next attempt "
                f"allowed in {wait:.0f} s. Last error: {self.last_error}",
                category="circuit_open",
                retry_after=max(wait, 1),
            )

    def record_success(self):
        with self._lock:
            self.state = "closed"
            self.failure_count = 0
            self.opened_at = self.opened_at_wall = None
            self._probing = False

    def record_failure(self, error):
        with self._lock:
            self._probing = False
            if not getattr(error, "transient", True) or getattr(error, "category", "") == "circuit_open":
                if self.state == "half_open":
                    self.state = "closed"  # the system answered, even if it said no
                    self.failure_count = 0
                return
            self.failure_count += 1
            self.last_error = str(error)[:500]
            if self.state == "half_open" or self.failure_count >= self.threshold:
                self.state = "open"
                self.opened_at = self._clock()
                self.opened_at_wall = time.time()

    def trip(self, opened_at_wall, reason=None):
        """Open a closed circuit because another process saw the system fail (its state is shared
        through the database): this process waits out the rest of that cool-down, then probes."""
        with self._lock:
            if self.state != "closed":
                return
            elapsed = max(time.time() - opened_at_wall, 0.0)
            self.state = "open"
            self.opened_at = self._clock() - elapsed
            self.opened_at_wall = opened_at_wall
            self.failure_count = max(self.failure_count, self.threshold)
            self.last_error = reason or self.last_error

    def snapshot(self):
        with self._lock:
            return {
                "state": self.state,
                "failure_count": self.failure_count,
                "last_error": self.last_error,
                "opened_at_wall": self.opened_at_wall,
            }
