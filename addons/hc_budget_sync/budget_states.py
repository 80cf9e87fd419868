"""What the budget check said of a purchase order (``purchase.order.hc_budget_state``) and its
named sets, spelled here once as the base spells message and batch-run states in its ``lifecycle``
package: the models import these names, views and filters read the order's flag
(``hc_budget_over``: a view cannot import a set). Plain Python, no ``odoo`` import.
"""

WITHIN, WARNED, HELD, APPROVED = "within", "warned", "held", "approved"
# The selection of ``purchase.order.hc_budget_state``, in display order (empty: no budget funds the order).
STATES = [
    (WITHIN, "Within budget"),
    (WARNED, "Over budget (warned)"),
    (HELD, "Held for budget approval"),
    (APPROVED, "Over budget (approved)"),
]
# The state a confirmation over budget leads to, by the strictest policy overrun (block refuses it).
BY_POLICY = {"warn": WARNED, "hold": HELD}

# The order goes past a budget's remaining amount: confirmed with a warning, held, or approved so.
OVER = (WARNED, HELD, APPROVED)

if set(OVER) | {WITHIN} != {state for state, _label in STATES}:
    raise AssertionError("every budget check state is within or over budget")
