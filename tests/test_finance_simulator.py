"""The finance simulator (legacy_sim/finance.py): its dialect, paging, overrides and fault settings."""

import requests

from legacy_sim.finance import start_finance_simulator

KEY = {"X-API-Key": "sim-api-key"}


def _get(sim, **params):
    return requests.get(f"{sim.url}/fin/api/v2/approved-budgets", params=params, headers=KEY, timeout=5)


def test_pages_of_approved_budget_lines_in_its_own_dialect():
    sim = start_finance_simulator(years=(2025, 2026))
    try:
        first = _get(sim, pageNumber=1, pageSize=8).json()
        assert first["paging"] == {"pageNumber": 1, "pageSize": 8, "totalCount": 22, "nextPageNumber": 2}
        row = first["result"]["budgetLines"][0]
        assert row["lineId"] == "BL-2025-CLIN-4110" and row["budget"]["control"] == "APPR"
        assert (row["validFrom"], row["validTo"], row["costCentre"]) == ("01.01.2025", "31.12.2025", "CC-4110")
        last = _get(sim, pageNumber=3, pageSize=8).json()
        assert len(last["result"]["budgetLines"]) == 6 and last["paging"]["nextPageNumber"] is None
        assert _get(sim, pageNumber=1, pageSize=8).json() == first, "a second read answers the same"
        only = _get(sim, fiscalYear=2026, pageSize=50).json()
        assert only["paging"]["totalCount"] == 11
        assert {r["fiscalYear"] for r in only["result"]["budgetLines"]} == {2026}
        requests.post(f"{sim.url}/_admin/budget-lines/BL-2026-ADM-4000", json={"approvedAmount": "12.50"}, timeout=5)
        rows = _get(sim, fiscalYear=2026, pageSize=50).json()["result"]["budgetLines"]
        assert [r["approvedAmount"] for r in rows if r["lineId"] == "BL-2026-ADM-4000"] == ["12.50"]
        assert requests.get(f"{sim.url}/fin/api/v2/approved-budgets", timeout=5).status_code == 401
    finally:
        sim.stop()


def test_fault_settings():
    sim = start_finance_simulator()
    try:
        requests.post(f"{sim.url}/_admin/faults", json={"error_rate": 1, "status_code": 503}, timeout=5)
        answer = _get(sim)
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
        requests.post(f"{sim.url}/_admin/faults", json={"error_rate": 0, "malformed_rate": 1}, timeout=5)
        assert _get(sim).text.startswith('{"result"') and not _get(sim).text.endswith("}")
        assert requests.post(f"{sim.url}/_admin/faults", json={"nonsense": 1}, timeout=5).status_code == 400
        requests.post(f"{sim.url}/_admin/reset", timeout=5)
        assert _get(sim).status_code == 200
    finally:
        sim.stop()
