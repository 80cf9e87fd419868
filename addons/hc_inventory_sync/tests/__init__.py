from . import test_consumption
from . import test_reconciliation
from . import test_replenishment
from . import test_inventory_security
from . import test_tour_reconciliation
from . import test_inbound_mapped
from . import test_reconciliation_watchdog
from . import test_hl7_stock
