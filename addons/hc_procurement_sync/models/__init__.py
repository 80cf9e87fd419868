from . import product_template, purchase_order, res_partner, stock_picking
