"""Page contracts: how a remote list is paged, described as data (plain Python, no ORM).

A :class:`PageContract` says which request parameters carry the page number, the page size,
the offset, the limit and the cursor (each may be renamed, or left empty to send nothing),
where the records sit in an answer (``data.results``; empty for an answer that is the list
itself), and where the answer tells what comes next: the next page (number or URL), the total
number of records, the next cursor, or an RFC 8288 ``Link: <…>; rel="next"`` header. Paths use
the project's path grammar (:mod:`..mapping.paths`).

The contract builds the request of one page from a *checkpoint* (a small JSON-able dict) and
parses an answer into a :class:`Page` carrying the checkpoint of the next page, or ``None`` at
the end. Transports only send the request; the stop rule lives here, once:

- an answer that names the next page (number, URL, cursor) is followed, and a null one ends;
- otherwise a known total ends the list once that many records were read;
- otherwise the list goes on while pages hold records, and an empty page ends it. The number
  of records a page holds never ends a list by itself: servers cap pages at their own size,
  whatever was asked, and stopping at the first page "shorter than asked" drops the rest.

A page with the same records as the page before (a server ignoring the page parameter) stops
the pull with an error naming the parameter instead of looping forever.
"""

import hashlib
import json
import math
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests

from ..mapping.paths import MISSING, json_getter
from .errors import TransportError

STYLES = ("page", "offset", "cursor", "link", "none")


class PagingError(TransportError):
    """The contract does not fit the answer (or itself): a person must fix the configuration."""

    def __init__(self, message):
        super().__init__(message, category="paging", transient=False)


@dataclass
class PageRequest:
    """What to send for one page: a URL to follow as it is, or query parameters for the resource."""

    url: str | None
    params: dict


@dataclass
class Page:
    records: list
    next: dict | None  # checkpoint of the next page; None on the last one
    total: int | None = None  # records in the whole list, when the answer says
    remaining_pages: int | None = None  # pages still to fetch after this one, when the total is known
    body: object = None
    headers: dict = field(default_factory=dict)
    correlation_id: str = ""

    @property
    def is_last(self):
        return self.next is None


