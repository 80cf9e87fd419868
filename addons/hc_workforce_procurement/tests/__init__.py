from . import test_department_cost_centre
