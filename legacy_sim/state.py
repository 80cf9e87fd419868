"""Shared in-memory state of both simulators (thread-safe)."""

import collections
import json
import random
import threading
from dataclasses import dataclass, field, fields


@dataclass
class Faults:
    """Fault settings of one simulator (REST or SOAP); all off by default."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    status_code: int = 503
    retry_after: float = 1.0
    timeout_rate: float = 0.0
    hang_seconds: float = 5.0
    timeout_after_store_rate: float = 0.0
    malformed_rate: float = 0.0
    soap_fault_rate: float = 0.0
    down: bool = False
    fault_seed: int = 1

    def update(self, **settings):
        known = {f.name: f.type for f in fields(self)}
        for key, value in settings.items():
            if key not in known:
                raise ValueError(f"unknown fault setting {key!r}")
            if key == "down":
                value = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            elif key in ("status_code", "fault_seed"):
                value = int(value)
            else:
                value = float(value)
            setattr(self, key, value)


@dataclass
class State:
    seed: int = 42
    items: int = 500
    suppliers: int = 40
    balances: int = 0
    demands: int = 20
    token_ttl: int = 3600
    faults: dict = field(default_factory=lambda: {"rest": Faults(), "soap": Faults()})
    orders: list = field(default_factory=list)  # every stored order, REST and SOAP
    orders_by_key: dict = field(default_factory=dict)  # idempotency key -> (body hash, answer)
    outcomes: list = field(default_factory=list)
    outcomes_by_key: dict = field(default_factory=dict)
    tokens: set = field(default_factory=set)
    token_requests: int = 0
    item_overrides: dict = field(default_factory=dict)
    planted_receipts: list = field(default_factory=list)
    planted_demands: list = field(default_factory=list)
    planted_consumptions: list = field(default_factory=list)
    # When set, the stock balances served instead of the generated ones (tests plant discrepancies).
    planted_balances: list | None = None
    requests: collections.deque = field(default_factory=lambda: collections.deque(maxlen=2000))
    request_count: int = 0

    def __post_init__(self):
        self.lock = threading.RLock()
        self._random = {"rest": random.Random(1), "soap": random.Random(1)}
        if not self.balances:
            self.balances = self.items

    def set_faults(self, target, **settings):
        with self.lock:
            self.faults[target].update(**settings)
            self._random[target] = random.Random(self.faults[target].fault_seed)

    def roll(self, target, rate):
        """True with probability ``rate``, reproducibly for a given fault_seed."""
        if rate <= 0:
            return False
        with self.lock:
            return self._random[target].random() < rate

    def reset(self):
        with self.lock:
            self.faults = {"rest": Faults(), "soap": Faults()}
            self._random = {"rest": random.Random(1), "soap": random.Random(1)}
            self.orders.clear()
            self.orders_by_key.clear()
            self.outcomes.clear()
            self.outcomes_by_key.clear()
            self.tokens.clear()
            self.token_requests = 0
            self.item_overrides.clear()
            self.planted_receipts.clear()
            self.planted_demands.clear()
            self.planted_consumptions.clear()
            self.planted_balances = None
            self.requests.clear()
            self.request_count = 0

    def log(self, method, path, correlation_id, auth_kind):
        with self.lock:
            self.request_count += 1
            self.requests.append(
                {"method": method, "path": path, "correlation_id": correlation_id, "auth": auth_kind}
            )

    def submit_order(self, order, key, correlation_id, known_vendors, before_answer=None):
        """Store an order idempotently; return (http status, answer).

        The same key with the same body answers the same; with another body: 409.
        """
        body_hash = json.dumps(order, sort_keys=True, default=str)
        with self.lock:
            if key and key in self.orders_by_key:
                stored_hash, answer = self.orders_by_key[key]
                if stored_hash != body_hash:
                    return 409, {"status": "conflict", "reason": "idempotency key reused with another body"}
                return 200, answer
            reason = None
            if order.get("vendor_code") not in known_vendors:
                reason = f"unknown vendor {order.get('vendor_code')}"
            elif any(float(line.get("quantity") or 0) <= 0 for line in order.get("lines") or []):
                reason = "every line needs a positive quantity"
            number = f"LPO-{len(self.orders) + 1:06d}"
            if reason:
                answer = {"status": "rejected", "reason": reason, "remote_order_number": None,
                          "idempotency_key": key}
                status = 422
            else:
                answer = {"status": "accepted", "remote_order_number": number, "reason": None,
                          "idempotency_key": key}
                status = 201
            self.orders.append({**order, "remote_order_number": answer["remote_order_number"],
                                "status": answer["status"], "idempotency_key": key,
                                "correlation_id": correlation_id})
            if key:
                self.orders_by_key[key] = (body_hash, answer)
        if before_answer:
            before_answer()
        return status, answer

    def find_order(self, number):
        with self.lock:
            return next((o for o in self.orders if o.get("remote_order_number") == number), None)
