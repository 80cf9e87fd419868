from . import hc_flow
from . import hc_handler_budget
from . import crossovered_budget
from . import crossovered_budget_lines
from . import purchase_order
from . import purchase_order_line
from . import account_move
