"""Hostile JSON read under a byte cap and a value cap, both enforced before parsing.

Book: none (instructor tooling); docs/grading.md, "9. Read back" and "Shards".

A byte cap alone does not bound the memory of ``json.loads``: ``[{},{},...]`` is three
bytes per empty dict, and each becomes a Python object of about 64 bytes plus its slot
(39 MB of it took 797 MB). :func:`read_json_bytes` therefore reads a file in pieces and
counts, as it goes, the JSON items it holds outside strings (every ``{``, ``[`` and
``,``: a document of ``k`` counted items builds at most ``2 k + 1`` values), and stops
at the first piece past either cap; only a document within both caps is parsed
(:func:`loads`), so the memory of the reading stays about ``3 x bytes + 200 x items``.

The counting is a tokenizer over JSON's own grammar (strings and their escapes), one
pass, never a parse: it keeps no structure, only its position and whether it is
inside a string.
"""

from __future__ import annotations

import json
import re
from typing import Any, BinaryIO

CHUNK = 1 << 20  # bytes read (and counted) at a time
#: The rest of a JSON string's body: runs of plain bytes and escape pairs, possessively.
_STRING_BODY = re.compile(rb'(?:[^"\\]++|\\.)*+', re.DOTALL)
_QUOTE, _BACKSLASH = ord('"'), ord("\\")


class RefusedJSON(ValueError):
    """A JSON document is past its byte or item cap (not parsed), or is not strict JSON."""


class ItemCounter:
    """Counts the JSON items (``{``, ``[`` and ``,`` outside strings) of a document fed in
    growing pieces; raises :class:`RefusedJSON` as soon as they pass ``limit``."""

    def __init__(self, limit: int, what: str):
        self.limit, self.what = limit, what
        self.items = 0
        self.pos = 0  # everything before this offset is counted
        self.in_string = False

    def feed(self, data: bytes | bytearray) -> None:
        """Count ``data[self.pos:]`` (``data`` is the document so far, grown by a piece)."""
        end, pos = len(data), self.pos
        while pos < end:
            if self.in_string:
                pos = _STRING_BODY.match(data, pos).end()
                if pos >= end or data[pos] == _BACKSLASH:  # goes on in the next piece
                    break
                pos += 1  # the closing quote
                self.in_string = False
                continue
            quote = data.find(b'"', pos)
            stop = end if quote < 0 else quote
            self.items += (data.count(b"{", pos, stop) + data.count(b"[", pos, stop)
                           + data.count(b",", pos, stop))
            if self.items > self.limit:
                raise RefusedJSON(f"{self.what} holds more than {self.limit} JSON items "
                                     "(objects, arrays and values); refused before parsing")
            if quote < 0:
                pos = end
                break
            pos, self.in_string = quote + 1, True
        self.pos = pos


def read_json_bytes(fh: BinaryIO, max_bytes: int, max_items: int, what: str) -> bytearray:
    """The bytes of an open file, read in pieces, each counted before the next is read.

    Raises :class:`RefusedJSON` past ``max_bytes`` or ``max_items`` (the caller has
    checked the file's size already; this also stops a file that grows while read)."""
    counter = ItemCounter(max_items, what)
    data = bytearray()
    while piece := fh.read(min(CHUNK, max_bytes + 1 - len(data))):
        data += piece
        if len(data) > max_bytes:
            raise RefusedJSON(f"{what} has more than {max_bytes} bytes; refused before "
                                 "parsing")
        counter.feed(data)
    return data


def loads(data: bytes | bytearray, what: str) -> Any:
    """Strict JSON (UTF-8, no ``NaN`` or ``Infinity``) of bytes already within their caps."""
    def no_constant(name: str) -> None:
        raise RefusedJSON(f"{what}: {name} is not JSON")

    return json.loads(data.decode("utf-8"), parse_constant=no_constant)


__all__ = ["ItemCounter", "RefusedJSON", "loads", "read_json_bytes"]
