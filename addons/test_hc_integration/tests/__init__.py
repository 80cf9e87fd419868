from . import test_bare_route
from . import test_sync_mixin
