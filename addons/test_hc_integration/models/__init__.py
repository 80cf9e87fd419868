from . import test_hc_synced_record
from . import hc_flow
from . import hc_handler_test_record
