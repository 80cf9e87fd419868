from . import test_maintenance_sync
from . import test_tour_routing
from . import test_fhir_devices
