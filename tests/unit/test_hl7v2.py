"""HL7 v2 codec (payload/hl7v2.py): paths, escapes, encoding characters, building, ACKs, redaction."""

import datetime

import pytest

from hc_integration_base.mapping.paths import MISSING
from hc_integration_base.payload import hl7v2
from hc_integration_base.payload.hl7v2 import Hl7Error, Hl7PathError
from legacy_sim import hl7_peer

MESSAGE = "\r".join([
    "MSH|^~\\&|MMIS|STORES^1.2.840^ISO|ODOO|HOSP|20240101120000||MFN^M16^MFN_M16|CTRL-1|P|2.6",
    "ITM|GZ-1010^Gauze|Gauze 10\\T\\10 \\F\\ pipe \\S\\ caret \\R\\ tilde \\E\\ backslash|A",
    "IVT|1|CS-MAIN|Central stores",
    "IVT|2|WARD-3~WARD-3B|Ward 3",
    "RQD|1|SY-0005^Syringe&5ml||||CS|\"\"",
    "PID|1||MRN-1^^^HOSP^MR~NHS-9^^^NHS||Doe^Jane",
    "PV1|1|I|ICU^12^A",
])


@pytest.fixture(scope="module")
def message():
    return hl7v2.parse(MESSAGE)


@pytest.mark.parametrize("path, expected", [
    ("ITM-1", "GZ-1010"),  # above a leaf: the first component
    ("ITM-1.2", "Gauze"),
    ("RQD-2.1", "SY-0005"),
    ("RQD-2.2", "Syringe"),
    ("RQD-2.2.2", "5ml"),
    ("IVT-3", "Central stores"),
    ("IVT[1]-3", "Ward 3"),
    ("IVT[-1]-2", "WARD-3"),
    ("IVT[*]-3", ["Central stores", "Ward 3"]),
    ("IVT[*]-2[*]", [["CS-MAIN"], ["WARD-3", "WARD-3B"]]),
    ("IVT[1]-2[1]", "WARD-3B"),
    ("PID-3[0].1", "MRN-1"),
    ("PID-3[1].1", "NHS-9"),
    ("PID-3[*].4", ["HOSP", "NHS"]),
    ("MSH-1", "|"),
    ("MSH-2", "^~\\&"),
    ("MSH-4.2", "1.2.840"),
    ("MSH-10", "CTRL-1"),
    ("RQD-7", None),  # the HL7 null ""
])
def test_paths_read_fields_components_repetitions(message, path, expected):
    assert hl7v2.getter(path)(message) == expected


@pytest.mark.parametrize("path", ["ITM-9", "IVT[5]-2", "ZZZ-1", "RQD-2.5", "PID-3[7].1", "RQD-4"])
def test_absent_values_are_missing(message, path):
    assert hl7v2.getter(path)(message) is MISSING
    assert message.get(path, "default") == "default"


def test_paths_on_a_segment_read_inside_it(message):
    second_ivt = hl7v2.getter("IVT[1]")(message)
    assert isinstance(second_ivt, hl7v2.Segment)
    assert [hl7v2.getter("IVT-3")(s) for s in hl7v2.getter("IVT[*]")(message)] == ["Central stores", "Ward 3"]
    assert hl7v2.getter("IVT[0]-2")(second_ivt) == "WARD-3"  # the index names the one in hand
    assert hl7v2.getter("ITM-1")(second_ivt) is MISSING


@pytest.mark.parametrize("path, cause", [
    ("ITM-0", "field numbers start at 1"),
    ("RQD-2.0", "component numbers start at 1"),
    ("ITM.1", "is not valid"),
    ("IT-1", "is not valid"),
    ("ITM-1[x]", "is not valid"),
    ("", "is not valid"),
])
def test_bad_paths_name_the_cause(path, cause):
    with pytest.raises(Hl7PathError, match=cause):
        hl7v2.getter(path)


def test_escape_sequences_are_decoded(message):
    assert message.get("ITM-2") == "Gauze 10&10 | pipe ^ caret ~ tilde \\ backslash"


