from . import test_sync_mixin
