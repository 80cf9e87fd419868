from . import test_maintenance_sync
