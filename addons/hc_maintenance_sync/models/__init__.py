from . import hc_flow
from . import hc_maintenance_route
from . import hc_handler_equipment
from . import hc_handler_maintenance_event
from . import hc_handler_maintenance_status
from . import maintenance
