"""GSM 03.38 alphabet, septet counting and packing."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.callstack.sim7600 import gsm7

BASIC_CHARS = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION_CHARS = "\f^{}\\[~]|€"
gsm_text = st.text(alphabet=st.sampled_from(BASIC_CHARS + EXTENSION_CHARS), max_size=400)


def test_basic_table_is_the_127_characters_besides_esc() -> None:
    decoded = gsm7.decode_septets([code for code in range(128) if code != gsm7.ESC])
    assert decoded == BASIC_CHARS
    assert gsm7.encode_septets(BASIC_CHARS) == [c for c in range(128) if c != gsm7.ESC]


@pytest.mark.parametrize(
    ("char", "code"),
    [
        ("\f", 0x0A),
        ("^", 0x14),
        ("{", 0x28),
        ("}", 0x29),
        ("\\", 0x2F),
        ("[", 0x3C),
        ("~", 0x3D),
        ("]", 0x3E),
        ("|", 0x40),
        ("€", 0x65),
    ],
)
def test_extension_chars_are_escaped(char: str, code: int) -> None:
    assert gsm7.encode_septets(char) == [gsm7.ESC, code]
    assert gsm7.decode_septets([gsm7.ESC, code]) == char
    assert gsm7.septet_length(char) == 2


def test_can_encode() -> None:
    assert gsm7.can_encode("Hello @ home, 5€ [x]")
    assert gsm7.can_encode("")
    assert not gsm7.can_encode("ç")  # only capital Ç is in the table
    assert not gsm7.can_encode("hi 😀")
    assert not gsm7.can_encode("\x1b")  # ESC is not a character


def test_septet_length_counts_extension_chars_twice() -> None:
    assert gsm7.septet_length("a€[]") == 7


def test_encode_rejects_foreign_chars_without_quoting_them() -> None:
    with pytest.raises(ValueError, match="not in the GSM") as err:
        gsm7.encode_septets("secret ж")
    assert "ж" not in str(err.value)
    assert "secret" not in str(err.value)


@pytest.mark.parametrize(
    ("septets", "text"),
    [
        ([gsm7.ESC, 0x41], "A"),  # unknown escape: the basic character (TS 23.038)
        ([gsm7.ESC, gsm7.ESC], " "),  # reserved second extension table: a space
        ([0x41, gsm7.ESC], "A?"),  # dangling ESC
        ([0x41, 0x80, -1], "A??"),  # out of range
    ],
)
def test_decode_is_best_effort(septets: list[int], text: str) -> None:
    assert gsm7.decode_septets(septets) == text


@pytest.mark.parametrize(
    ("text", "packed"),
    [
        ("hellohello", "E8329BFD4697D9EC37"),
        ("How are you?", "C8F71D14969741F977FD07"),
        ("", ""),
    ],
)
def test_pack_known_vectors(text: str, packed: str) -> None:
    septets = gsm7.encode_septets(text)
    assert gsm7.pack_septets(septets).hex().upper() == packed
    assert gsm7.unpack_septets(bytes.fromhex(packed), len(text)) == septets


def test_pack_with_fill_bits_shifts_the_stream() -> None:
    # One fill bit, as after a 6-octet concatenation header: "A" = 0x41 << 1.
    assert gsm7.pack_septets([0x41], fill_bits=1) == bytes([0x82])
    assert gsm7.unpack_septets(bytes([0x82]), 1, fill_bits=1) == [0x41]


def test_unpack_rejects_short_data() -> None:
    with pytest.raises(ValueError, match="not enough data"):
        gsm7.unpack_septets(b"\x00", 2)


@pytest.mark.parametrize("fill", [-1, 7])
def test_pack_rejects_bad_fill(fill: int) -> None:
    with pytest.raises(ValueError, match="fill bits"):
        gsm7.pack_septets([0], fill_bits=fill)


def test_pack_rejects_non_septets() -> None:
    with pytest.raises(ValueError, match="out of range"):
        gsm7.pack_septets([0x80])


def test_chunks_never_split_an_escape_pair() -> None:
    chunks = gsm7.encode_chunks("a" * 152 + "€b", 153)
    assert [len(chunk) for chunk in chunks] == [152, 3]
    assert chunks[1][:2] == [gsm7.ESC, 0x65]


def test_chunk_size_must_hold_an_escape_pair() -> None:
    with pytest.raises(ValueError, match="chunk size"):
        gsm7.encode_chunks("a", 1)


@settings(max_examples=200, deadline=None)
@given(gsm_text)
def test_encode_decode_round_trip(text: str) -> None:
    septets = gsm7.encode_septets(text)
    assert gsm7.can_encode(text)
    assert len(septets) == gsm7.septet_length(text)
    assert gsm7.decode_septets(septets) == text


@settings(max_examples=200, deadline=None)
@given(gsm_text, st.integers(min_value=0, max_value=6))
def test_pack_unpack_round_trip(text: str, fill: int) -> None:
    septets = gsm7.encode_septets(text)
    packed = gsm7.pack_septets(septets, fill)
    assert len(packed) == (fill + 7 * len(septets) + 7) // 8
    assert gsm7.unpack_septets(packed, len(septets), fill) == septets


@settings(max_examples=200, deadline=None)
@given(gsm_text, st.integers(min_value=2, max_value=160))
def test_chunks_rejoin_and_respect_the_limit(text: str, size: int) -> None:
    chunks = gsm7.encode_chunks(text, size)
    assert all(len(chunk) <= size for chunk in chunks)
    assert all(not chunk or chunk[-1] != gsm7.ESC for chunk in chunks)
    assert "".join(gsm7.decode_septets(chunk) for chunk in chunks) == text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-5, max_value=300)))
def test_decode_never_raises(septets: list[int]) -> None:
    assert "\ufffd" not in gsm7.decode_septets(septets)
