from . import test_hc_synced_record
