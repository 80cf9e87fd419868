"""Page contracts against real HTTP (and SOAP) servers on 127.0.0.1, written for these tests.

Each server pages its own way (own parameter names, a page cap of its own, nested records,
totals, cursors, Link headers): a pull must read every record exactly once, and a contract that
does not fit must fail with a message naming the cause, never stop quietly after a page.
"""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from hc_integration_base.transports.errors import TransportError
from hc_integration_base.transports.paging import PageContract, PagingError, iter_pages
from hc_integration_base.transports.rest import RestClient
from hc_integration_base.transports.soap import SoapClient

RECORDS = [{"codigo": f"R-{i:03d}", "nombre": f"Registro {i}"} for i in range(60)]
CAP = 25


class Handler(BaseHTTPRequestHandler):
    """Answers GET /<dialect> with a page of RECORDS in that dialect's conventions."""

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - http.server's hook name
        parsed = urllib.parse.urlsplit(self.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        self.server.requests.append((parsed.path, query))
        total = int(query.get("n", len(RECORDS)))
        records = RECORDS[:total]
        headers = {}
        dialect = parsed.path.strip("/")
        if dialect == "pagina":  # own names, a cap, nested records, a nested total
            page, size = int(query.get("pagina", 1)), min(int(query.get("tamano", 10)), CAP)
            rows = records[(page - 1) * size:page * size]
            body = {"resultado": {"filas": rows}, "meta": {"totalFilas": total}}
        elif dialect == "bare":  # page/size known, a cap, no total, no next: the body is the list
            page, size = int(query.get("p", 1)), min(int(query.get("s", 10)), CAP)
            body = records[(page - 1) * size:page * size]
        elif dialect == "ignores-page":  # always the first page, whatever is asked
            body = {"items": records[:CAP]}
        elif dialect == "offset":
            start, size = int(query.get("desde", 0)), min(int(query.get("cuantos", 10)), CAP)
            body = {"datos": records[start:start + size], "cuenta": total}
        elif dialect == "cursor":
            start, size = int(query.get("tras") or 0), min(int(query.get("max", 10)), CAP)
            following = start + size if start + size < total else None
            body = {"filas": records[start:start + size], "paginacion": {"siguiente": following and str(following)}}
        elif dialect == "next-number":
            page = int(query.get("page", 1))
            rows = records[(page - 1) * CAP:page * CAP]
            body = {"items": rows, "links": {"next": page + 1 if page * CAP < total else None}}
        elif dialect == "link":
            page = int(query.get("pg", 1))
            rows = records[(page - 1) * CAP:page * CAP]
            if page * CAP < total:  # a relative link, as many servers send
                headers["Link"] = f'</link?pg={page + 1}&n={total}>; rel="next", </link?pg=1>; rel="first"'
            body = {"items": rows}
        elif dialect == "since":
            since = query.get("modificado_desde")
            rows = [r for r in records if not since or r["codigo"] >= since]
            page = int(query.get("page", 1))
            body = {"items": rows[(page - 1) * CAP:page * CAP]}
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def client(server):
    server.requests.clear()
    return RestClient(f"http://127.0.0.1:{server.server_address[1]}", connect_timeout=2, read_timeout=5)


def pull(client, resource, contract, checkpoint=None):
    pages = list(iter_pages(client, resource, contract, checkpoint))
    return pages, [r["codigo"] for page in pages for r in page.records]


ALL = [r["codigo"] for r in RECORDS]


def test_own_names_cap_nested_records_and_total(client, server):
    contract = PageContract(style="page", page_size=100, page_param="pagina", size_param="tamano",
                            records_path="resultado.filas", next_path="", total_path="meta.totalFilas")
    pages, codes = pull(client, "/pagina", contract)
    assert codes == ALL
    assert [len(p.records) for p in pages] == [25, 25, 10]
    assert [q for _, q in server.requests] == [{"pagina": str(n), "tamano": "100"} for n in (1, 2, 3)]
    assert (pages[0].total, pages[0].remaining_pages) == (60, 2)
    assert pages[-1].is_last


def test_capped_pages_without_total_go_on_until_an_empty_page(client, server):
    """Fewer records than asked is not the end: the server's cap (25) is not the size asked (100)."""
    contract = PageContract(page_size=100, page_param="p", size_param="s", records_path="")
    pages, codes = pull(client, "/bare", contract)
    assert codes == ALL
    assert [len(p.records) for p in pages] == [25, 25, 10, 0]


def test_more_records_than_asked_is_not_the_end_either(client):
    contract = PageContract(page_size=10, page_param="pagina", size_param="tamano", records_path="resultado.filas",
                            total_path="meta.totalFilas")
    assert pull(client, "/pagina", contract)[1] == ALL  # pages of 10: six of them, the total ends it


def test_size_parameter_may_be_omitted(client, server):
    contract = PageContract(page_size=100, page_param="pagina", size_param="", records_path="resultado.filas",
                            total_path="meta.totalFilas")
    pages, codes = pull(client, "/pagina", contract)  # the server's default size of 10
    assert codes == ALL and len(pages) == 6
    assert all("tamano" not in q for _, q in server.requests)


def test_offset_style_advances_by_records_received(client, server):
    contract = PageContract(style="offset", page_size=100, offset_param="desde", limit_param="cuantos",
                            records_path="datos", total_path="cuenta")
    pages, codes = pull(client, "/offset", contract)
    assert codes == ALL
    assert [q["desde"] for _, q in server.requests] == ["0", "25", "50"]


def test_cursor_style_with_nested_cursor(client, server):
    contract = PageContract(style="cursor", page_size=30, cursor_param="tras", limit_param="max",
                            records_path="filas", cursor_path="paginacion.siguiente")
    pages, codes = pull(client, "/cursor", contract)
    assert codes == ALL
    assert [q.get("tras") for _, q in server.requests] == [None, "25", "50"]


def test_next_page_number_in_the_body(client):
    contract = PageContract(page_size=100, next_path="links.next", total_path="")
    pages, codes = pull(client, "/next-number", contract)
    assert codes == ALL and len(pages) == 3  # next = null ends it: no empty page asked


def test_link_header_relative_links_followed(client, server):
    contract = PageContract(style="link", page_size=100, size_param="", next_path="")
    pages, codes = pull(client, "/link?n=60", contract)
    assert codes == ALL
    assert [q.get("pg") for _, q in server.requests] == [None, "2", "3"]
    assert pages[0].next["url"].startswith("http://127.0.0.1:")


def test_unpaged_list_is_one_request(client, server):
    contract = PageContract(style="none", records_path="")
    pages, codes = pull(client, "/bare", contract)
    assert len(pages) == 1 and codes == ALL[:10]
    assert server.requests[0][1] == {}


def test_changed_since_sent_with_every_page(client, server):
    contract = PageContract(page_size=25, params={"modificado_desde": "R-020"})
    pages, codes = pull(client, "/since", contract)
    assert codes == ALL[20:]
    assert all(q["modificado_desde"] == "R-020" for _, q in server.requests)


def test_resume_from_a_stored_checkpoint(client):
    contract = PageContract(page_size=100, page_param="pagina", size_param="tamano", records_path="resultado.filas",
                            total_path="meta.totalFilas")
    first = client.fetch_page("/pagina", contract)
    stored = json.loads(json.dumps(first.next))  # as the batch run keeps it
    assert pull(client, "/pagina", contract, stored)[1] == ALL[25:]
    # a bare page number (what runs stored before page contracts) resumes too
    assert pull(client, "/pagina", contract, 3)[1] == ALL[50:]


def test_server_ignoring_the_page_parameter_fails_naming_it(client):
    contract = PageContract(page_size=100, page_param="pagina", records_path="items")
    with pytest.raises(PagingError, match="ignores the parameter 'pagina'"):
        pull(client, "/ignores-page", contract)


def test_wrong_records_path_fails_naming_what_the_answer_holds(client):
    contract = PageContract(page_param="pagina", records_path="resultado.rows")
    with pytest.raises(PagingError, match=r"no records at path 'resultado.rows'"):
        client.fetch_page("/pagina", contract)
    with pytest.raises(PagingError, match="holds: meta, resultado"):
        client.fetch_page("/pagina", PageContract(records_path="data"))


def test_cursor_path_never_found_fails_instead_of_stopping(client):
    contract = PageContract(style="cursor", cursor_param="tras", limit_param="max", records_path="filas",
                            cursor_path="next_cursor")
    with pytest.raises(PagingError, match="no next cursor at path 'next_cursor'"):
        client.fetch_page("/cursor", contract)


@pytest.mark.parametrize("kwargs, message", [
    ({"style": "pages"}, "Unknown paging style"),
    ({"style": "page", "page_param": ""}, "name of the page number parameter"),
    ({"style": "offset", "offset_param": " "}, "name of the offset parameter"),
    ({"style": "cursor", "cursor_path": ""}, "path of the next cursor"),
    ({"page_size": -1}, "page size must be positive"),
])
def test_contract_that_cannot_page_is_refused(kwargs, message):
    with pytest.raises(PagingError, match=message):
        PageContract(**kwargs)


def test_next_page_going_backwards_fails():
    contract = PageContract(next_path="next")
    with pytest.raises(PagingError, match="would never end"):
        contract.parse({"items": [{"a": 1}], "next": 2}, checkpoint={"page": 2, "seen": 25})


# --- SOAP: a list operation written for this test ------------------------------------------------
def soap_app():
    from spyne import Application, Array, ComplexModel, Integer, ServiceBase, Unicode, rpc
    from spyne.protocol.soap import Soap11
    from spyne.server.wsgi import WsgiApplication

    ns = "urn:test:catalogo"

    class Articulo(ComplexModel):
        __namespace__ = ns
        codigo = Unicode
        nombre = Unicode

    class Pagina(ComplexModel):
        __namespace__ = ns
        filas = Array(Articulo)
        total = Integer

    class Catalogo(ServiceBase):
        @rpc(Integer, Integer, _returns=Pagina)
        def ListarArticulos(ctx, pagina, tamano):  # noqa: N802, N805 - SOAP operation name
            size = min(tamano or 10, CAP)
            rows = RECORDS[((pagina or 1) - 1) * size:(pagina or 1) * size]
            return Pagina(filas=[Articulo(**row) for row in rows], total=len(RECORDS))

    return WsgiApplication(Application([Catalogo], tns=ns, name="Catalogo",
                                       in_protocol=Soap11(validator="lxml"), out_protocol=Soap11()))


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def soap_url():
    httpd = make_server("127.0.0.1", 0, soap_app(), handler_class=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/?wsdl"
    httpd.shutdown()
    httpd.server_close()


def test_soap_list_operation_paged_by_contract(soap_url):
    client = SoapClient(soap_url, connect_timeout=2, read_timeout=5)
    contract = PageContract(page_size=100, page_param="pagina", size_param="tamano", records_path="filas",
                            total_path="total")
    with pytest.raises(PagingError, match=r"'filas' leads to a dict \(keys: Articulo\)"):
        client.fetch_page("ListarArticulos", contract)  # an Array is wrapped in its item element
    contract = PageContract(page_size=100, page_param="pagina", size_param="tamano", records_path="filas.Articulo",
                            total_path="total")
    pages, codes = pull(client, "ListarArticulos", contract)
    assert codes == ALL
    assert [len(p.records) for p in pages] == [25, 25, 10]


def test_soap_without_the_list_operation_says_which_exist(soap_url):
    client = SoapClient(soap_url, connect_timeout=2, read_timeout=5)
    with pytest.raises(TransportError, match=r"no list operation '/api/v1/items'.*ListarArticulos") as err:
        client.fetch_page("/api/v1/items", PageContract())
    assert err.value.category == "configuration" and not err.value.transient
    with pytest.raises(TransportError, match="next link"):
        client.fetch_page("ListarArticulos", PageContract(style="link"))
