from . import hc_handler_consumption
from . import maintenance_request
from . import stock_move
