from . import test_budget_pull
from . import test_budget_amounts
from . import test_budget_policy
from . import test_tour_budget_hold
