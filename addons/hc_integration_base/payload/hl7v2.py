"""HL7 v2 messages in ER7 (pipe) encoding, in plain Python (no ORM).

Parsing uses python-hl7 (``hl7`` on PyPI): it finds the encoding characters in MSH-1 / MSH-2 and
splits any segment, whatever MSH-12 says; its ``unescape`` decodes escape sequences. The result
is turned into a regular plain structure (:class:`Message` of :class:`Segment`) so that every
level has the same shape::

    segment.fields[n]           field n as HL7 numbers it (fields[0] is the segment id;
                                for MSH, fields[1] is MSH-1 the field separator, fields[2] MSH-2)
    segment.fields[n][r]        repetition r (0-based)
    segment.fields[n][r][c-1]   component c
    ...[c-1][s-1]               subcomponent s: a str, unescaped

Paths (mapping lines, :func:`getter`, :func:`build_message`)::

    path       := SEG [ "[" index "]" ] [ "-" field [ "[" index "]" ] [ "." component [ "." subcomponent ] ] ]
    SEG        := three characters, a letter then letters or digits (ITM, RQD, ZX1)
    index      := "*" (every one) | an integer, 0-based as in JSON paths (-1 is the last)
    field, component, subcomponent := integers from 1, as HL7 writes them

    ITM-1          first ITM, field 1, first repetition, component 1 (the item code of ITM-1)
    RQD-2.1        first RQD, field 2, component 1
    IVT[*]-3       field 3 of every IVT segment: a list
    PID-3[0].1     first PID, field 3, first repetition, component 1
    IVT[1]         the second IVT segment itself (a :class:`Segment`, e.g. the items of a one2many)

A path that stops above a leaf reads the first component / subcomponent below it (the rule of
HAPI's Terser and python-hl7's ``extract_field``): ``ITM-1`` is ``ITM-1.1``. A segment index is
0-based like the repetition index; without one, the first segment / repetition is meant. Empty
values are absent (``MISSING``, as for JSON paths); the HL7 null ``""`` reads as ``None``. On a
:class:`Segment` (the items of a one2many over ``IVT[*]``) a path of that segment reads inside it
and its segment index is ignored.
"""

import datetime
import hashlib
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

import hl7

from ..mapping.paths import MISSING

DEFAULT_ENCODING = "|^~\\&"
# Segments carrying patient identity or visit data, masked before a payload is stored.
PATIENT_SEGMENTS = ("PID", "PD1", "NK1", "PV1", "PV2")
MASK = "***"
HL7_NULL = '""'
SEGMENT_SEPARATOR = "\r"

# HL7 table 0357 (message error condition codes) used by ACKs
ERR_SEGMENT_SEQUENCE = "100"
ERR_REQUIRED_FIELD = "101"
ERR_DATA_TYPE = "102"
ERR_UNSUPPORTED_TYPE = "200"
ERR_UNSUPPORTED_EVENT = "201"
ERR_UNSUPPORTED_VERSION = "203"
ERR_APPLICATION = "207"

_ERROR_TEXT = {
    "100": "Segment sequence error", "101": "Required field missing", "102": "Data type error",
    "103": "Table value not found", "200": "Unsupported message type", "201": "Unsupported event code",
    "202": "Unsupported processing id", "203": "Unsupported version id", "204": "Unknown key identifier",
    "205": "Duplicate key identifier", "206": "Application record locked", "207": "Application internal error",
}
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}\Z")
_PATH = re.compile(
    r"(?P<segment>[A-Za-z][A-Za-z0-9]{2})(?:\[(?P<segment_index>\*|-?\d+)\])?"
    r"(?:-(?P<field>\d+)(?:\[(?P<repetition>\*|-?\d+)\])?"
    r"(?:\.(?P<component>\d+)(?:\.(?P<subcomponent>\d+))?)?)?\Z"
)
_PATH_HELP = "expected SEG[index]-field[repetition].component.subcomponent, e.g. ITM-1, RQD-2.1, IVT[*]-3, PID-3[0].1"


class Hl7Error(ValueError):
    """A message that cannot be read or accepted; ``code`` is HL7 table 0357, ``ack`` AR or AE."""

    def __init__(self, message, *, code=ERR_APPLICATION, location="", ack="AR"):
        super().__init__(message)
        self.code = code
        self.location = location
        self.ack = ack


