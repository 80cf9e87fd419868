"""Transports against the real simulators on 127.0.0.1 (no Odoo, no mocks of HTTP)."""

import os
import socket
import ssl
import subprocess
import threading
import time

import pytest
import requests

from hc_integration_base.payload.xmlsafe import XmlSecurityError, XmlSyntaxError, parse_xml
from hc_integration_base.transports.auth import build_auth
from hc_integration_base.transports.breaker import CircuitBreaker
from hc_integration_base.transports.errors import TransportError, classify_exception, http_error
from hc_integration_base.transports.paging import PageContract, iter_pages
from hc_integration_base.transports.rest import RestClient, entity_tag_value
from hc_integration_base.transports.soap import SoapClient

API_KEY = {"type": "api_key", "key": "sim-api-key"}


def rest(sims, auth=API_KEY, **kwargs):
    kwargs.setdefault("connect_timeout", 2)
    kwargs.setdefault("read_timeout", 2)
    return RestClient(sims.rest_url, auth=build_auth(auth), **kwargs)


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- authentication ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "auth",
    [
        {"type": "basic", "username": "odoo", "password": "odoo-secret"},
        {"type": "api_key", "key": "sim-api-key"},
        {"type": "api_key", "key": "sim-api-key", "name": "api_key", "location": "query"},
        {"type": "bearer", "token": "sim-static-token"},
    ],
    ids=["basic", "api-key-header", "api-key-query", "bearer"],
)
def test_rest_auth_types(sims, auth):
    assert rest(sims, auth).request("GET", "/api/v1/health").body == {"status": "ok"}


def test_oauth2_token_cached_and_refreshed_once_after_401(sims):
    auth = {"type": "oauth2_client_credentials", "token_url": sims.rest_url + "/oauth/token",
            "client_id": "odoo-client", "client_secret": "oauth-secret"}
    client = rest(sims, auth)
    build_auth(auth).refresh()  # start from an empty token cache
    for _ in range(5):
        client.request("GET", "/api/v1/health")
    assert sims.state.token_requests == 1
    requests.post(sims.rest_url + "/_admin/revoke-tokens", timeout=5)
    assert client.request("GET", "/api/v1/health").status == 200
    assert sims.state.token_requests == 2
    bad = rest(sims, {**auth, "client_id": "someone-else"})
    with pytest.raises(TransportError) as caught:
        bad.request("GET", "/api/v1/health")
    assert caught.value.category == "authentication" and not caught.value.transient
    assert "oauth-secret" not in str(caught.value)


# --- failure classes -----------------------------------------------------------------------------
def expect(call, category, transient, text):
    with pytest.raises(TransportError) as caught:
        call()
    error = caught.value
    assert (error.category, error.transient) == (category, transient), repr(error)
    assert text in error.user_message
    return error


def test_refused_timeout_and_http_classes(sims):
    refused = RestClient(f"http://127.0.0.1:{closed_port()}", connect_timeout=1, read_timeout=1)
    expect(lambda: refused.request("GET", "/x"), "connection", True, "Connection refused")
    client = rest(sims, read_timeout=0.5)
    sims.set_faults("rest", timeout_rate=1.0, hang_seconds=2)
    expect(lambda: client.request("GET", "/api/v1/items"), "timeout", True, "No answer within 0.5 s")
    sims.reset()
    expect(lambda: rest(sims, {"type": "api_key", "key": "x"}).request("GET", "/api/v1/items"),
           "authentication", False, "HTTP 401")
    expect(lambda: client.request("GET", "/api/v1/forbidden"), "authentication", False, "HTTP 403")
    expect(lambda: client.request("GET", "/api/v1/nothing-here"), "http_4xx", False, "HTTP 404")
    sims.set_faults("rest", error_rate=1.0, status_code=500)
    expect(lambda: client.request("GET", "/api/v1/items"), "http_5xx", True, "HTTP 500")
    sims.set_faults("rest", status_code=429, retry_after=120)
    error = expect(lambda: client.request("GET", "/api/v1/items"), "rate_limited", True, "HTTP 429")
    assert error.retry_after == 120
    sims.reset()
    sims.set_faults("rest", malformed_rate=1.0)
    expect(lambda: client.request("GET", "/api/v1/items"), "invalid_response", False, "not valid JSON")


def test_retry_after_honoured_once(sims):
    sims.set_faults("rest", error_rate=1.0, status_code=429, retry_after=1)
    client = rest(sims)
    threading.Timer(0.5, sims.reset).start()  # the remote recovers while the client waits
    started = time.monotonic()
    assert client.request("GET", "/api/v1/health").status == 200
    assert time.monotonic() - started >= 0.9


