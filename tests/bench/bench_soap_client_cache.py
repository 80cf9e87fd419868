"""Cost of a SOAP call with the cached client (WSDL parsed once) vs a client built per call.

    python tests/bench/bench_soap_client_cache.py [--calls 200]
"""

import argparse
import time

from _common import plain_imports, table

plain_imports()

from hc_integration_base.transports.auth import build_auth  # noqa: E402
from hc_integration_base.transports.soap import SoapClient  # noqa: E402
from legacy_sim import start_simulators  # noqa: E402

AUTH = {"type": "wsse_username", "username": "odoo", "password": "odoo-secret", "digest": True}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    sims = start_simulators()
    try:
        cached = SoapClient(sims.wsdl_url, auth=build_auth(AUTH))
        cached.call("Ping")  # warm-up
        started = time.perf_counter()
        for _ in range(args.calls):
            cached.call("Ping")
        cached_ms = (time.perf_counter() - started) * 1000 / args.calls

        started = time.perf_counter()
        for _ in range(args.calls):
            SoapClient(sims.wsdl_url, auth=build_auth(AUTH)).call("Ping")
        fresh_ms = (time.perf_counter() - started) * 1000 / args.calls
    finally:
        sims.stop()
    table(
        ["client", "calls", "ms/call"],
        [["cached (WSDL parsed once)", args.calls, f"{cached_ms:.2f}"],
         ["built per call", args.calls, f"{fresh_ms:.2f}"]],
    )
    print(f"\nratio per-call / cached: {fresh_ms / cached_ms:.1f}x")


if __name__ == "__main__":
    main()
