from . import inbound
from . import monitoring
