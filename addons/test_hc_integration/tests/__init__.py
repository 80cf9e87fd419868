from . import test_bare_route
from . import test_sync_mixin
from . import test_object_type_defaults
