"""Scale-out: the same workload drained by one Odoo node, then by two behind one job runner.

    python tests/reliability/scale_out.py [--contacts 1600] [--records 100] [--versions 4] [--workers 2]

How a hospital group outgrows one machine: several Odoo nodes on one PostgreSQL database and
exactly one queue_job runner, which sends each job to the nodes through a load balancer. Here a
small round-robin TCP balancer stands in front of the nodes; node 1 runs the runner
(ODOO_QUEUE_JOB_PORT points it at the balancer), node 2 only serves. Each run starts from the
same database copy holding the same 2,000 queued messages: ``--contacts`` new contacts plus
``--versions`` successive versions of ``--records`` contacts (per-record ordering: the last
version must win). Printed: messages per second with one node and with two, their ratio,
duplicates (contacts per external ID), and records whose final state is not their last version.
"""

import argparse
import socket
import threading
import time

from _harness import (
    OdooServer,
    copy_database,
    dbname,
    drop_database,
    free_port,
    fresh_database,
    in_odoo,
    scalar,
    table,
    wait_until_drained,
)


class Balancer(threading.Thread):
    """Round-robin TCP forwarding to the nodes (what nginx or HAProxy does in production)."""

    def __init__(self, ports):
        super().__init__(daemon=True)
        self.ports, self.next = ports, 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.counts = dict.fromkeys(ports, 0)

    def run(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            port = self.ports[self.next % len(self.ports)]
            self.next += 1
            self.counts[port] += 1
            threading.Thread(target=self._pipe_pair, args=(client, port), daemon=True).start()

    def _pipe_pair(self, client, port):
        try:
            upstream = socket.create_connection(("127.0.0.1", port))
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()
        self._pipe(client, upstream)

    @staticmethod
    def _pipe(source, target):
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def drain_with(db, nodes, workers, capacity):
    ports = [free_port() for _ in range(nodes)]
    balancer = Balancer(ports)
    balancer.start()
    env = {"ODOO_QUEUE_JOB_PORT": str(balancer.port), "ODOO_QUEUE_JOB_CHANNELS": f"root:{capacity},root.hc:{capacity}"}
    servers = [OdooServer(db, workers=workers, port=port, runner=(i == 0), logname=f"scale-{nodes}-{i}.log")
               for i, port in enumerate(ports)]
    try:
        for server in reversed(servers):  # the serving node first, then the one with the runner
            server.log.unlink(missing_ok=True)
            server.start(env_extra=env)
        started = time.monotonic()
        drained = wait_until_drained(db, timeout=1200, settle=0.5)
        elapsed = time.monotonic() - started
    finally:
        for server in servers:
            server.stop()
        balancer.close()
    return elapsed, drained, balancer.counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1600)
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--versions", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="workers per node")
    parser.add_argument("--capacity", type=int, default=4, help="jobs the runner runs at once (both runs)")
    args = parser.parse_args(argv)
    total = args.contacts + args.records * args.versions
    template = fresh_database("hc_scale_template")
    first = in_odoo(template, "scale_enqueue", contacts=args.contacts, records=args.records,
                    versions=args.versions)["first"]
    rows, ok, speeds = [], True, {}
    for nodes in (1, 2):
        db = copy_database(template, dbname(f"hc_scale_{nodes}"))  # the same queued workload for both runs
        elapsed, drained, counts = drain_with(db, nodes, args.workers, args.capacity)
        done = scalar(db, "SELECT count(*) FROM hc_message WHERE state = 'done' AND id >= %s", (first,))
        duplicates = scalar(db, """SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM hc_binding
                                   WHERE res_model = 'res.partner' AND (external_id LIKE 'SC-%%'
                                   OR external_id LIKE 'SV-%%') GROUP BY external_id) counts""")
        contacts = scalar(db, "SELECT count(*) FROM res_partner WHERE name LIKE 'Scale contact %%' "
                              "OR name LIKE 'Versioned %%'")
        out_of_order = scalar(db, """SELECT count(*) FROM hc_binding b JOIN res_partner p ON p.id = b.res_id
                                     WHERE b.res_model = 'res.partner' AND b.external_id LIKE 'SV-%%'
                                     AND p.name NOT LIKE %s""", (f"% v{args.versions}",))
        speed = done / elapsed if elapsed else 0
        speeds[nodes] = speed
        good = drained and done == total and not duplicates and not out_of_order \
            and contacts == args.contacts + args.records
        ok &= good
        rows.append([nodes, nodes * args.workers, f"{done}/{total}", f"{elapsed:.1f}", f"{speed:.0f}",
                     " / ".join(str(v) for v in counts.values()), duplicates, out_of_order,
                     "ok" if good else "FAILED"])
        if good:
            drop_database(db)
    drop_database(template)
    table(["nodes", "workers", "messages done", "seconds", "messages/s", "jobs per node (balancer)",
           "duplicates", "records not at their last version", "verdict"], rows)
    print(f"\ntwo nodes / one node: {speeds[2] / speeds[1]:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
