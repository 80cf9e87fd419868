"""The legacy simulators answer REST and SOAP as documented, and their faults are real."""

import time

import pytest
import requests
import zeep
from zeep.wsse.username import UsernameToken

KEY = {"X-API-Key": "sim-api-key"}


def get(sims, path, **kwargs):
    kwargs.setdefault("headers", KEY)
    kwargs.setdefault("timeout", 5)
    return requests.get(sims.rest_url + path, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"headers": KEY},
        {"headers": {}, "params": {"api_key": "sim-api-key"}},
        {"headers": {}, "auth": ("odoo", "odoo-secret")},
        {"headers": {"Authorization": "Bearer sim-static-token"}},
    ],
    ids=["api-key-header", "api-key-query", "basic", "bearer"],
)
def test_each_auth_kind_accepted(sims, kwargs):
    assert get(sims, "/api/v1/health", **kwargs).status_code == 200


@pytest.mark.parametrize(
    "kwargs",
    [
        {"headers": {"X-API-Key": "nope"}},
        {"headers": {}, "auth": ("odoo", "wrong")},
        {"headers": {"Authorization": "Bearer nope"}},
        {"headers": {}},
    ],
)
def test_wrong_credentials_rejected(sims, kwargs):
    assert get(sims, "/api/v1/items", **kwargs).status_code == 401


