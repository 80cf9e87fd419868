from . import test_sync_status
from . import test_ownership
