from . import hc_handler_demand