def test_escapes_round_trip_through_building():
    text = "a|b^c~d&e\\f\r\ng"
    built = hl7v2.build_message({"ITM-2": text}, message_type="MFN^M16")
    er7 = built.to_er7()
    assert "ITM|\\F\\" not in er7 and "a\\F\\b\\S\\c\\R\\d\\T\\e\\E\\f\\X0D\\\\X0A\\g" in er7
    assert hl7v2.parse(er7).get("ITM-2") == text


def test_custom_encoding_characters():
    text = "MSH#*!@%#MMIS#STORES#ODOO#HOSP#20240101##MFN*M16#C-9#P#2.5\rITM#A*B!C*D%E#x@F@y@S@z@E@w"
    message = hl7v2.parse(text)
    assert message.encoding == hl7v2.Encoding("#", "*", "!", "@", "%")
    assert message.get("MSH-2") == "*!@%"
    assert message.get("ITM-1[0].2") == "B"
    assert message.get("ITM-1[1].2.2") == "E"
    assert message.get("ITM-2") == "x#y*z@w"
    assert message.message_type == "MFN*M16"
    assert message.to_er7() == text  # written back with its own characters
    ack = hl7v2.build_ack(message, "AE", reason="bad # value")
    assert ack.to_er7().startswith("MSH#*!@%#ODOO#HOSP#MMIS#STORES#")
    assert "MSA#AE#C-9#bad @F@ value" in ack.to_er7()
    assert hl7v2.parse_ack(ack.to_er7()).text == "bad # value"


@pytest.mark.parametrize("text, cause", [
    ("PID|1||x", "must start with MSH"),
    ("MSH|^~|A", "4 encoding characters"),
    ("MSH|^^\\&|A|B", "must be distinct"),
    ("MSH|^~\\&|A\rMSH|^~\\&|B", "second MSH"),
    ("MSH|^~\\&|A\rpid|1", "not a segment id"),
    ("BHS|^~\\&|A", "batches"),
])
def test_unreadable_messages_name_the_cause(text, cause):
    with pytest.raises(Hl7Error, match=cause):
        hl7v2.parse(text)


def test_lf_and_crlf_segment_separators():
    assert hl7v2.parse(MESSAGE.replace("\r", "\r\n")).get("IVT[1]-3") == "Ward 3"
    assert hl7v2.parse(MESSAGE.replace("\r", "\n") + "\n").get("PV1-3.2") == "12"


def test_bytes_in_another_character_set():
    data = ("MSH|^~\\&|A|B|C|D|1||MFN^M16|X1|P|2.5\rITM|1|Ga\u00dfe").encode("latin-1")
    with pytest.raises(Hl7Error, match="not valid utf-8"):
        hl7v2.parse(data)
    assert hl7v2.parse(data, encoding="latin-1").get("ITM-2") == "Ga\u00dfe"


def test_validate_msh():
    hl7v2.validate_msh(hl7v2.parse(MESSAGE), accept_types={"MFN^M16"})
    with pytest.raises(Hl7Error, match="MSH-10") as caught:
        hl7v2.validate_msh(hl7v2.parse("MSH|^~\\&|A|B|C|D|1||MFN^M16||P|2.5"))
    assert (caught.value.code, caught.value.location, caught.value.ack) == ("101", "MSH^1^10", "AR")
    with pytest.raises(Hl7Error, match="not taken here") as caught:
        hl7v2.validate_msh(hl7v2.parse(MESSAGE), accept_types={"OMS^O05"})
    assert caught.value.code == hl7v2.ERR_UNSUPPORTED_TYPE
    with pytest.raises(Hl7Error) as caught:
        hl7v2.validate_msh(hl7v2.parse(MESSAGE), accept_types={"MFN^M15"})
    assert caught.value.code == hl7v2.ERR_UNSUPPORTED_EVENT
    with pytest.raises(Hl7Error, match="version"):
        hl7v2.validate_msh(hl7v2.parse("MSH|^~\\&|A|B|C|D|1||MFN^M16|X|P|3.0"))


