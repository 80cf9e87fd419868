from . import hc_flow
from . import hc_handler_item
from . import hc_handler_purchase_order
from . import hc_handler_demand
from . import res_partner
from . import product_template
from . import purchase_order
from . import stock_picking
