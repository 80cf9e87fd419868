from . import test_sync_status