# --- building -----------------------------------------------------------------------------------
def test_build_message_from_paths():
    built = hl7v2.build_message({
        "MSH-3": "ODOO", "MSH-5": "MMIS", "MSH-10": "PO-42",
        "ORC-1": "NW", "ORC-2": "P00042",
        "RQD[*]-2.1": ["GZ-1010", "SY-0005"], "RQD[*]-5": [20, 2.5], "RQD[*]-7": ["CC-ICU", "CC-ICU"],
        "RQD[0]-10": datetime.date(2024, 3, 1),
        "ZPO-1[*]": ["a", "b"], "ZPO-2": True,
    }, message_type="OMS^O05")
    er7 = built.to_er7().split("\r")
    assert er7[0].startswith("MSH|^~\\&|ODOO||MMIS||20") and "|OMS^O05|PO-42|P|2.5" in er7[0]
    assert er7[1:] == ["ORC|NW|P00042", "RQD||GZ-1010|||20||CC-ICU|||20240301", "RQD||SY-0005|||2.5||CC-ICU",
                       "ZPO|a~b|Y"]
    again = hl7v2.parse(built.to_er7())
    assert again.get("RQD[*]-7") == ["CC-ICU", "CC-ICU"] and again.control_id == "PO-42"
    assert len(hl7v2.build_message({"MSH-9.1": "ORU"}).control_id) == 20


@pytest.mark.parametrize("values, cause", [
    ({"ORC-1": "NW"}, "MSH-9"),
    ({"MSH-9": "X", "RQD[*]-1": "not a list"}, "must be a list"),
    ({"MSH-9": "X", "RQD[1]-1": "gap"}, "RQD\\[0\\] has no value"),
    ({"MSH-9": "X", "MSH-1": "#"}, "encoding characters"),
    ({"MSH-9": "X", "RQD": "x"}, "needs a field"),
])
def test_build_errors_name_the_cause(values, cause):
    with pytest.raises((Hl7Error, Hl7PathError), match=cause):
        hl7v2.build_message(values)


# --- acknowledgements ---------------------------------------------------------------------------
def test_ack_aa_echoes_control_id_and_swaps_applications(message):
    ack = hl7v2.build_ack(message, "AA")
    msh = ack.msh
    assert (msh.value(3), msh.value(4), msh.value(5), msh.value(6)) == ("ODOO", "HOSP", "MMIS", "STORES")
    assert msh.value(6, component=2) == "1.2.840"  # the whole HD is carried over
    assert ack.message_type == "ACK^M16" and ack.msh.value(9, component=3) == "ACK"
    assert ack.version == "2.6" and ack.control_id and ack.control_id != "CTRL-1"
    assert [s.id for s in ack.segments] == ["MSH", "MSA"]
    parsed = hl7v2.parse_ack(ack.to_er7())
    assert (parsed.code, parsed.control_id, parsed.accepted) == ("AA", "CTRL-1", True)


@pytest.mark.parametrize("code", ["AE", "AR"])
def test_ack_error_carries_err_segment(message, code):
    ack = hl7v2.build_ack(message, code, reason="Unknown item GZ-1010", error_code="204", location="ITM^1^1")
    err = ack.segment("ERR")
    assert err.value(2) == "ITM" and err.value(2, component=3) == "1"
    assert (err.value(3), err.value(3, component=3), err.value(4), err.value(8)) == (
        "204", "HL70357", "E", "Unknown item GZ-1010")
    parsed = hl7v2.parse_ack(ack.to_er7())
    assert (parsed.code, parsed.control_id, parsed.text, parsed.error_code, parsed.accepted) == (
        code, "CTRL-1", "Unknown item GZ-1010", "204", False)