def _number(value):
    """An int from an int or a string of digits; None otherwise (bools are not numbers here)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _header(headers, name):
    name = name.lower()
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def link_next(headers):
    """The URL of the ``rel="next"`` link of a Link header, or None."""
    value = _header(headers, "Link")
    if not value:
        return None
    for link in requests.utils.parse_header_links(value):
        if "next" in (link.get("rel") or "").split():
            return link.get("url") or None
    return None


@dataclass(frozen=True)
class PageContract:
    style: str = "page"
    page_size: int = 100
    page_param: str = "page"
    size_param: str = "page_size"
    offset_param: str = "offset"
    limit_param: str = "limit"
    cursor_param: str = "cursor"
    records_path: str = "items"
    next_path: str = "next_page"
    total_path: str = "total"
    cursor_path: str = "next_cursor"
    first_page: int = 1
    params: dict = field(default_factory=dict)  # sent with every page (e.g. the "changed since")

    def __post_init__(self):
        if self.style not in STYLES:
            raise PagingError(f"Unknown paging style {self.style!r} (one of {', '.join(STYLES)}).")
        needed = {"page": ("page_param", "page number"), "offset": ("offset_param", "offset"),
                  "cursor": ("cursor_param", "cursor")}.get(self.style)
        if needed and not (getattr(self, needed[0]) or "").strip():
            raise PagingError(
                f"Paging style {self.style!r} needs the name of the {needed[1]} parameter."
            )
        if self.style == "cursor" and not (self.cursor_path or "").strip():
            raise PagingError("Paging style 'cursor' needs the path of the next cursor in the answer.")
        if self.page_size is not None and self.page_size < 0:
            raise PagingError(f"The page size must be positive (was {self.page_size}).")

    # --- checkpoints ------------------------------------------------------------------------
    def start(self):
        """The checkpoint of the first page."""
        if self.style == "page":
            return {"page": self.first_page, "seen": 0}
        if self.style == "offset":
            return {"offset": 0, "seen": 0}
        return {"seen": 0}

    def normalize(self, checkpoint):
        """A checkpoint dict from None (start), a dict, or a bare value older runs stored
        (a page number, an offset, a cursor or a URL)."""
        if checkpoint is None or checkpoint == {}:
            return self.start()
        if isinstance(checkpoint, dict):
            return dict(checkpoint)
        if isinstance(checkpoint, str) and checkpoint.startswith(("http://", "https://", "/")):
            return {"url": checkpoint, "seen": 0}
        key = {"page": "page", "offset": "offset", "cursor": "cursor"}.get(self.style)
        if key is None:
            raise PagingError(f"Cannot resume paging style {self.style!r} from checkpoint {checkpoint!r}.")
        return {key: checkpoint, "seen": 0}

    # --- requests ---------------------------------------------------------------------------
    def _size(self, params, name):
        if name and self.page_size:
            params[name] = self.page_size

    def request(self, checkpoint=None):
        """The request of the page at ``checkpoint``."""
        position = self.normalize(checkpoint)
        if position.get("url"):
            return PageRequest(position["url"], {})
        params = dict(self.params)
        if self.style == "page":
            params[self.page_param] = position.get("page", self.first_page)
            self._size(params, self.size_param)
        elif self.style == "offset":
            params[self.offset_param] = position.get("offset", 0)
            self._size(params, self.limit_param)
        elif self.style == "cursor":
            self._size(params, self.limit_param)
            if position.get("cursor"):
                params[self.cursor_param] = position["cursor"]
        elif self.style == "link":
            self._size(params, self.size_param)
        return PageRequest(None, params)

    # --- answers ----------------------------------------------------------------------------
    def _get(self, body, path):
        if not (path or "").strip():
            return MISSING
        return json_getter(path)(body)

    def records(self, body):
        """The records of one answer, by the records path (empty path: the answer is the list)."""
        path = (self.records_path or "").strip()
        found = json_getter(path)(body) if path and path != "$" else body
        if found is MISSING:
            keys = ", ".join(sorted(map(str, body))[:12]) if isinstance(body, dict) else type(body).__name__
            raise PagingError(
                f"The answer has no records at path {path!r} (it holds: {keys}). "
                "Set the flow's records path to where the list of records is."
            )
        if found is None:
            return []
        if not isinstance(found, list):
            inside = f" (keys: {', '.join(sorted(map(str, found))[:12])})" if isinstance(found, dict) else ""
            raise PagingError(
                f"The records path {path or '$'!r} leads to a {type(found).__name__}{inside}, not a list of records."
            )
        return found

    def parse(self, body, headers=None, checkpoint=None, url=None):
        """The page in one answer, with the checkpoint of the next page (None at the end).

        ``url`` is the address the answer came from: a relative next link is resolved against it.
        """
        position = self.normalize(checkpoint)
        records = self.records(body)
        seen = int(position.get("seen") or 0) + len(records)
        total = _number(self._get(body, self.total_path)) if self.style in ("page", "offset", "link") else None
        remaining = None
        if total is not None and records:
            remaining = math.ceil(max(total - seen, 0) / len(records))
        page = Page(records, None, total=total, remaining_pages=remaining, body=body, headers=dict(headers or {}))
        if not records or self.style == "none":
            return page  # an empty page ends every list; an unpaged list is one answer
        fingerprint = hashlib.sha1(
            json.dumps(records, sort_keys=True, default=str).encode(), usedforsecurity=False
        ).hexdigest()
        if fingerprint == position.get("fingerprint"):
            raise PagingError(self._same_page_message(position))
        nxt = {"seen": seen, "fingerprint": fingerprint}
        follow = getattr(self, f"_next_{self.style}")(body, headers, position, seen, total, len(records))
        if follow is None:
            return page
        nxt.update(follow)
        if url and nxt.get("url"):
            nxt["url"] = urljoin(url, nxt["url"])
        if nxt.get("url") and nxt["url"] == position.get("url"):
            raise PagingError(f"The next link {nxt['url']!r} points to the page just read: the pull would never end.")
        page.next = nxt
        return page

    def _same_page_message(self, position):
        if position.get("url"):
            return f"Following the next link {position['url']!r} returned the same records again."
        param = {"page": self.page_param, "offset": self.offset_param, "cursor": self.cursor_param}.get(
            self.style, self.size_param)
        return (f"The server answered the same records for the next page: it probably ignores the "
                f"parameter {param!r}. Check the flow's paging parameter names.")

    def _follow_value(self, value, current):
        """A next-page value from the answer: a URL to follow, a number, True (the next one),
        or None/False/"" (no next page). MISSING when the answer does not say."""
        if value is MISSING:
            return MISSING
        if value is None or value is False or value == "" or value == []:
            return None
        number = _number(value)
        if number is not None:
            return {"number": number}
        if value is True:
            return {"number": current + 1}
        if isinstance(value, str):
            return {"url": value}
        raise PagingError(f"The next page at path {self.next_path!r} is {value!r}: neither a number nor a URL.")

    def _next_page(self, body, headers, position, seen, total, count):
        page = int(position.get("page") or self.first_page)
        return self._next_number(body, "page", page, page + 1, seen, total, f"to page {page}")

    def _next_offset(self, body, headers, position, seen, total, count):
        offset = int(position.get("offset") or 0)
        # The next offset counts the records received, not the size asked: a capped page stays whole.
        return self._next_number(body, "offset", offset, offset + count, seen, total, f"at offset {offset}")

    def _next_number(self, body, key, current, following, seen, total, where):
        """The position after ``current`` (a page number or an offset, ``key``) where the answer
        names none, ``following``: the answer's next-page value (a URL, or a number that must
        move forward), else none once ``total`` records are ``seen``, else ``following``."""
        follow = self._follow_value(self._get(body, self.next_path), current)
        if follow is None:
            return None
        if follow is not MISSING:
            if "url" in follow:
                return {"url": follow["url"], key: following}
            if follow["number"] <= current:
                raise PagingError(
                    f"The answer {where} names {key} {follow['number']} as the next one "
                    f"(path {self.next_path!r}): the pull would never end."
                )
            return {key: follow["number"]}
        if total is not None and seen >= total:
            return None
        return {key: following}

    def _next_cursor(self, body, headers, position, seen, total, count):
        cursor = self._get(body, self.cursor_path)
        if cursor is MISSING:
            if position.get("cursor"):
                return None  # the path held a cursor before: an answer without one is the last
            raise PagingError(
                f"The answer holds records but no next cursor at path {self.cursor_path!r} (a null or "
                "empty cursor marks the last page). Set the flow's cursor path."
            )
        if cursor is None or cursor is False or cursor == "":
            return None
        if cursor == position.get("cursor"):
            raise PagingError(f"The answer gives the same cursor {cursor!r} again: the pull would never end.")
        return {"cursor": cursor}

    def _next_link(self, body, headers, position, seen, total, count):
        value = self._get(body, self.next_path)
        url = value if isinstance(value, str) and value else link_next(headers)
        return {"url": url} if url else None


def iter_pages(transport, resource, contract, checkpoint=None, **kwargs):
    """Every page of ``resource`` from ``checkpoint`` on, through ``transport.fetch_page``."""
    position = checkpoint
    while True:
        page = transport.fetch_page(resource, contract, position, **kwargs)
        yield page
        if page.next is None:
            return
        position = page.next
