"""Hostile modem output for fuzzing: URCs, replies, SMS PDUs, garbage and giant lines mixed.

Shared by the property tests (thousands of cases in the default run) and the long run
(``scripts/fuzz``: a million streams).
"""

from __future__ import annotations

import contextlib
import random
import re

from custom_components.callstack.sim7600.lines import MAX_LINE, PROMPT, Line, LineSplitter
from custom_components.callstack.sim7600.sms_pdu import PduDecodeError, decode_pdu
from custom_components.callstack.sim7600.urc import parse_call_list, parse_urc

FRAGMENTS: tuple[bytes, ...] = (
    b"\r\nOK\r\n",
    b"\r\nERROR\r\n",
    b"\r\n+CME ERROR: 10\r\n",
    b"\r\n+CMS ERROR: 322\r\n",
    b"\r\nRING\r\n",
    b'\r\n+CLIP: "+4915550000001",145,,,,0\r\n',
    b'\r\n+CLCC: 1,1,4,0,0,"+4915550000001",145\r\n',
    b"\r\nVOICE CALL: BEGIN\r\n",
    b"\r\nVOICE CALL: END: 000034\r\n",
    b"\r\nMISSED_CALL: 11:53AM +4915550000001\r\n",
    b"\r\n+RXDTMF: 5\r\r\n",
    b'\r\n+CMTI: "SM",3\r\n',
    b"\r\n+CMT: ,24\r\n07911326040000F0040B911346610089F6000020806291731408"
    b"0CC8F71D14969741F977FD07\r\n",
    b"\r\n+CDS: 25\r\n0006\r\n",
    b'\r\n+CUSD: 0,"Balance",15\r\n',
    b'\r\n+CUSD: 0,"Say "hi",15\r\n',  # a stray quote
    b'\r\n+CUSD: 1,"Menu\r\n1 Balance\n2 Data",15\r\n',  # a multi-line menu
    b'\r\n+CUSD: 2,"Never closed\r\n',
    b'\r\n+CEREG: 1,"3F29","89815063",7\r\n',
    b"\r\n+CPIN: READY\r\n",
    b"\r\nRDY\r\n",
    b"\r\n> ",
    b"\r\n+CSQ: 18,99\r\n",
    b"\xff\xfe\x00\x1b\x1a",
    b"\r\r\n\n",
    b"x" * (MAX_LINE + 10),
)


def consume(stream: list[bytes]) -> int:
    """Feed ``stream`` through the line splitter and every parser; return lines seen.

    Only :class:`PduDecodeError` may come out of the SMS decoder; anything else raised
    here is a bug, and so is a buffer that grows past one line, and a final result code or
    URC joined into another line (only a USSD text joins lines).
    """
    splitter = LineSplitter()
    seen = 0
    for chunk in [*stream, None]:
        items = splitter.flush() if chunk is None else splitter.feed(chunk)
        for item in items:
            if item == PROMPT:
                continue
            assert isinstance(item, Line)
            seen += 1
            for joined in item.text.split("\n")[1:]:
                assert not _STANDS_ALONE.match(joined), item.text
            urc = parse_urc(item)
            parse_call_list([item.text])
            if item.body is not None and urc is not None:
                with contextlib.suppress(PduDecodeError):
                    decode_pdu(item.body)
        if chunk is not None:
            assert len(splitter._buffer) <= MAX_LINE + len(chunk)
    return seen


_STANDS_ALONE = re.compile(r"^(?:OK|ERROR|RING|NO CARRIER)\s*$|^\+[A-Z]+:")


def random_stream(rng: random.Random) -> list[bytes]:
    """A stream of fragments, random bytes and corrupted fragments, cut at random points."""
    data = bytearray()
    for _ in range(rng.randint(1, 12)):
        roll = rng.random()
        if roll < 0.5:
            data += rng.choice(FRAGMENTS)
        elif roll < 0.8:
            data += rng.randbytes(rng.randint(0, 40))
        else:
            fragment = bytearray(rng.choice(FRAGMENTS))
            if fragment:
                fragment[rng.randrange(len(fragment))] = rng.randrange(256)
            data += fragment
    cuts = sorted(rng.sample(range(len(data) + 1), k=min(len(data) + 1, rng.randint(0, 4))))
    chunks, start = [], 0
    for cut in [*cuts, len(data)]:
        chunks.append(bytes(data[start:cut]))
        start = cut
    return chunks
