"""python -m legacy_sim --rest-port 8091 --soap-port 8092 [--hr-port 8093] [--cmms-port 8094]
[--finance-port 8095] [--fhir-port 8096] [--items N] [--rest-faults k=v,...] [--finance-faults k=v,...]"""

import argparse
import signal
import threading

from . import start_simulators
from .cmms import start_cmms
from .fhir import start_fhir_server
from .finance import start_finance_simulator
from .hr import start_hr_simulator

HR_PORT = 8093
CMMS_PORT = 8094
FINANCE_PORT = 8095
FHIR_PORT = 8096


def _faults(text):
    return dict(item.split("=", 1) for item in text.split(",") if item) if text else {}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m legacy_sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--rest-port", type=int, default=8091)
    parser.add_argument("--soap-port", type=int, default=8092)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--suppliers", type=int, default=40)
    parser.add_argument("--balances", type=int, default=0, help="stock balances (default: one per item)")
    parser.add_argument("--demands", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rest-faults", default="", help="e.g. latency_ms=200,error_rate=0.2")
    parser.add_argument("--soap-faults", default="")
    parser.add_argument("--hr-port", type=int, default=None,
                        help=f"HR and payroll system (default {HR_PORT}; skipped when that port is taken); -1: none")
    parser.add_argument("--employees", type=int, default=200)
    parser.add_argument("--cmms-port", type=int, default=None,
                        help=f"maintenance system, CMMS (default {CMMS_PORT}; skipped when taken); -1: none")
    parser.add_argument("--assets", type=int, default=30)
    parser.add_argument("--work-orders", type=int, default=6)
    parser.add_argument("--cmms-faults", default="", help="e.g. timeout_after_store_rate=0.5,hang_seconds=3")
    parser.add_argument("--finance-port", type=int, default=None,
                        help=f"finance system, approved budgets (default {FINANCE_PORT}; skipped when that port is "
                        "taken); -1: none")
    parser.add_argument("--finance-faults", default="")
    parser.add_argument("--fhir-port", type=int, default=None,
                        help=f"FHIR R4 server, supply requests, deliveries and devices (default {FHIR_PORT}; skipped "
                        "when that port is taken); -1: none")
    args = parser.parse_args(argv)
    sims = start_simulators(
        args.host, args.rest_port, args.soap_port, items=args.items, suppliers=args.suppliers,
        balances=args.balances, demands=args.demands, seed=args.seed,
    )
    sims.set_faults("rest", **_faults(args.rest_faults))
    sims.set_faults("soap", **_faults(args.soap_faults))
    print(f"REST simulator: {sims.rest_url}", flush=True)
    print(f"SOAP simulator: {sims.wsdl_url}", flush=True)
    hr = _start_hr(args)
    cmms = _start_cmms(args)
    finance = _start_finance(args)
    fhir = _start_fhir(args)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    if hr:
        hr.stop()
    if cmms:
        cmms.stop()
    if finance:
        finance.stop()
    if fhir:
        fhir.stop()
    sims.stop()


def _start_hr(args):
    """The HR system beside the others; its default port being taken (another launch of the
    simulators) leaves the REST and SOAP ones running as before."""
    if args.hr_port is not None and args.hr_port < 0:
        return None
    try:
        hr = start_hr_simulator(args.host, HR_PORT if args.hr_port is None else args.hr_port,
                                employees=args.employees, seed=args.seed)
    except OSError as exc:
        if args.hr_port is not None:
            raise
        print(f"HR simulator not started: port {HR_PORT}: {exc}", flush=True)
        return None
    print(f"HR simulator: {hr.url}", flush=True)
    return hr


def _start_cmms(args):
    """The CMMS beside the others, as the HR system: its default port taken skips it."""
    if args.cmms_port is not None and args.cmms_port < 0:
        return None
    try:
        cmms = start_cmms(args.host, CMMS_PORT if args.cmms_port is None else args.cmms_port,
                          assets=args.assets, work_orders=args.work_orders)
    except OSError as exc:
        if args.cmms_port is not None:
            raise
        print(f"CMMS simulator not started: port {CMMS_PORT}: {exc}", flush=True)
        return None
    cmms.set_faults(**_faults(args.cmms_faults))
    print(f"CMMS simulator: {cmms.url}", flush=True)
    return cmms
def _start_finance(args):
    """The finance system beside the others, as the HR one: its default port being taken leaves the
    others running."""
    if args.finance_port is not None and args.finance_port < 0:
        return None
    try:
        finance = start_finance_simulator(
            args.host, FINANCE_PORT if args.finance_port is None else args.finance_port, seed=args.seed)
    except OSError as exc:
        if args.finance_port is not None:
            raise
        print(f"Finance simulator not started: port {FINANCE_PORT}: {exc}", flush=True)
        return None
    finance.set_faults(**_faults(args.finance_faults))
    print(f"Finance simulator: {finance.url}", flush=True)
    return finance


def _start_fhir(args):
    """The FHIR server beside the others, as the HR one: its default port taken skips it."""
    if args.fhir_port is not None and args.fhir_port < 0:
        return None
    try:
        fhir = start_fhir_server(args.host, FHIR_PORT if args.fhir_port is None else args.fhir_port, seed=args.seed,
                                 supply_requests=12, supply_deliveries=6, devices=9, items=5)
    except OSError as exc:
        if args.fhir_port is not None:
            raise
        print(f"FHIR server not started: port {FHIR_PORT}: {exc}", flush=True)
        return None
    print(f"FHIR server: {fhir.url}", flush=True)
    return fhir


if __name__ == "__main__":
    main()
