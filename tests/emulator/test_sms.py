"""SMS delivery, reading, deleting and sending in PDU and text mode (sim7600.md section 6)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
import re

import pytest

from sim7600_emulator import Sim7600Emulator, SmsStat, Variants
from sim7600_emulator.control import execute

from .conftest import EmulatorFactory, HostFactory
from .host import HostPort
from .pdu_decoder import decode

SENDER = "+4915551000001"
CMGR_PDU = re.compile(rb"\r\n\+CMGR: (\d),,(\d+)\r\n([0-9A-F]+)\r\n\r\nOK\r\n")


@pytest.fixture
async def sms_at(emu: Sim7600Emulator, open_host: HostFactory) -> HostPort:
    at = open_host(emu.at_path)
    await at.command("ATE0")
    return at


async def read_pdu(at: HostPort, index: int) -> tuple[int, str]:
    await at.settle()  # URCs (+CMTI) first
    match = CMGR_PDU.fullmatch(await at.command(f"AT+CMGR={index}"))
    assert match is not None
    stat, length, pdu = int(match[1]), int(match[2]), match[3].decode()
    assert length == len(pdu) // 2 - 1 - int(pdu[:2], 16)
    return stat, pdu


async def test_single_gsm7_message_in_pdu_mode(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    assert await emu.deliver_sms(SENDER, "Hello @ 10€ [ok]") == [0]
    assert await sms_at.expect(b'\r\n+CMTI: "SM",0\r\n') == b'\r\n+CMTI: "SM",0\r\n'
    stat, pdu = await read_pdu(sms_at, 0)
    assert stat == 0
    message = decode(pdu)
    assert message.smsc == emu.identity.smsc
    assert (message.address, message.toa, message.dcs) == (SENDER, 0x91, 0)
    assert message.text == "Hello @ 10€ [ok]"
    assert message.first_octet & 0x43 == 0  # SMS-DELIVER without header
    assert message.scts is not None
    assert message.scts.utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
    assert (await read_pdu(sms_at, 0))[0] == 1  # read now
    assert emu.sms_storage[0].stat is SmsStat.REC_READ


async def test_text_mode_read_and_list(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    await sms_at.command("AT+CMGF=1")
    await emu.deliver_sms(SENDER, "first")
    await emu.deliver_sms("015551000002", 'second\r\nOK\r\n+CMTI: "SM",7')
    await sms_at.settle()
    sms_at.send("AT+CMGR=1")  # the body holds an OK line: only the blank line ends the reply
    reply = await sms_at.expect(b"\r\n\r\nOK\r\n")
    header = rb'\r\n\+CMGR: "REC UNREAD","015551000002","","\d\d/\d\d/\d\d,\d\d:\d\d:\d\d\+08"\r\n'
    assert re.fullmatch(header + rb'second\r\nOK\r\n\+CMTI: "SM",7\r\n\r\nOK\r\n', reply)
    sms_at.send('AT+CMGL="REC UNREAD"')
    listing = await sms_at.expect(b"first\r\n\r\nOK\r\n")
    assert re.fullmatch(
        rb'\r\n\+CMGL: 0,"REC UNREAD","\+4915551000001","","[^"]+"\r\nfirst\r\n\r\nOK\r\n', listing
    )
    assert await sms_at.command('AT+CMGL="REC UNREAD"') == b"\r\nOK\r\n"
    sms_at.send('AT+CMGL="ALL"')
    everything = await sms_at.expect(b'+CMTI: "SM",7\r\n\r\nOK\r\n')
    assert everything.count(b'"REC READ"') == 2
    assert everything.index(b"+CMGL: 0,") < everything.index(b"+CMGL: 1,")


async def test_ucs2_with_surrogate_pairs(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    text = "Grüße 😀 from 東京"
    await emu.deliver_sms(SENDER, text)
    await sms_at.settle()
    message = decode((await read_pdu(sms_at, 0))[1])
    assert (message.dcs, message.text) == (8, text)
    await sms_at.command("AT+CMGF=1")
    reply = await sms_at.command("AT+CMGR=0")
    assert reply.endswith(
        b"\r\n" + text.encode("utf-16-be").hex().upper().encode() + b"\r\n\r\nOK\r\n"
    )
    assert b'"REC READ"' in reply


async def test_multipart_gsm7_with_8bit_reference(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    text = "".join(f"{n:03d}-" for n in range(75))  # 300 characters
    indexes = await emu.deliver_sms(SENDER, text, reference=0x42)
    assert indexes == [0, 1]
    both = b'\r\n+CMTI: "SM",0\r\n\r\n+CMTI: "SM",1\r\n'
    assert await sms_at.expect(both) == both
    parts = [decode((await read_pdu(sms_at, i))[1]) for i in indexes]
    assert [part.udh for part in parts] == [
        bytes.fromhex("050003420201"),
        bytes.fromhex("050003420202"),
    ]
    assert all(part.first_octet & 0x40 for part in parts)
    assert len(parts[0].text) == 153
    assert "".join(part.text for part in parts) == text


async def test_multipart_ucs2_ref16_forced_order_and_omission(
    emu: Sim7600Emulator, sms_at: HostPort
) -> None:
    text = "Привет, мир! " * 3
    indexes = await emu.deliver_sms(
        SENDER, text, split=3, order=[3, 1, 2], omit_parts=[2], reference=0x1234, ref16=True
    )
    assert indexes == [0, 1]
    parts = [decode((await read_pdu(sms_at, i))[1]) for i in indexes]
    assert [part.udh.hex() for part in parts] == ["060804123403" + "03", "060804123403" + "01"]
    assert [part.text for part in parts] == [text[26:], text[:13]]


async def test_alphanumeric_sender_and_ucs2_forced(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    await emu.deliver_sms("Callstack", "plain", encoding="ucs2")
    message = decode((await read_pdu(sms_at, 0))[1])
    assert (message.address, message.toa, message.dcs, message.text) == (
        "Callstack",
        0xD0,
        8,
        "plain",
    )
    with pytest.raises(ValueError, match="GSM 7-bit"):
        await emu.deliver_sms(SENDER, "東京", encoding="gsm7")


async def test_direct_delivery_with_cnmi_mt2(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    await sms_at.command("AT+CNMI=2,2,0,0,0")
    assert await emu.deliver_sms(SENDER, "direct") == []
    reply = await sms_at.lines(3)
    match = re.fullmatch(rb"\r\n\+CMT: ,(\d+)\r\n([0-9A-F]+)\r\n", reply)
    assert match is not None
    assert decode(match[2].decode()).text == "direct"
    assert int(match[1]) == len(match[2]) // 2 - 1 - int(match[2][:2], 16)
    await sms_at.command("AT+CMGF=1")
    await emu.deliver_sms(SENDER, "line one\nOK")
    assert re.fullmatch(
        rb'\r\n\+CMT: "\+4915551000001","","[^"]+"\r\nline one\nOK\r\n', await sms_at.lines(3)
    )
    assert len(emu.sms_storage) == 0


async def test_store_false_shows_the_message_without_storing(
    emu: Sim7600Emulator, sms_at: HostPort
) -> None:
    assert await emu.deliver_sms(SENDER, "flash", store=False) == []
    assert (await sms_at.lines(3)).startswith(b"\r\n+CMT: ,")
    assert len(emu.sms_storage) == 0


async def test_delete_and_invalid_indexes(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    for text in ("a", "b", "c"):
        await emu.deliver_sms(SENDER, text)
    await sms_at.command("AT+CMGR=1")
    assert await sms_at.command("AT+CMGD=0") == b"\r\nOK\r\n"
    assert await sms_at.command("AT+CMGR=0") == b"\r\n+CMS ERROR: 321\r\n"
    assert await sms_at.command("AT+CMGD=30") == b"\r\n+CMS ERROR: 321\r\n"
    assert await sms_at.command("AT+CMGD=0,1") == b"\r\nOK\r\n"  # deletes read messages
    assert [stored.index for stored in emu.sms_storage] == [2]
    assert await sms_at.command("AT+CMGD=0,4") == b"\r\nOK\r\n"
    assert len(emu.sms_storage) == 0


async def test_full_storage_holds_arrivals_until_space_frees(
    emu: Sim7600Emulator, sms_at: HostPort
) -> None:
    emu.sms_storage.capacity = 2
    assert await emu.deliver_sms(SENDER, "one") == [0]
    assert await emu.deliver_sms(SENDER, "two") == [1]
    assert await emu.deliver_sms(SENDER, "three") == []
    assert await emu.deliver_sms(SENDER, "four") == []
    arrivals = b'\r\n+CMTI: "SM",0\r\n\r\n+CMTI: "SM",1\r\n\r\n+SMS FULL\r\n'
    assert await sms_at.expect(arrivals) == arrivals
    assert (
        await sms_at.command("AT+CPMS?") == b'\r\n+CPMS: "SM",2,2,"SM",2,2,"SM",2,2\r\n\r\nOK\r\n'
    )
    assert await sms_at.command("AT+CMGD=0") == b"\r\nOK\r\n"
    assert await sms_at.expect(b'\r\n+CMTI: "SM",0\r\n') == b'\r\n+CMTI: "SM",0\r\n'
    assert emu.sms_storage[0].message.text == "three"
    await sms_at.command("AT+CMGD=1")
    assert await sms_at.expect(b'\r\n+CMTI: "SM",1\r\n') == b'\r\n+CMTI: "SM",1\r\n'
    assert await emu.deliver_sms(SENDER, "five") == []
    assert await sms_at.expect(b"\r\n+SMS FULL\r\n") == b"\r\n+SMS FULL\r\n"


async def test_full_storage_urc_variant_off(
    make_emulator: EmulatorFactory, open_host: HostFactory
) -> None:
    emu = await make_emulator(variants=Variants(sms_full_urc=False, sms_first_index=1))
    at = open_host(emu.at_path)
    emu.sms_storage.capacity = 1
    assert await emu.deliver_sms(SENDER, "one") == [1]
    assert await emu.deliver_sms(SENDER, "two") == []
    assert await at.expect(b'\r\n+CMTI: "SM",1\r\n') == b'\r\n+CMTI: "SM",1\r\n'
    assert await at.settle(0.08) == b""  # and no +SMS FULL after it: the variant is off


async def test_cmgs_text_mode(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    await sms_at.command("AT+CMGF=1")
    await sms_at.command("AT+CSMP=49,167,0,0")
    sms_at.send('AT+CMGS="+4915551000009"')
    assert await sms_at.expect(b"> ") == b"\r\n> "
    assert await sms_at.settle() == b""  # nothing after the prompt
    sms_at.write(b"Hi there\x1a")
    assert await sms_at.final() == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    (sent,) = emu.sent_sms
    assert (sent.destination, sent.text, sent.mode, sent.reference) == (
        "+4915551000009",
        "Hi there",
        "text",
        0,
    )
    assert sent.status_report
    assert sent.alphabet == "gsm7"


async def test_ctl_lists_the_sent_sms(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    """`ctl sent-sms`: what the network received, for a person or a browser test to check."""
    await sms_at.command("AT+CMGF=1")
    sms_at.send('AT+CMGS="+4915551000009"')
    await sms_at.expect(b"> ")
    sms_at.write(b"Hi there\x1a")
    await sms_at.final()
    reply = await execute(emu, {"command": "sent-sms"})
    assert reply == {
        "ok": True,
        "result": [{"destination": "+4915551000009", "text": "Hi there", "reference": 0}],
    }


async def test_cmgs_prompt_echoes_with_echo_on(emu: Sim7600Emulator, at: HostPort) -> None:
    await at.command("AT+CMGF=1")
    at.send('AT+CMGS="123"')
    assert await at.expect(b"> ") == b'AT+CMGS="123"\r\r\n> '
    at.write(b"ab\rc\x1a")
    assert await at.final() == b"ab\r\n> c\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert emu.sent_sms[0].text == "ab\rc"


async def test_cmgs_escape_aborts(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    await sms_at.command("AT+CMGF=1")
    sms_at.send('AT+CMGS="+4915551000009"')
    await sms_at.expect(b"> ")
    sms_at.write(b"never mind\x1b")
    assert await sms_at.final() == b"\r\nOK\r\n"
    assert emu.sent_sms == []


HELLO_SUBMIT = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"  # +46708251358 "hellohello"


async def test_cmgs_pdu_mode(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    sms_at.send("AT+CMGS=23")
    await sms_at.expect(b"> ")
    sms_at.write(HELLO_SUBMIT.encode() + b"\x1a")
    assert await sms_at.final() == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    (sent,) = emu.sent_sms
    assert (sent.destination, sent.text, sent.mode, sent.concat) == (
        "+46708251358",
        "hellohello",
        "pdu",
        None,
    )
    assert not sent.status_report


async def test_cmgs_pdu_multipart_ucs2_with_status_report(
    emu: Sim7600Emulator, sms_at: HostPort
) -> None:
    body = "😀 ok".encode("utf-16-be")
    udh = bytes.fromhex("0500037F0201")
    tpdu = bytes.fromhex("61000B916407281553F80008") + bytes((len(udh) + len(body),)) + udh + body
    sms_at.send(f"AT+CMGS={len(tpdu)}")
    await sms_at.expect(b"> ")
    sms_at.write(b"00" + tpdu.hex().encode() + b"\x1a")
    assert await sms_at.final() == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    (sent,) = emu.sent_sms
    assert sent.text == "😀 ok"
    assert sent.alphabet == "ucs2"
    assert sent.status_report
    assert sent.concat is not None
    assert (sent.concat.reference, sent.concat.total, sent.concat.seq) == (0x7F, 2, 1)


async def test_cmgs_errors(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    sms_at.send("AT+CMGS=22")
    await sms_at.expect(b"> ")
    sms_at.write(HELLO_SUBMIT.encode() + b"\x1a")
    assert await sms_at.final() == b"\r\n+CMS ERROR: 304\r\n"
    sms_at.send("AT+CMGS=2")
    await sms_at.expect(b"> ")
    sms_at.write(b"zz\x1a")
    assert await sms_at.final() == b"\r\n+CMS ERROR: 304\r\n"
    emu.sms_send_error = 330
    sms_at.send("AT+CMGS=23")
    await sms_at.expect(b"> ")
    sms_at.write(HELLO_SUBMIT.encode() + b"\x1a")
    assert await sms_at.final() == b"\r\n+CMS ERROR: 330\r\n"
    assert emu.sms_send_error is None
    await emu.set_registration(0)
    sms_at.send("AT+CMGS=23")
    await sms_at.expect(b"> ")
    sms_at.write(HELLO_SUBMIT.encode() + b"\x1a")
    assert await sms_at.final() == b"\r\n+CMS ERROR: 331\r\n"
    assert emu.sent_sms == []


async def test_delivery_reports(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    await sms_at.command("AT+CNMI=2,1,0,1,0")
    sms_at.send("AT+CMGS=23")
    await sms_at.expect(b"> ")
    sms_at.write(HELLO_SUBMIT.encode() + b"\x1a")
    await sms_at.final()
    await emu.delivery_report(0)
    match = re.fullmatch(rb"\r\n\+CDS: (\d+)\r\n([0-9A-F]+)\r\n", await sms_at.lines(3))
    assert match is not None
    report = decode(match[2].decode())
    assert (report.reference, report.address, report.status) == (0, "+46708251358", 0)
    await sms_at.command("AT+CMGF=1")
    await emu.delivery_report(0, status=0x46)
    assert re.fullmatch(
        rb'\r\n\+CDS: 6,0,"\+46708251358",145,"[^"]+","[^"]+",70\r\n', await sms_at.lines(2)
    )
    await sms_at.command("AT+CNMI=2,1,0,2,0")
    await emu.delivery_report(0)
    assert await sms_at.expect(b'\r\n+CDSI: "SR",0\r\n') == b'\r\n+CDSI: "SR",0\r\n'
    with pytest.raises(ValueError, match="reference"):
        await emu.delivery_report(99)


async def test_sms_configuration_commands(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    assert await sms_at.command("AT+CNMI?") == b"\r\n+CNMI: 2,1,0,0,0\r\n\r\nOK\r\n"
    assert await sms_at.command("AT+CNMI=2,9") == b"\r\nERROR\r\n"
    assert (
        await sms_at.command('AT+CPMS="SM","SM","SM"') == b"\r\n+CPMS: 0,30,0,30,0,30\r\n\r\nOK\r\n"
    )
    assert await sms_at.command('AT+CPMS="ME"') == b"\r\n+CMS ERROR: 302\r\n"
    assert await sms_at.command('AT+CSCS="UCS2"') == b"\r\nOK\r\n"
    assert await sms_at.command("AT+CSCS?") == b'\r\n+CSCS: "UCS2"\r\n\r\nOK\r\n'
    assert await sms_at.command("AT+CSMP?") == b"\r\n+CSMP: 17,167,0,0\r\n\r\nOK\r\n"
    smsc = emu.identity.smsc.encode()
    assert await sms_at.command("AT+CSCA?") == b'\r\n+CSCA: "' + smsc + b'",145\r\n\r\nOK\r\n'
    await sms_at.command("AT+CMGF=1")
    assert await sms_at.command("AT+CMGL=9") == b"\r\n+CMS ERROR: 305\r\n"


async def test_ucs2_charset_in_text_mode(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    await sms_at.command("AT+CMGF=1")
    await sms_at.command('AT+CSCS="UCS2"')
    await emu.deliver_sms(SENDER, "hi")
    await sms_at.settle()
    reply = await sms_at.command("AT+CMGR=0")
    assert SENDER.encode("utf-16-be").hex().upper().encode() in reply
    assert reply.endswith(b"\r\n00680069\r\n\r\nOK\r\n")
    sms_at.send('AT+CMGS="002B0031"')
    await sms_at.expect(b"> ")
    sms_at.write(b"00E4\x1a")
    await sms_at.final()
    assert (emu.sent_sms[0].destination, emu.sent_sms[0].text) == ("+1", "ä")


async def test_gsm_charset_gives_raw_alphabet_codes(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    await sms_at.command("AT+CMGF=1")
    await sms_at.command('AT+CSCS="GSM"')
    await emu.deliver_sms(SENDER, "@é€")
    await sms_at.settle()
    assert (await sms_at.command("AT+CMGR=0")).endswith(b"\r\n\x00\x05\x1b\x65\r\n\r\nOK\r\n")


async def test_sms_needs_an_unlocked_sim(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    emu.set_sim("pin")
    assert await sms_at.command("AT+CMGR=0") == b"\r\n+CMS ERROR: 311\r\n"
    emu.set_sim("absent")
    assert await sms_at.command("AT+CMGS=5") == b"\r\n+CMS ERROR: 310\r\n"


async def test_pdu_mode_list(emu: Sim7600Emulator, sms_at: HostPort) -> None:
    await emu.deliver_sms(SENDER, "one")
    await emu.deliver_sms(SENDER, "two")
    await sms_at.settle()
    await sms_at.command("AT+CMGR=0")
    listing = await sms_at.command("AT+CMGL=4")
    entries = re.findall(rb"\+CMGL: (\d+),(\d),,(\d+)\r\n([0-9A-F]+)\r\n", listing)
    assert [(int(i), int(stat)) for i, stat, _, _ in entries] == [(0, 1), (1, 0)]
    assert [decode(pdu.decode()).text for *_, pdu in entries] == ["one", "two"]
    assert await sms_at.command("AT+CMGL") == b"\r\nOK\r\n"  # default: REC UNREAD, none left
    assert await sms_at.command("AT+CMGL=?") == b"\r\n+CMGL: (0-4)\r\n\r\nOK\r\n"


async def test_sent_draft_and_raw_messages_kept_on_the_sim(
    emu: Sim7600Emulator, sms_at: HostPort
) -> None:
    """A SIM from a phone holds sent (stat 3) and draft (stat 2) messages next to received
    ones, and sometimes a PDU no decoder reads; AT+CMGL=4 lists them all with their stat."""
    sent = emu.store_sent_sms("+4915551000009", "on my way")
    draft = emu.store_sent_sms("+4915551000009", "draft \u00e7a", stat=SmsStat.STO_UNSENT)
    raw = emu.store_raw_sms(bytes.fromhex("0004"))  # SMSC field, first octet, then nothing
    [received] = await emu.deliver_sms(SENDER, "one")
    assert (sent, draft, raw, received) == (0, 1, 2, 3)
    await sms_at.settle()
    listing = await sms_at.command("AT+CMGL=4")
    entries = re.findall(rb"\+CMGL: (\d+),(\d),,(\d+)\r\n([0-9A-F]+)\r\n", listing)
    assert [(int(i), int(stat)) for i, stat, _, _ in entries] == [(0, 3), (1, 2), (2, 0), (3, 0)]
    assert entries[2][3] == b"0004"
    assert [decode(entries[3][3].decode()).text] == ["one"]
    submit = bytes.fromhex(entries[0][3].decode())
    assert (submit[0], submit[1] & 0x03) == (0, 1)  # default SMSC, SMS-SUBMIT
    # Reading does not turn a stored message into a received one, and text mode shows them.
    assert emu.sms_storage[0].stat is SmsStat.STO_SENT
    await sms_at.command("AT+CMGF=1")
    listing = await sms_at.command('AT+CMGL="ALL"')
    assert b'+CMGL: 0,"STO SENT","+4915551000009",""\r\non my way\r\n' in listing
    assert b'+CMGL: 2,"REC READ","",""\r\n0004\r\n' in listing
    with pytest.raises(ValueError, match="STO SENT or STO UNSENT"):
        emu.store_sent_sms(SENDER, "x", stat=SmsStat.REC_READ)


async def test_a_message_can_carry_the_service_centre_time_stamp_given(
    emu: Sim7600Emulator, sms_at: HostPort
) -> None:
    stamp = datetime(2026, 3, 1, 12, 30, 5, tzinfo=timezone(timedelta(hours=1)))
    await emu.deliver_sms(SENDER, "then", timestamp=stamp)
    _, pdu = await read_pdu(sms_at, 0)
    assert decode(pdu).scts == stamp