class Hl7PathError(ValueError):
    """A path that does not follow the grammar of this module."""


# --- encoding characters and escapes ------------------------------------------------------------
@dataclass(frozen=True)
class Encoding:
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str = ""  # v2.7's fifth character of MSH-2, kept as received

    @classmethod
    def from_msh(cls, text):
        """The encoding characters of a message starting with ``MSH`` (MSH-1 and MSH-2)."""
        if len(text) < 8 or text[:3] != "MSH":
            raise Hl7Error("Not an HL7 v2 message: it must start with MSH and its encoding characters.",
                           code=ERR_REQUIRED_FIELD, location="MSH^1^1")
        sep = text[3]
        end = text.find(sep, 4)
        chars = text[4:end if end >= 0 else len(text)].split(SEGMENT_SEPARATOR)[0]
        if not 4 <= len(chars) <= 5:
            raise Hl7Error(f"MSH-2 must hold 4 encoding characters (e.g. ^~\\&), found {chars!r}.",
                           code=ERR_REQUIRED_FIELD, location="MSH^1^2")
        every = sep + chars
        if len(set(every)) != len(every) or any(c.isalnum() or c.isspace() for c in every):
            raise Hl7Error(f"The encoding characters {every!r} of MSH-1/MSH-2 must be distinct and "
                           "neither letters, digits nor spaces.", code=ERR_DATA_TYPE, location="MSH^1^2")
        return cls(sep, chars[0], chars[1], chars[2], chars[3], chars[4:5])

    @property
    def msh2(self):
        return self.component + self.repetition + self.escape + self.subcomponent + self.truncation

    def escape_text(self, value):
        """``value`` with the delimiters written as \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ (and CR/LF as \\X0D\\ / \\X0A\\)."""
        table = {
            self.escape: "E", self.field: "F", self.component: "S", self.subcomponent: "T",
            self.repetition: "R", "\r": "X0D", "\n": "X0A",
        }
        if self.truncation:
            table[self.truncation] = "P"
        if not any(char in value for char in table):
            return value
        esc = self.escape
        return "".join(f"{esc}{table[c]}{esc}" if c in table else c for c in value)

    def unescape_text(self, value):
        if self.escape not in value:
            return value
        return _library_message(self).unescape(value)


_LIBRARY_MESSAGES = {}


def _library_message(encoding):
    """An empty python-hl7 message carrying ``encoding``, for its ``unescape``."""
    message = _LIBRARY_MESSAGES.get(encoding)
    if message is None:
        separators = SEGMENT_SEPARATOR + encoding.field + encoding.repetition + encoding.component \
            + encoding.subcomponent
        message = _LIBRARY_MESSAGES[encoding] = hl7.Message(separators=separators, esc=encoding.escape)
    return message


# --- plain structure ---------------------------------------------------------------------------
class Segment:
    """One segment: ``fields[0]`` is the id, ``fields[n]`` field n (repetitions > components > subcomponents)."""

    __slots__ = ("fields",)

    def __init__(self, segment_id, fields=None):
        self.fields = [[[[segment_id]]], *(fields or [])]

    @property
    def id(self):
        return self.fields[0][0][0][0]

    def value(self, field, repetition=0, component=1, subcomponent=1, default=""):
        """The (unescaped) text at that position, ``default`` when absent."""
        try:
            return self.fields[field][repetition][component - 1][subcomponent - 1]
        except IndexError:
            return default

    def set(self, field, value, repetition=0, component=1, subcomponent=1):
        """Write ``value`` (text, unescaped) at that position, growing the segment as needed."""
        while len(self.fields) <= field:
            self.fields.append([[[""]]])
        reps = self.fields[field]
        while len(reps) <= repetition:
            reps.append([[""]])
        comps = reps[repetition]
        while len(comps) < component:
            comps.append([""])
        subs = comps[component - 1]
        while len(subs) < subcomponent:
            subs.append("")
        subs[subcomponent - 1] = value

    def to_er7(self, encoding):
        if self.id == "MSH":
            rest = [self._field_er7(f, encoding) for f in self.fields[3:]]
            return "MSH" + encoding.field + encoding.msh2 + (encoding.field + encoding.field.join(rest) if rest else "")
        parts = [self.id] + [self._field_er7(f, encoding) for f in self.fields[1:]]
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        return encoding.field.join(parts)

    @staticmethod
    def _field_er7(field, encoding):
        def join(items, separator):
            items = list(items)
            while items and items[-1] == "":
                items.pop()
            return separator.join(items)

        return join(
            (join((join((encoding.escape_text(s) for s in comp), encoding.subcomponent) for comp in rep),
                  encoding.component) for rep in field),
            encoding.repetition,
        )

    def clone(self):
        clone = Segment.__new__(Segment)
        clone.fields = [[[list(comp) for comp in rep] for rep in field] for field in self.fields]
        return clone

    def __repr__(self):
        return f"<Segment {self.id}>"


