from . import inbound, monitoring
