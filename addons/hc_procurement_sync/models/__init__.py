from . import res_partner
from . import product_template
from . import purchase_order
from . import stock_picking