def test_dns_failure_is_classified():
    error = classify_exception(
        requests.exceptions.ConnectionError(socket.gaierror(socket.EAI_NONAME, "Name or service not known")),
        url="http://lab.hospital.invalid/api",
    )
    assert error.category == "dns" and "Could not resolve host 'lab.hospital.invalid'" in error.user_message


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """A TLS listener on 127.0.0.1 with a self-signed certificate the client does not trust."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(2)
    listener.close()


def test_tls_failure(tls_server):
    client = RestClient(tls_server, connect_timeout=2, read_timeout=2)
    expect(lambda: client.request("GET", "/"), "tls", False, "TLS handshake")


# --- correlation and pagination -------------------------------------------------------------------
def test_correlation_id_sent_and_echoed(sims):
    response = rest(sims).request("GET", "/api/v1/health", correlation_id="corr-7")
    assert response.headers["X-Correlation-ID"] == "corr-7"
    # Not requests[-1]: an earlier test's hung request (timeout fault) may still be logged late.
    logged = [r["correlation_id"] for r in sims.state.requests if r["path"] == "/api/v1/health"]
    assert logged == ["corr-7"]
    generated = rest(sims).request("GET", "/api/v1/health")
    assert len(generated.correlation_id) == 32


@pytest.mark.parametrize("style", ["page", "offset", "cursor", "link"])
def test_pagination_walks_every_page_and_resumes(sims, style):
    client = rest(sims)
    contract = PageContract(style=style, page_size=5)  # the defaults name the simulator's parameters
    pages = list(iter_pages(client, "/api/v1/suppliers", contract))
    codes = [item["code"] for page in pages for item in page.records]
    assert len(codes) == 12 and len(set(codes)) == 12
    assert len(pages) == 3 and pages[-1].is_last  # the simulator says which page is the last
    resumed = list(iter_pages(client, "/api/v1/suppliers", contract, pages[0].next))
    assert [i["code"] for p in resumed for i in p.records] == codes[5:]


# --- circuit breaker ----------------------------------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_breaker_opens_fails_fast_probes_and_recovers(sims):
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=3, cooldown=30, clock=clock)
    client = rest(sims, breaker=breaker, connect_timeout=1)
    sims.take_down("rest")
    try:
        for _ in range(3):
            expect(lambda: client.request("GET", "/api/v1/health"), "connection", True, "refused")
        assert breaker.state == "open"
        before = sims.state.request_count
        expect(lambda: client.request("GET", "/api/v1/health"), "circuit_open", True, "Circuit open")
        assert sims.state.request_count == before
        clock.now += 31
        expect(lambda: client.request("GET", "/api/v1/health"), "connection", True, "refused")  # the probe
        assert breaker.state == "open"
    finally:
        sims.bring_up("rest")
    expect(lambda: client.request("GET", "/api/v1/health"), "circuit_open", True, "Circuit open")
    clock.now += 31
    assert client.request("GET", "/api/v1/health").status == 200
    assert breaker.state == "closed" and breaker.failure_count == 0


def test_permanent_errors_do_not_open_the_breaker(sims):
    breaker = CircuitBreaker(threshold=2, cooldown=30)
    client = rest(sims, breaker=breaker)
    for _ in range(4):
        with pytest.raises(TransportError):
            client.request("GET", "/api/v1/nothing-here")
    assert breaker.state == "closed"


# --- SOAP ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "auth",
    [
        {"type": "wsse_username", "username": "odoo", "password": "odoo-secret"},
        {"type": "wsse_username", "username": "odoo", "password": "odoo-secret", "digest": True},
        {"type": "basic", "username": "odoo", "password": "odoo-secret"},
    ],
    ids=["wsse-text", "wsse-digest", "http-basic"],
)
def test_soap_auth_and_call(sims, auth):
    client = SoapClient(sims.wsdl_url, auth=build_auth(auth), connect_timeout=2, read_timeout=2)
    assert "SubmitPurchaseOrder" in client.operations()
    result = client.call("Ping", correlation_id="soap-corr")
    assert result.body == "pong"
    assert sims.state.requests[-1]["correlation_id"] == "soap-corr"


def test_soap_faults_classified(sims):
    anonymous = SoapClient(sims.wsdl_url, connect_timeout=2, read_timeout=2)
    expect(lambda: anonymous.call("Ping"), "soap_fault", False, "Authentication")
    client = SoapClient(sims.wsdl_url, auth=build_auth({"type": "wsse_username", "username": "odoo",
                                                        "password": "odoo-secret"}))
    error = expect(lambda: client.call("SubmitPurchaseOrder", order={"vendor_code": "SUP-0001"}),
                   "soap_fault", False, "Client.Validation")
    assert error.fault_code.endswith("Client.Validation")
    sims.set_faults("soap", soap_fault_rate=1.0)
    expect(lambda: client.call("Ping"), "soap_fault", True, "Server")
    sims.reset()
    sims.set_faults("soap", malformed_rate=1.0)
    expect(lambda: client.call("Ping"), "invalid_response", False, "not well-formed")
    sims.reset()
    expect(lambda: client.call("NoSuchOperation"), "configuration", False, "no operation")


@pytest.mark.parametrize("name", ["xxe.wsdl", "billion-laughs.wsdl"])
def test_hostile_wsdl_refused(sims, name):
    error = expect(lambda: SoapClient(f"{sims.soap_url}/hostile/{name}"), "security", False, "DTD or entities")
    assert "root:" not in str(error)


def test_not_a_wsdl(sims):
    expect(lambda: SoapClient(f"{sims.soap_url}/hostile/not-a-wsdl"), "invalid_response", False,
           "The WSDL could not be parsed")


# --- hardened XML ---------------------------------------------------------------------------------
def test_xxe_never_reads_the_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("MARKER-41c7")
    document = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><r>&x;</r>'
    with pytest.raises(XmlSecurityError):
        parse_xml(document)
    laughs = '<!DOCTYPE l [<!ENTITY a "aa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>'
    with pytest.raises(XmlSecurityError):
        parse_xml(laughs.encode())
    with pytest.raises(XmlSyntaxError):
        parse_xml("<a><b></a>")
    assert parse_xml("<a><b>1</b></a>").findtext("b") == "1"
    assert os.path.exists(secret)


def test_rate_limit_spaces_requests(sims):
    client = rest(sims, rate_limit=5)  # 5 requests per second, bursts of 5
    started = time.monotonic()
    for _ in range(10):
        client.request("GET", "/api/v1/health")
    assert time.monotonic() - started >= 0.9, "the second five waited for tokens"


def test_a_tripped_breaker_waits_out_the_remaining_cooldown():
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=3, cooldown=30, clock=clock)
    breaker.trip(time.time() - 20, "refused elsewhere")  # another process opened it 20 s ago
    assert breaker.state == "open" and breaker.last_error == "refused elsewhere"
    with pytest.raises(TransportError) as raised:
        breaker.before_call()
    assert raised.value.category == "circuit_open" and 9 <= raised.value.retry_after <= 10
    clock.now += 11
    breaker.before_call()  # the probe goes through
    assert breaker.state == "half_open"
    breaker.trip(time.time(), "again")  # only a closed breaker is tripped
    assert breaker.state == "half_open"


def test_soap_service_address_on_another_host_gets_no_call(sims):
    """A WSDL naming a service on another host: the call (with its credentials) is refused."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: PLC0415

    wsdl = requests.get(sims.wsdl_url, timeout=5).text
    hits = []

    class Elsewhere(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            hits.append(dict(self.headers))
            self.send_response(500)
            self.end_headers()

        do_GET = do_POST  # noqa: N815

        def log_message(self, *args):
            pass

    other = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    other_url = f"http://127.0.0.1:{other.server_address[1]}"
    location = sims.wsdl_url.split("?")[0]
    rewritten = wsdl.replace(f'location="{location}"', f'location="{other_url}/procurement"')
    assert rewritten != wsdl

    class Served(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            body = rewritten.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    served = ThreadingHTTPServer(("127.0.0.1", 0), Served)
    threading.Thread(target=served.serve_forever, daemon=True).start()
    try:
        client = SoapClient(f"http://127.0.0.1:{served.server_address[1]}/procurement?wsdl",
                            auth=build_auth({"type": "basic", "username": "odoo", "password": "odoo-secret"}),
                            connect_timeout=2, read_timeout=2)
        error = expect(lambda: client.call("Ping"), "security", False, "outside the backend's origin")
        assert other_url in str(error)
        assert hits == []
        # The same WSDL served from its own host is called as before.
        assert SoapClient(sims.wsdl_url, connect_timeout=2, read_timeout=2,
                          auth=build_auth({"type": "basic", "username": "odoo", "password": "odoo-secret"})
                          ).call("Ping").body == "pong"
    finally:
        for server in (other, served):
            server.shutdown()
            server.server_close()


def test_entity_tag_value_and_the_precondition_errors():
    assert [entity_tag_value(v) for v in ('W/"4"', '"abc"', "7", " w/\"x y\" ", "", None)] == \
        ["4", "abc", "7", "x y", None, None]
    conflict = http_error(412, "http://127.0.0.1/fhir/SupplyRequest/sr-1", '{"diagnostics": "stale"}',
                          conditions={"If-Match": 'W/"1"'})
    assert not conflict.transient and conflict.status_code == 412
    assert "Version conflict (HTTP 412" in conflict.user_message and 'If-Match: W/"1"' in conflict.user_message
    assert "stale" in conflict.user_message
    required = http_error(428, "http://127.0.0.1/fhir/SupplyRequest/sr-1")
    assert not required.transient and "If-Match" in required.user_message