class Message:
    """A parsed HL7 v2 message: ``segments`` (list of :class:`Segment`) and its ``encoding``."""

    def __init__(self, segments, encoding=None):
        self.segments = segments
        self.encoding = encoding or Encoding()
        self.raw = None  # the text as received (segments CR-separated) when parsed

    # reading
    def segments_named(self, segment_id):
        return [segment for segment in self.segments if segment.id == segment_id]

    def segment(self, segment_id):
        return next((segment for segment in self.segments if segment.id == segment_id), None)

    def get(self, path, default=None):
        """The value at ``path`` (see the module's grammar), ``default`` when absent."""
        value = getter(path)(self)
        return default if value is MISSING else value

    @property
    def msh(self):
        return self.segments[0]

    @property
    def message_type(self):
        """``MFN^M16`` (MSH-9.1 ^ MSH-9.2; only the code when there is no trigger event)."""
        code, event = self.msh.value(9), self.msh.value(9, component=2)
        return f"{code}{self.encoding.component}{event}" if event else code

    @property
    def control_id(self):
        return self.msh.value(10)

    @property
    def version(self):
        return self.msh.value(12)

    # writing
    def to_er7(self):
        return SEGMENT_SEPARATOR.join(segment.to_er7(self.encoding) for segment in self.segments)

    __str__ = to_er7

    def as_plain(self):
        """JSON-ready: ``{"encoding": "|^~\\\\&", "segments": [fields, ...]}`` (fields as above)."""
        return {"encoding": self.encoding.field + self.encoding.msh2,
                "segments": [segment.clone().fields for segment in self.segments]}

    def redacted(self, segments=PATIENT_SEGMENTS, mask=MASK):
        """A copy with every valued field of ``segments`` replaced by ``mask``."""
        names = set(segments)
        copies = []
        for segment in self.segments:
            segment = segment.clone()
            if segment.id in names:
                segment.fields[1:] = [[[[mask]]] if _valued(field) else [[[""]]] for field in segment.fields[1:]]
            copies.append(segment)
        return Message(copies, self.encoding)

    def __repr__(self):
        return f"<Message {self.message_type} {self.control_id}>"


def _valued(field):
    return any(s for rep in field for comp in rep for s in comp)


def _level(node):
    """python-hl7 gives a str where a level has no separator; make every level a list."""
    return [node] if isinstance(node, str) else list(node)


