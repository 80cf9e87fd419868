from . import test_workforce_pull
from . import test_employee_events
