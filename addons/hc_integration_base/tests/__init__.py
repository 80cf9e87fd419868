from . import test_backend_connection, test_backend_security, test_inbound, test_message, test_tour_exception_queue