def parse(text, encoding="utf-8"):
    """Parse one ER7 message (``str`` or ``bytes``) into a :class:`Message`.

    Segments may be separated by CR, LF or CRLF. Raises :class:`Hl7Error` naming the cause.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode(encoding)
        except UnicodeDecodeError as exc:
            raise Hl7Error(f"The message is not valid {encoding} (byte {exc.start}); set the "
                           "backend's character set to the one the sender uses.", code=ERR_DATA_TYPE) from exc
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r\n \t\x00")
    if text[:3] in ("BHS", "FHS"):
        raise Hl7Error("HL7 batches (FHS/BHS) are not accepted: send one message per MLLP frame.",
                       code=ERR_UNSUPPORTED_TYPE, location="MSH^1^9")
    enc = Encoding.from_msh(text)
    raw_segments = [line for line in text.split(SEGMENT_SEPARATOR) if line.strip()]
    for number, line in enumerate(raw_segments, 1):
        segment_id = line.split(enc.field, 1)[0]
        if not _SEGMENT_ID.match(segment_id):
            raise Hl7Error(f"Segment {number} starts with {segment_id[:20]!r}, which is not a segment id "
                           "(three capitals or digits).", code=ERR_SEGMENT_SEQUENCE,
                           location=f"{segment_id[:3]}^{number}")
        if segment_id == "MSH" and number > 1:
            raise Hl7Error(f"Segment {number} is a second MSH: one MLLP frame carries one message.",
                           code=ERR_SEGMENT_SEQUENCE, location=f"MSH^{number}")
    received = text
    try:
        parsed = hl7.parse(SEGMENT_SEPARATOR.join(raw_segments))
    except Exception as exc:  # python-hl7 raises several types on broken input
        raise Hl7Error(f"The message cannot be parsed: {exc}", code=ERR_DATA_TYPE) from exc
    unescape = enc.unescape_text
    segments = []
    for raw in parsed:
        raw = _level(raw)
        segment = Segment(str(raw[0]))
        for number, field in enumerate(raw[1:], 1):
            if segment.id == "MSH" and number in (1, 2):  # the delimiters themselves, never split
                segment.fields.append([[[str(field)]]])
                continue
            segment.fields.append([
                [[unescape(str(sub)) for sub in _level(comp)] for comp in _level(rep)]
                for rep in _level(field)
            ])
        segments.append(segment)
    message = Message(segments, enc)
    message.raw = received
    return message


def validate_msh(message, *, accept_types=None):
    """Raise :class:`Hl7Error` (AR) unless MSH names a message type, a control id and a version.

    ``accept_types``: message types taken (``{"MFN^M16", "OMS^O05"}`` or codes alone, ``{"MFN"}``).
    """
    msh = message.msh
    if not msh.value(9):
        raise Hl7Error("MSH-9 (message type) is empty.", code=ERR_REQUIRED_FIELD, location="MSH^1^9")
    if not msh.value(10):
        raise Hl7Error("MSH-10 (message control id) is empty: it is needed to acknowledge the message "
                       "and to take it once.", code=ERR_REQUIRED_FIELD, location="MSH^1^10")
    version = msh.value(12)
    if not version:
        raise Hl7Error("MSH-12 (version id) is empty.", code=ERR_REQUIRED_FIELD, location="MSH^1^12")
    if not re.match(r"2\.\d", version):
        raise Hl7Error(f"MSH-12 version {version!r} is not an HL7 v2 version.",
                       code=ERR_UNSUPPORTED_VERSION, location="MSH^1^12")
    if accept_types:
        code = msh.value(9)
        if message.message_type not in accept_types and code not in accept_types:
            known = {t.split("^")[0] for t in accept_types}
            error = ERR_UNSUPPORTED_EVENT if code in known else ERR_UNSUPPORTED_TYPE
            raise Hl7Error(f"Message type {message.message_type} is not taken here (accepted: "
                           f"{', '.join(sorted(accept_types))}).", code=error, location="MSH^1^9")


# --- paths -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hl7Path:
    text: str
    segment: str
    segment_index: object = None  # None (first), int or "*"
    field: int | None = None
    repetition: object = None
    component: int | None = None
    subcomponent: int | None = None

    @property
    def wildcards(self):
        return (self.segment_index == "*") + (self.repetition == "*")


def format_path(path, **changes):
    """The text of ``path`` (an :class:`Hl7Path`), with ``changes`` (e.g. ``segment_index=2``) applied."""
    parts = {name: getattr(path, name) for name in
             ("segment", "segment_index", "field", "repetition", "component", "subcomponent")}
    parts.update(changes)
    text = parts["segment"] + (f"[{parts['segment_index']}]" if parts["segment_index"] is not None else "")
    if parts["field"] is not None:
        text += f"-{parts['field']}" + (f"[{parts['repetition']}]" if parts["repetition"] is not None else "")
        if parts["component"] is not None:
            text += f".{parts['component']}"
            if parts["subcomponent"] is not None:
                text += f".{parts['subcomponent']}"
    return text


def _index(text):
    return None if text is None else text if text == "*" else int(text)


def parse_path(text):
    """Parse a path of the grammar above into an :class:`Hl7Path`; :class:`Hl7PathError` names the fault."""
    source = (text or "").strip()
    match = _PATH.match(source)
    if not match:
        raise Hl7PathError(f"HL7 path {text!r} is not valid: {_PATH_HELP}.")
    parts = match.groupdict()
    numbers = {name: int(parts[name]) if parts[name] else None for name in ("field", "component", "subcomponent")}
    for name, number in numbers.items():
        if number == 0:
            raise Hl7PathError(f"HL7 path {text!r}: {name} numbers start at 1, as HL7 writes them.")
    return Hl7Path(source, parts["segment"].upper(), _index(parts["segment_index"]), numbers["field"],
                   _index(parts["repetition"]), numbers["component"], numbers["subcomponent"])


def _leaf(repetition, path):
    try:
        value = repetition[(path.component or 1) - 1][(path.subcomponent or 1) - 1]
    except IndexError:
        return MISSING
    if value == "":
        return MISSING
    return None if value == HL7_NULL else value


def _in_segment(segment, path):
    if path.field is None:
        return segment
    if path.field >= len(segment.fields):
        return MISSING
    reps = segment.fields[path.field]
    if path.repetition == "*":
        return [v for v in (_leaf(rep, path) for rep in reps) if v is not MISSING]
    try:
        return _leaf(reps[path.repetition or 0], path)
    except IndexError:
        return MISSING


def getter(path):
    """A function (Message, Segment or ER7 text) -> value, a list for ``[*]``, or ``MISSING``."""
    path = path if isinstance(path, Hl7Path) else parse_path(path)

    def get(node):
        if isinstance(node, (str, bytes)):
            node = parse(node)
        if isinstance(node, Segment):
            return _in_segment(node, path) if node.id == path.segment else MISSING
        if not isinstance(node, Message):
            return MISSING
        segments = node.segments_named(path.segment)
        if path.segment_index == "*":
            return [v for v in (_in_segment(s, path) for s in segments) if v is not MISSING]
        try:
            return _in_segment(segments[path.segment_index or 0], path)
        except IndexError:
            return MISSING

    return get


# --- records -----------------------------------------------------------------------------------
def records(message, segment_id=None):
    """The records of ``message`` as messages of their own, for mappings that make one record per
    repeating group (the items of an MFN^M16: one per MFE, or its vendors: one per VND).

    Each record is the message's header (the segments before the first ``segment_id``: MSH, MFI,
    ...) followed by one occurrence of ``segment_id`` and the segments after it up to the next
    occurrence. So ``ITM-1`` read on a record is that record's item, ``MSH-10`` the message's
    control id. Without ``segment_id`` (or when it does not occur) the message is one record.
    """
    if not segment_id:
        return [message]
    starts = [index for index, segment in enumerate(message.segments) if segment.id == segment_id]
    if not starts:
        return []
    header = message.segments[:starts[0]]
    found = []
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(message.segments)
        record = Message(header + message.segments[start:end], message.encoding)
        found.append(record)
    return found


def content_hash(text):
    """SHA-256 of an ER7 message without MSH-7 (its date/time): a sender that resends a message with
    the same MSH-10 may stamp it anew; the content is what must not differ."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    normal = (text or "").replace("\r\n", "\r").replace("\n", "\r").strip("\r\n \t\x00")
    first, _sep, rest = normal.partition(SEGMENT_SEPARATOR)
    if first.startswith("MSH") and len(first) > 3:
        parts = first.split(first[3])
        if len(parts) > 6:
            parts[6] = ""
        first = first[3].join(parts)
    lines = [first] + [line for line in rest.split(SEGMENT_SEPARATOR) if line.strip()]
    return hashlib.sha256(SEGMENT_SEPARATOR.join(lines).encode("utf-8")).hexdigest()


