from . import hc_backend
from . import hc_flow
from . import hc_binding
from . import hc_message
from . import hc_batch_run
from . import hc_handler_generic
from . import hc_sync_mixin