def test_ack_of_unreadable_message_still_echoes_what_it_can():
    broken = "MSH|^~\\&|MMIS|STORES|ODOO|HOSP|1||MFN^M16|C-77|P|2.5\rbad segment"
    ack = hl7v2.build_ack(broken, "AR", reason="segment 2 unreadable")
    assert ack.msh.value(5) == "MMIS" and hl7v2.parse_ack(ack.to_er7()).control_id == "C-77"
    nothing = hl7v2.build_ack(b"\x00garbage", "AR", reason="not HL7")
    assert hl7v2.parse_ack(nothing.to_er7()).code == "AR"


def test_parse_ack_reads_v23_err_and_msa3():
    v23 = "MSH|^~\\&|B|B|A|A|1||ACK|9|P|2.3\rMSA|AE|C-1|\rERR|RQD^1^2^103&Item unknown&HL70357"
    ack = hl7v2.parse_ack(v23)
    assert (ack.code, ack.text, ack.error_code) == ("AE", "Item unknown", "103")
    assert hl7v2.parse_ack("MSH|^~\\&|B|B|A|A|1||ACK|9|P|2.3\rMSA|AR|C-1|Down for maintenance").text == \
        "Down for maintenance"
    with pytest.raises(Hl7Error, match="no MSA"):
        hl7v2.parse_ack("MSH|^~\\&|B|B|A|A|1||ACK|9|P|2.3")


# --- redaction ----------------------------------------------------------------------------------
def test_redaction_masks_patient_segments():
    text = hl7_peer.dft_p03("DFT-1")
    redacted = hl7v2.redact_er7(text)
    for phi in ("Doe", "Jane", "MRN-778812", "19800214", "Elm St", "555-0101", "Welby", "VN-55123"):
        assert phi in text and phi not in redacted
    lines = redacted.split("\r")
    assert lines[2].startswith("PID|***||***||***") and lines[3].startswith("PV1|***|***|***")
    assert lines[0] == text.split("\r")[0] and lines[-1] == text.split("\r")[-1]  # MSH, FT1 untouched
    parsed = hl7v2.parse(redacted)
    assert parsed.get("FT1-7") == "GZ-1010" and parsed.get("PID-5") == hl7v2.MASK
    kept = hl7v2.parse(text).redacted()
    assert "Doe" not in kept.to_er7() and kept.get("FT1-13") == "CC-ICU"


def test_redaction_of_unparsable_text_and_opt_in_segments():
    assert hl7v2.redact_er7("garbage\nPID|1||SECRET") == "garbage\rPID|***||***"
    text = "MSH|^~\\&|A|B|C|D|1||ADT^A01|X|P|2.5\rNK1|1|Doe^John\rOBX|1|ST|x||secret"
    assert "John" not in hl7v2.redact_er7(text)
    assert "secret" not in hl7v2.redact_er7(text, segments=("OBX",)) and "John" in hl7v2.redact_er7(
        text, segments=("OBX",))


# --- the materials-management samples ----------------------------------------------------------
def test_materials_management_samples_read_through_paths():
    m16 = hl7v2.parse(hl7_peer.mfn_m16("M16-1"))
    hl7v2.validate_msh(m16)
    assert m16.get("ITM[*]-1") == ["GZ-1010", "SY-0005"]
    assert m16.get("ITM-2") == "Gauze swab 10&10 cm"
    assert m16.get("VND[*]-2") == ["V-MEDLINE", "V-BD"] and m16.get("PKG-5") == "12.50"
    assert m16.get("PCE-2") == "CC-4100" and m16.get("IVT[*]-2") == ["CS-MAIN", "WARD-3", "CS-MAIN"]
    m15 = hl7v2.parse(hl7_peer.mfn_m15())
    assert m15.get("IIM[*]-3") == ["L2301", "B889"] and m15.get("IIM[1]-12") == "75"
    oms = hl7v2.parse(hl7_peer.oms_o05(department="CC-OR"))
    assert oms.get("RQD[*]-7") == ["CC-OR", "CC-OR"] and oms.get("RQD-9") == "ICU-STORE"
    assert hl7v2.parse(hl7_peer.dft_p03()).get("FT1[*]-10") == ["2"]
    assert hl7v2.parse(hl7_peer.dft_p03()).get("FT1-13") == "CC-ICU"
