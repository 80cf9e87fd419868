"""Hostile input through the inbound API and through pulled payloads, against a running Odoo.

    python tests/reliability/hostile_input.py [--strings-rounds 3]

XXE and billion-laughs XML, DTDs, oversized bodies, deeply nested JSON, bodies that are not
UTF-8 or claim another encoding, wrong content types — each must be refused with a 4xx JSON
answer and store nothing. SQL- and script-like strings in every mapped field of an inbound
contact, a demand signal and pulled suppliers and items must be accepted, stored verbatim, and
never reach a server-rendered HTML body (chatter, activities) unescaped.
"""

import argparse
import json
import time

import requests
from _harness import DEMO_KEY as KEY
from _harness import drop_database, in_odoo, query, scalar, suite_round, table, wait_until_drained

HOSTILE = [
    "Robert'); DROP TABLE res_partner;--",
    "' OR '1'='1",
    "1; SELECT pg_sleep(10)",
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "\"><svg/onload=alert(1)>",
    "{{7*7}} ${7*7} %(x)s",
    "../../etc/passwd",
    "Ünïcødé ✓ 医院 \u202e",
]
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r><id>&xxe;</id><name>x</name></r>"""
LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><r><name>&lol4;</name></r>"""
DTD_ONLY = b"""<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd"><r><id>1</id></r>"""