def looks_like_er7(text):
    """Whether ``text`` is (or starts like) an HL7 v2 ER7 message."""
    return isinstance(text, str) and text.lstrip("\r\n \t\x0b")[:3] == "MSH"


# --- building ----------------------------------------------------------------------------------
def format_value(value):
    """Plain Python values as HL7 text: dates as YYYYMMDD[HHMMSS], booleans Y/N, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y%m%d%H%M%S")
    if isinstance(value, datetime.date):
        return value.strftime("%Y%m%d")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


def new_control_id():
    """A message control id (MSH-10, at most 20 characters)."""
    return uuid.uuid4().hex[:20]


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H%M%S")


def build_message(values, *, message_type=None, encoding=DEFAULT_ENCODING):
    """Build a :class:`Message` from ``{path: value}`` (see the grammar; values unescaped).

    ``message_type`` (``"OMS^O05"``) fills MSH-9's components; a value is text, so ``"MSH-9":
    "OMS^O05"`` would send an escaped caret (write ``MSH-9.1`` and ``MSH-9.2``, or this argument).

    Segments come in the order their first path appears, MSH first. A path with ``[*]`` takes a
    list: one segment (or repetition) per element. MSH-1/MSH-2 come from ``encoding``; MSH-7
    (now), MSH-10 (a new id), MSH-11 (P) and MSH-12 (2.5) are filled when not given; MSH-9 is
    required.
    """
    enc = encoding if isinstance(encoding, Encoding) else Encoding.from_msh("MSH" + encoding + encoding[:1])
    segments = {("MSH", 0): Segment("MSH", [[[[enc.field]]], [[[enc.msh2]]]])}

    def assign(path, value):
        if path.field is None:
            raise Hl7PathError(f"HL7 path {path.text!r} names a segment; a value needs a field (e.g. {path.text}-1).")
        if path.segment == "MSH" and path.field in (1, 2):
            raise Hl7PathError(f"{path.text}: MSH-1 and MSH-2 come from the encoding characters.")
        if path.segment_index == "*" or path.repetition == "*":
            if not isinstance(value, (list, tuple)):
                raise Hl7PathError(f"HL7 path {path.text!r} has [*]: its value must be a list, "
                                   f"not {type(value).__name__}.")
            level = "segment_index" if path.segment_index == "*" else "repetition"
            for position, item in enumerate(value):
                assign(_replace(path, **{level: position}), item)
            return
        for name in ("segment_index", "repetition"):
            index = getattr(path, name)
            if index is not None and index < 0:
                raise Hl7PathError(f"HL7 path {path.text!r}: negative indexes only read, they cannot build.")
        key = (path.segment, path.segment_index or 0)
        segment = segments.get(key)
        if segment is None:
            segment = segments[key] = Segment(path.segment)
        segment.set(path.field, format_value(value), path.repetition or 0, path.component or 1, path.subcomponent or 1)

    if message_type:
        for number, part in enumerate(message_type.split("^"), 1):
            segments[("MSH", 0)].set(9, part, component=number)
    for text, value in values.items():
        assign(parse_path(text), value)
    msh = segments[("MSH", 0)]
    if not msh.value(9):
        raise Hl7Error("MSH-9 (message type) is required to build a message.", code=ERR_REQUIRED_FIELD)
    for field, default in ((7, _now), (10, new_control_id), (11, lambda: "P"), (12, lambda: "2.5")):
        if not msh.value(field):
            msh.set(field, default())
    ordered = sorted(segments.items(), key=lambda item: item[0] != ("MSH", 0))
    by_segment = {}
    for (name, index), segment in ordered:
        by_segment.setdefault(name, []).append((index, segment))
    for name, items in by_segment.items():
        indexes = sorted(index for index, _segment in items)
        if indexes != list(range(len(indexes))):
            missing = next(i for i in range(len(indexes) + 1) if i not in indexes)
            raise Hl7PathError(f"{name}[{missing}] has no value while a later {name} has: indexes must "
                               "follow each other.")
    return Message([segment for _key, segment in ordered], enc)


def _replace(path, **changes):
    fields = {name: getattr(path, name) for name in
              ("text", "segment", "segment_index", "field", "repetition", "component", "subcomponent")}
    fields.update(changes)
    return Hl7Path(**fields)


# --- acknowledgements --------------------------------------------------------------------------
@dataclass
class Ack:
    code: str  # AA, AE, AR (or CA, CE, CR)
    control_id: str  # MSA-2: the acknowledged message's MSH-10
    text: str = ""  # the reason (ERR-8, ERR-3.2, MSA-3 or v2.3's ERR-1.4.2)
    error_code: str = ""  # HL7 table 0357 (ERR-3.1 or ERR-1.4.1)
    message: Message | None = None

    @property
    def accepted(self):
        return self.code in ("AA", "CA")


def salvage_msh(text):
    """The MSH of ``text`` as a :class:`Message` even when the rest cannot be parsed; None without MSH."""
    if isinstance(text, Message):
        return text
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = (text or "").replace("\n", "\r").lstrip("\r \t")
    for candidate in (text, text.split(SEGMENT_SEPARATOR, 1)[0]):  # whole, then MSH alone
        try:
            return parse(candidate)
        except Hl7Error:
            continue
    return None


def build_ack(original, code="AA", *, reason="", error_code=None, location="", control_id=None):
    """The ACK of ``original`` (a :class:`Message`, ER7 text, or None when nothing is readable).

    MSA-2 echoes MSH-10; sending and receiving application / facility are swapped; the original's
    encoding characters, processing id and version are kept. AE / AR carry an ERR segment with
    the HL7 error code (table 0357), severity E and ``reason`` (ERR-8, and MSA-3 for v2.3 readers).
    """
    if code not in ("AA", "AE", "AR", "CA", "CE", "CR"):
        raise ValueError(f"ACK code {code!r} is not one of AA, AE, AR, CA, CE, CR")
    source = original if isinstance(original, Message) else salvage_msh(original) if original else None
    enc = source.encoding if source else Encoding()
    ack = Segment("MSH", [[[[enc.field]]], [[[enc.msh2]]]])
    if source:
        msh = source.msh.clone()
        for target, origin in ((3, 5), (4, 6), (5, 3), (6, 4)):
            if origin < len(msh.fields):
                while len(ack.fields) <= target:
                    ack.fields.append([[[""]]])
                ack.fields[target] = msh.fields[origin]
    ack.set(7, _now())
    ack.set(9, "ACK")
    event = source.msh.value(9, component=2) if source else ""
    if event:
        ack.set(9, event, component=2)
        ack.set(9, "ACK", component=3)
    ack.set(10, control_id or new_control_id())
    ack.set(11, (source.msh.value(11) if source else "") or "P")
    ack.set(12, (source.msh.value(12) if source else "") or "2.5")
    msa = Segment("MSA")
    msa.set(1, code)
    msa.set(2, source.control_id if source else "")
    segments = [ack, msa]
    if reason or code not in ("AA", "CA"):
        msa.set(3, _one_line(reason)[:80])
    if code not in ("AA", "CA"):
        error_code = error_code or ERR_APPLICATION
        err = Segment("ERR")
        if location:
            for number, part in enumerate(location.split("^"), 1):
                err.set(2, part, component=number)
        err.set(3, error_code)
        err.set(3, _ERROR_TEXT.get(error_code, ""), component=2)
        err.set(3, "HL70357", component=3)
        err.set(4, "E")
        err.set(8, _one_line(reason))
        segments.append(err)
    return Message(segments, enc)


def _one_line(text):
    return " ".join(str(text or "").split())


def parse_ack(text):
    """Read an ACK (text or Message) into an :class:`Ack`; :class:`Hl7Error` when it has no MSA."""
    message = text if isinstance(text, Message) else parse(text)
    msa = message.segment("MSA")
    if msa is None or not msa.value(1):
        raise Hl7Error(f"The answer ({message.message_type or 'no type'}) has no MSA segment with an "
                       "acknowledgement code.", code=ERR_REQUIRED_FIELD)
    err = message.segment("ERR")
    reason = ""
    error_code = ""
    if err is not None:
        reason = err.value(8) or err.value(3, component=2) or err.value(7)
        error_code = err.value(3)
        if not reason and not error_code:  # v2.3: ERR-1 is segment^sequence^field^code (a CE)
            reason = err.value(1, component=4, subcomponent=2)
            error_code = err.value(1, component=4)
    return Ack(msa.value(1), msa.value(2), reason or msa.value(3), error_code, message)


# --- redaction ---------------------------------------------------------------------------------
def redact_er7(text, segments=PATIENT_SEGMENTS, mask=MASK):
    """ER7 ``text`` with every valued field of ``segments`` (PID, PV1, ... by default) masked.

    Works on the raw text, so a message that cannot be parsed is redacted too: segment ids and the
    count of fields stay (positions remain readable), values go. Segments come back CR-separated.
    """
    if not text:
        return text
    names = set(segments)
    normal = text.replace("\r\n", "\r").replace("\n", "\r")
    sep = normal[3] if normal.startswith("MSH") and len(normal) > 3 else "|"
    lines = []
    for line in normal.split(SEGMENT_SEPARATOR):
        parts = line.split(sep)
        if parts[0].strip().upper() in names:
            line = sep.join([parts[0]] + [mask if part else "" for part in parts[1:]])
        lines.append(line)
    return SEGMENT_SEPARATOR.join(lines)
