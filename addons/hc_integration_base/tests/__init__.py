from . import test_backend_security
from . import test_backend_connection
from . import test_message
from . import test_batch_run
from . import test_mapping
from . import test_inbound
from . import test_inbound_fuzz
from . import test_tour_exception_queue
