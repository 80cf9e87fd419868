from . import test_sync_status
from . import test_ownership
from . import test_catalog_pull
from . import test_po_push
from . import test_demand
from . import test_bill_outcome
from . import test_receipts
from . import test_tour_resync
