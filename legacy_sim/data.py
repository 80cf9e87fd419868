"""Deterministic legacy data, computed per record from (seed, index): any page of 100,000
items costs only its own size."""

import hashlib
import random

UOMS = ["EA", "BX", "PK", "ML", "L", "KG", "G"]
LOCATIONS = ["WH-MAIN", "PHARM", "LAB", "ER", "ICU"]
DEPARTMENTS = ["LAB", "PHARM", "ER", "ICU", "RAD"]
CATEGORIES = ["Consumables/Gloves", "Consumables/Syringes", "Reagents", "Pharmacy/IV fluids",
              "Pharmacy/Analgesics", "Lab/Tubes", "Wound care"]
PRODUCTS = ["Nitrile gloves M, box of 100", "Syringe 5 ml luer lock", "Sodium chloride 0.9% 500 ml",
            "Glucose reagent kit", "EDTA blood tube 4 ml", "Sterile gauze 10x10", "Paracetamol 500 mg",
            "IV cannula 20G", "Alcohol swab", "Urine container 60 ml", "Surgical mask type IIR",
            "Insulin syringe 1 ml"]
CITIES = ["Lyon", "Porto", "Ghent", "Graz", "Turku", "Bilbao", "Malmo"]
COUNTRIES = ["FR", "PT", "BE", "AT", "FI", "ES", "SE"]


def _rng(seed, kind, index):
    digest = hashlib.blake2b(f"{seed}:{kind}:{index}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _ean13(rng):
    digits = [rng.randrange(10) for _ in range(12)]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


def supplier(seed, index):
    rng = _rng(seed, "supplier", index)
    city = rng.randrange(len(CITIES))
    return {
        "code": f"SUP-{index + 1:04d}",
        "name": f"{rng.choice(['Medi', 'Clini', 'Pharma', 'Bio', 'Care'])}"
                f"{rng.choice(['Supply', 'Source', 'Trade', 'Logistics'])} {index + 1}",
        "email": f"orders{index + 1}@supplier.example",
        "phone": f"+33 4 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
        "street": f"{rng.randrange(1, 200)} Avenue de la Santé",
        "city": CITIES[city],
        "country_code": COUNTRIES[city],
        "tax_id": f"{COUNTRIES[city]}{rng.randrange(10**9, 10**10)}",
        "payment_terms_days": rng.choice([30, 45, 60]),
        "active": True,
        "updated_at": "2026-01-01T00:00:00Z",
    }


def item(seed, index, suppliers):
    rng = _rng(seed, "item", index)
    lot = rng.random() < 0.3
    uom = rng.choice(UOMS)
    return {
        "code": f"ITM-{index + 1:06d}",
        "name": f"{rng.choice(PRODUCTS)} #{index + 1}",
        "uom_code": uom,
        "purchase_uom_code": "BX" if uom == "EA" and rng.random() < 0.5 else uom,
        "category": rng.choice(CATEGORIES),
        "price": round(rng.uniform(0.2, 250), 2),
        "currency": "EUR",
        "vendor_code": f"SUP-{rng.randrange(suppliers) + 1:04d}",
        "vendor_item_code": f"V{rng.randrange(10**6, 10**7)}",
        "lead_time_days": rng.randrange(1, 15),
        "tracking": "lot" if lot else "none",
        "expiry_tracked": lot,
        "critical": rng.random() < 0.1,
        "min_qty": rng.choice([1, 5, 10, 50]),
        "barcode": _ean13(rng),
        "updated_at": "2026-01-01T00:00:00Z",
    }


def stock_balance(seed, index, items):
    rng = _rng(seed, "balance", index)
    item_index = index % items
    it = item(seed, item_index, 1)
    lot = f"LOT-{rng.randrange(10**5, 10**6)}" if it["tracking"] == "lot" else None
    return {
        "item_code": it["code"],
        "location_code": LOCATIONS[(index // items) % len(LOCATIONS)],
        "lot": lot,
        "expiry_date": f"2027-{rng.randrange(1, 13):02d}-15" if lot else None,
        "qty": float(rng.randrange(0, 500)),
        "as_of": "2026-11-01T00:00:00Z",
    }


def demand(seed, index, items):
    rng = _rng(seed, "demand", index)
    lines = []
    for _ in range(rng.randrange(1, 4)):
        it = item(seed, rng.randrange(items), 1)
        lines.append({"item_code": it["code"], "quantity": float(rng.randrange(1, 50)), "uom_code": it["uom_code"]})
    return {
        "reference": f"REQ-{index + 1:06d}",
        "department_code": rng.choice(DEPARTMENTS),
        "requested_by": rng.choice(["A. Martin", "B. Silva", "C. Peeters"]),
        "approved": True,
        "urgency": "urgent" if rng.random() < 0.15 else "normal",
        "needed_by": f"2026-12-{rng.randrange(1, 28):02d}",
        "lines": lines,
    }
