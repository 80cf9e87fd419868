from . import hc_flow
from . import hc_handler_cost_centre
from . import hc_handler_department
from . import hc_handler_employee
from . import account_analytic_account
from . import hr_department
from . import hr_employee