def test_oauth2_tokens(sims):
    token_url = sims.rest_url + "/oauth/token"
    bad = requests.post(token_url, data={"grant_type": "client_credentials"}, auth=("odoo-client", "x"), timeout=5)
    assert bad.status_code == 401
    good = requests.post(
        token_url, data={"grant_type": "client_credentials"}, auth=("odoo-client", "oauth-secret"), timeout=5
    )
    token = good.json()["access_token"]
    assert get(sims, "/api/v1/health", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    requests.post(sims.rest_url + "/_admin/revoke-tokens", timeout=5)
    assert get(sims, "/api/v1/health", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert get(sims, "/api/v1/forbidden").status_code == 403


def test_paging_styles_cover_every_record_once(sims):
    by_page, page = [], 1
    while page:
        body = get(sims, "/api/v1/items", params={"page": page, "page_size": 40}).json()
        by_page += [i["code"] for i in body["items"]]
        page = body["next_page"]
    by_offset, offset = [], 0
    while True:
        body = get(sims, "/api/v1/items", params={"offset": offset, "limit": 70}).json()
        by_offset += [i["code"] for i in body["items"]]
        offset += 70
        if offset >= body["total"]:
            break
    by_cursor, cursor = [], None
    while True:
        params = {"limit": 33, **({"cursor": cursor} if cursor else {"paging": "cursor"})}
        body = get(sims, "/api/v1/items", params=params).json()
        by_cursor += [i["code"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    by_link, url = [], sims.rest_url + "/api/v1/items?page_size=60"
    while url:
        response = requests.get(url, headers=KEY, timeout=5)
        by_link += [i["code"] for i in response.json()["items"]]
        url = response.links.get("next", {}).get("url")
    for codes in (by_page, by_offset, by_cursor, by_link):
        assert len(codes) == 250 and len(set(codes)) == 250
    assert by_page == by_offset == by_cursor == by_link


def test_deterministic_and_cheap_at_any_size():
    from legacy_sim import start_simulators

    one = start_simulators(items=100_000, suppliers=500)
    two = start_simulators(items=100_000, suppliers=500)
    try:
        started = time.monotonic()
        first = get(one, "/api/v1/items", params={"page": 500, "page_size": 100}).json()
        elapsed = time.monotonic() - started
        second = get(two, "/api/v1/items", params={"page": 500, "page_size": 100}).json()
        assert first == second
        assert first["items"][0]["code"] == "ITM-049901"
        assert elapsed < 2, "a deep page must not materialise the data set"
    finally:
        one.stop()
        two.stop()


def test_xml_format(sims):
    response = get(sims, "/api/v1/suppliers", params={"format": "xml", "page_size": 3})
    assert response.headers["Content-Type"] == "application/xml"
    assert response.text.startswith("<page ") and response.text.count("<item>") == 3


def order(reference="PO-1", vendor="SUP-0001", qty=2):
    return {"reference": reference, "vendor_code": vendor,
            "lines": [{"line_ref": "1", "item_code": "ITM-000001", "quantity": qty, "unit_price": 4.5}]}


def post_order(sims, body, key, timeout=5):
    return requests.post(sims.rest_url + "/api/v1/purchase-orders", json=body,
                         headers={**KEY, "Idempotency-Key": key}, timeout=timeout)


def test_order_idempotency(sims):
    first = post_order(sims, order(), "k-1")
    assert first.status_code == 201 and first.json()["status"] == "accepted"
    again = post_order(sims, order(), "k-1")
    assert again.status_code == 200 and again.json() == first.json()
    assert post_order(sims, order(qty=3), "k-1").status_code == 409
    rejected = post_order(sims, order(vendor="SUP-9999"), "k-2")
    assert rejected.status_code == 422 and "unknown vendor" in rejected.json()["reason"]
    assert len(sims.state.orders) == 2


def test_timeout_after_store_then_retry_gets_original(sims):
    sims.set_faults("rest", timeout_after_store_rate=1.0, hang_seconds=2)
    with pytest.raises(requests.exceptions.ReadTimeout):
        post_order(sims, order("PO-T"), "k-t", timeout=(2, 0.5))
    assert len(sims.state.orders) == 1, "the remote side stored it before timing out"
    sims.set_faults("rest", timeout_after_store_rate=0.0)
    retry = post_order(sims, order("PO-T"), "k-t")
    assert retry.status_code == 200 and retry.json()["status"] == "accepted"
    assert len(sims.state.orders) == 1


def test_fault_settings_produce_faults(sims):
    sims.set_faults("rest", error_rate=1.0, status_code=503)
    assert get(sims, "/api/v1/items").status_code == 503
    sims.set_faults("rest", status_code=429, retry_after=7)
    limited = get(sims, "/api/v1/items")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    sims.reset()
    sims.set_faults("rest", malformed_rate=1.0)
    with pytest.raises(ValueError):
        get(sims, "/api/v1/items").json()
    sims.reset()
    sims.set_faults("rest", latency_ms=300)
    started = time.monotonic()
    assert get(sims, "/api/v1/items").status_code == 200
    assert time.monotonic() - started >= 0.3
    sims.reset()
    sims.set_faults("rest", timeout_rate=1.0, hang_seconds=2)
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(sims, "/api/v1/items", timeout=(2, 0.5))
    sims.reset()
    sims.set_faults("rest", down=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        get(sims, "/api/v1/items")
    sims.reset()


def test_take_down_refuses_connections(sims):
    sims.take_down("rest")
    try:
        with pytest.raises(requests.exceptions.ConnectionError):
            get(sims, "/health", headers={})
    finally:
        sims.bring_up("rest")
    assert get(sims, "/health", headers={}).status_code == 200


def test_admin_takes_the_soap_server_down_and_up(sims):
    admin = sims.rest_url + "/_admin/"
    assert requests.post(admin + "take-down", json={"target": "soap"}, timeout=5).status_code == 200
    try:
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(sims.wsdl_url, timeout=2)
    finally:
        assert requests.post(admin + "bring-up", json={"target": "soap"}, timeout=5).status_code == 200
    assert requests.get(sims.wsdl_url, timeout=5).status_code == 200
    assert requests.post(admin + "take-down", json={"target": "rest"}, timeout=5).status_code == 400


def test_admin_faults_endpoint(sims):
    response = requests.post(sims.rest_url + "/_admin/faults", json={"target": "rest", "error_rate": 1}, timeout=5)
    assert response.status_code == 200
    assert get(sims, "/api/v1/items").status_code == 503
    assert requests.post(sims.rest_url + "/_admin/faults", json={"bogus": 1}, timeout=5).status_code == 400


@pytest.mark.parametrize("digest", [False, True], ids=["password-text", "password-digest"])
def test_zeep_reads_wsdl_and_calls_with_wsse(sims, digest):
    client = zeep.Client(sims.wsdl_url, wsse=UsernameToken("odoo", "odoo-secret", use_digest=digest))
    assert client.service.Ping() == "pong"
    ack = client.service.SubmitPurchaseOrder(order={
        "reference": "PO-S", "vendor_code": "SUP-0002", "idempotency_key": f"s-{digest}",
        "lines": {"OrderLine": [{"item_code": "ITM-000002", "quantity": 1, "unit_price": 2}]},
    })
    assert ack.status == "accepted" and ack.remote_order_number.startswith("LPO-")
    again = client.service.SubmitPurchaseOrder(order={
        "reference": "PO-S", "vendor_code": "SUP-0002", "idempotency_key": f"s-{digest}",
        "lines": {"OrderLine": [{"item_code": "ITM-000002", "quantity": 1, "unit_price": 2}]},
    })
    assert again.remote_order_number == ack.remote_order_number
    assert len(sims.state.orders) == 1


def test_soap_faults(sims):
    anonymous = zeep.Client(sims.wsdl_url)
    with pytest.raises(zeep.exceptions.Fault) as caught:
        anonymous.service.Ping()
    assert "Authentication" in caught.value.code
    wrong = zeep.Client(sims.wsdl_url, wsse=UsernameToken("odoo", "bad"))
    with pytest.raises(zeep.exceptions.Fault):
        wrong.service.Ping()
    client = zeep.Client(sims.wsdl_url, wsse=UsernameToken("odoo", "odoo-secret"))
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.SubmitPurchaseOrder(order={"vendor_code": "SUP-0001"})
    assert "Client.Validation" in caught.value.code
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.GetOrderStatus("LPO-999999")
    assert "UnknownOrder" in caught.value.code
    sims.set_faults("soap", soap_fault_rate=1.0)
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.Ping()
    assert "Server" in caught.value.code


def test_hostile_documents_served(sims):
    xxe = requests.get(sims.soap_url + "/hostile/xxe.wsdl", timeout=5).text
    assert "<!DOCTYPE" in xxe and "file:///etc/passwd" in xxe
    laughs = requests.get(sims.soap_url + "/hostile/billion-laughs.wsdl", timeout=5).text
    assert "<!ENTITY lol4" in laughs
    assert "<html>" in requests.get(sims.soap_url + "/hostile/not-a-wsdl", timeout=5).text