def rejected_cases():
    deep = ("[" * 200000 + "]" * 200000).encode()
    return [
        ("XXE (external entity)", XXE, "application/xml"),
        ("billion laughs", LAUGHS, "application/xml"),
        ("external DTD", DTD_ONLY, "application/xml"),
        ("XML declared, not well-formed", b"<r><id>1</id", "application/xml"),
        ("oversized JSON (2 MiB)", json.dumps({"id": "big", "name": "x" * (2 * 1024 * 1024)}).encode(),
         "application/json"),
        ("deeply nested JSON (200k levels)", deep, "application/json"),
        ("latin-1 bytes sent as UTF-8", '{"id": "e1", "name": "Caf\xe9"}'.encode("latin-1"),
         "application/json; charset=utf-8"),
        ("UTF-16 body", '{"id": "e2", "name": "x"}'.encode("utf-16"), "application/json"),
        ("NUL byte", b'{"id": "e3", "name": "a\x00b"}', "application/json"),
        ("escaped NUL character", b'{"id": "e7", "name": "a\\u0000b"}', "application/json"),
        ("JSON with a trailing garbage", b'{"id": "e4", "name": "x"} junk', "application/json"),
        ("schema-invalid (name is a number)", b'{"id": "e5", "name": 12}', "application/json"),
        ("form body", b"id=1&name=x", "application/x-www-form-urlencoded"),
        ("no content type", b'{"id": "e6", "name": "x"}', ""),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strings-rounds", type=int, default=3, help="copies of each hostile string sent")
    args = parser.parse_args(argv)
    rows, failures = [], []
    with suite_round("hc_hostile", items=60, suppliers=12, logname="hostile.log") as (db, sims, server):
        # Hostile strings in the legacy system's own data: supplier and item names pulled by Odoo.
        for i, text in enumerate(HOSTILE):
            sims.admin(f"/_admin/items/ITM-{i + 1:06d}", {"name": text, "vendor_item_code": text[:60]})
        in_odoo(db, "hostile_pull", rest_url=sims.rest_url)
        server.start()
        session = requests.Session()
        url = server.url + "/hc/in/stores_rest/contacts"
        messages_before = scalar(db, "SELECT count(*) FROM hc_message")
        statuses = []
        for label, body, content_type in rejected_cases():
            headers = {**KEY, **({"Content-Type": content_type} if content_type else {})}
            answer = session.post(url, data=body, headers=headers, timeout=60)
            is_json = answer.headers.get("Content-Type", "").startswith("application/json")
            statuses.append(answer.status_code)
            ok = 400 <= answer.status_code < 500 and is_json
            rows.append([label, answer.status_code, (answer.json().get("error", {}) or {}).get("code", "-")
                         if is_json else answer.text[:40], "ok" if ok else "FAILED"])
            if not ok:
                failures.append(label)
        stored_for_rejected = scalar(db, "SELECT count(*) FROM hc_message") - messages_before

        sent = {}
        for round_ in range(args.strings_rounds):
            for i, text in enumerate(HOSTILE):
                external = f"H{round_}-{i}"
                answer = session.post(url, json={"id": external, "name": text, "email": f"{i}@x.example"},
                                      headers=KEY, timeout=30)
                statuses.append(answer.status_code)
                if answer.status_code != 202:
                    failures.append(f"contact {external}: {answer.status_code}")
                sent[external] = text
            demand = {"reference": HOSTILE[round_ % len(HOSTILE)] + f" #{round_}", "approved": True,
                      "department_code": HOSTILE[3], "lines": [{"item_code": "ITM-000001", "quantity": 1}]}
            answer = session.post(server.url + "/hc/in/stores_rest/demand", json=demand, headers=KEY, timeout=30)
            statuses.append(answer.status_code)
            if answer.status_code != 202:
                failures.append(f"demand {round_}: {answer.status_code}")
        drained = wait_until_drained(db, timeout=300)
        stored = dict(query(db, "SELECT b.external_id, p.name FROM hc_binding b JOIN res_partner p ON p.id = b.res_id "
                                "WHERE b.res_model = 'res.partner' AND b.external_id LIKE 'H%%'"))
        verbatim = sum(1 for external, text in sent.items() if stored.get(external) == text)
        pulled_names = {r[0] for r in query(db, "SELECT name->>'en_US' FROM product_template WHERE default_code "
                                                "LIKE 'ITM-%%'")}
        pulled_verbatim = sum(1 for text in HOSTILE if text in pulled_names)
        rfqs = scalar(db, "SELECT count(*) FROM purchase_order WHERE origin LIKE %s", ("% #%",))
        unescaped = scalar(db, """SELECT (SELECT count(*) FROM mail_message WHERE body ILIKE '%%<script%%'
                                              OR body ILIKE '%%onerror=%%' OR body ILIKE '%%<svg%%')
                                     + (SELECT count(*) FROM mail_activity WHERE note ILIKE '%%<script%%'
                                              OR note ILIKE '%%onerror=%%' OR note ILIKE '%%<svg%%')""")
        tables_alive = scalar(db, "SELECT count(*) FROM res_partner") > 0
        server_errors = sum(1 for s in statuses if s >= 500) + server.log.read_text(errors="replace").count(
            "Traceback")
        exceptions = dict(query(db, "SELECT error_category, count(*) FROM hc_message WHERE state = 'exception' "
                                    "GROUP BY error_category"))
    table(["hostile request", "status", "error code", "verdict"], rows)
    print()
    summary = [
        ["5xx answers or tracebacks in the server log", server_errors, "must be 0"],
        ["messages stored for refused requests", stored_for_rejected, "must be 0"],
        ["hostile contacts stored verbatim", f"{verbatim} of {len(sent)}", "must be all"],
        ["hostile pulled item names stored verbatim", f"{pulled_verbatim} of {len(HOSTILE)}", "must be all"],
        ["demand signals with hostile references -> RFQs", rfqs, f"{args.strings_rounds} expected"],
        ["unescaped markup in chatter or activities", unescaped, "must be 0"],
        ["tables still there", tables_alive, ""],
        ["queue drained", drained, ""],
        ["messages in exception", sum(exceptions.values()), json.dumps(exceptions)],
    ]
    table(["check", "value", "note"], summary)
    ok = (not failures and not server_errors and not stored_for_rejected and verbatim == len(sent)
          and pulled_verbatim == len(HOSTILE) and rfqs == args.strings_rounds and not unescaped and tables_alive
          and drained and not exceptions)
    print("verdict:", "ok" if ok else f"FAILED {failures}")
    if ok:
        drop_database(db)
    return 0 if ok else 1


if __name__ == "__main__":
    time.sleep(0)
    raise SystemExit(main())
