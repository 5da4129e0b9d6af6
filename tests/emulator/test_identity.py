"""The fake identity: deterministic, valid, and distinct from ordinary text."""

from __future__ import annotations

from sim7600_emulator import Identity
from sim7600_emulator.identity import luhn_check_digit


def luhn_valid(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


def test_seeded_identity_is_deterministic_and_valid() -> None:
    identity = Identity.seeded(0)
    assert identity == Identity.seeded(0)
    assert identity != Identity.seeded(1)
    assert len(identity.imei) == 15
    assert identity.imei.startswith("86")
    assert luhn_valid(identity.imei)
    assert luhn_valid("490154203237518")  # a published valid IMEI
    assert len(identity.imsi) == 15
    assert len(identity.iccid) in (19, 20)
    assert luhn_valid(identity.iccid)
    assert identity.msisdn.startswith("+4915550")
    assert all(number.startswith("+49155") for number in identity.callers)
    assert [number[3:] for number in identity.callers] == [
        number[1:] for number in identity.callers_national
    ]
    assert 4 <= len(identity.pin) <= 8


def test_secrets_cover_every_pii_value() -> None:
    identity = Identity.seeded(3)
    secrets = identity.secrets()
    for value in (identity.imei, identity.imsi, identity.iccid, identity.msisdn, identity.pin):
        assert value in secrets
    assert identity.msisdn.removeprefix("+") in secrets
    assert set(identity.sms_bodies) <= set(secrets)
    assert set(identity.ussd_texts) <= set(secrets)
    assert set(identity.callers_national) <= set(secrets)
    assert identity.smsc not in secrets
