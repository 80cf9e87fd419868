"""The nightly schedule starts every pull of a fresh demo database at once: catalog pages and
demand signals that name suppliers or items not applied yet must wait for them, not land in
the exception queue."""

import time

from _harness import drop_database, in_odoo, query, suite_round, wait_until_drained


def test_scheduled_pulls_started_together_end_without_exceptions():
    with suite_round("hc_scheduled_pulls", items=1000, workers=3, logname="scheduled-pulls.log") as (db, sims, server):
        started = in_odoo(db, "start_scheduled_pulls", rest_url=sims.rest_url, wsdl_url=sims.wsdl_url)
        assert started["runs"] >= 4, started  # suppliers, items, demand signals, stock balances
        server.start()
        began = time.monotonic()
        assert wait_until_drained(db, timeout=600)
        print(f"all scheduled pulls applied in {time.monotonic() - began:.1f} s")
        states = query(db, """
            SELECT f.code, m.state, count(*) FROM hc_message m JOIN hc_flow f ON f.id = m.flow_id
             GROUP BY 1, 2 ORDER BY 1, 2""")
        print(states)
        assert not [row for row in states if row[1] != "done"], states
        assert query(db, "SELECT count(*) FROM hc_batch_run WHERE state != 'done'")[0][0] == 0
        # A message shows why it waits while it does; none is left with that reason.
        noted = query(db, "SELECT count(*) FROM hc_message WHERE error_message IS NOT NULL OR wait_reason IS NOT NULL")
        assert noted[0][0] == 0
        assert query(db, "SELECT count(*) FROM product_template WHERE default_code LIKE 'ITM-%%'")[0][0] == 1000
        assert query(db, """SELECT count(*) FROM product_supplierinfo s JOIN product_template t
                             ON t.id = s.product_tmpl_id WHERE t.default_code LIKE 'ITM-%%'""")[0][0] == 1000
    drop_database(db)
