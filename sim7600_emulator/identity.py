"""The fake subscriber and device: numbers and texts that are PII on a real module.

Every value is made to stand out (IMEI 86..., numbers +4915550..., bodies with a random code
word), so a privacy test can search logs for identity.secrets() without false alarms.
"""

from __future__ import annotations

from dataclasses import dataclass
import random
import string


def luhn_check_digit(payload: str) -> str:
    """The Luhn digit that completes `payload` (IMEI, ICCID)."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str(-total % 10)


@dataclass(frozen=True)
class Identity:
    """Device and subscriber identity; the same seed always gives the same values."""

    imei: str
    imsi: str
    iccid: str
    msisdn: str
    smsc: str
    callers: tuple[str, ...]
    """Caller numbers in international format (+49...)."""
    callers_national: tuple[str, ...]
    """The same subscribers in national format (0155...)."""
    sms_bodies: tuple[str, ...]
    """Message texts; the last one needs UCS2."""
    ussd_texts: tuple[str, ...]
    pin: str
    puk: str

    @classmethod
    def seeded(cls, seed: int) -> Identity:
        """A deterministic identity. The PIN has 8 digits (the maximum) so it is rare in logs."""
        rng = random.Random(seed)

        def digits(count: int) -> str:
            return "".join(rng.choice(string.digits) for _ in range(count))

        def code_word() -> str:
            return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(8))

        imei = "86" + digits(12)
        iccid = "8900101" + digits(12)
        callers = tuple(f"+49155{51 + i}{digits(6)}" for i in range(3))
        return cls(
            imei=imei + luhn_check_digit(imei),
            imsi="00101" + digits(10),
            iccid=iccid + luhn_check_digit(iccid),
            msisdn="+4915550" + digits(6),
            smsc="+4915559" + digits(6),
            callers=callers,
            callers_national=tuple("0" + number[3:] for number in callers),
            sms_bodies=(
                f"Parcel {code_word()} is ready for pickup",
                f"Meet at gate {code_word()} tomorrow",
                f"Grüße aus {code_word()} \U0001f600",
            ),
            ussd_texts=(
                f"Balance {rng.randint(1, 99)}.{digits(2)} EUR, ref {code_word()}",
                f"Data left {rng.randint(1, 20)} GB, ref {code_word()}",
            ),
            pin="9" + digits(7),
            puk=digits(8),
        )

    def secrets(self) -> list[str]:
        """Every PII string, with international numbers also without their '+'."""
        numbers = [self.msisdn, *self.callers]
        return [
            self.imei,
            self.imsi,
            self.iccid,
            *numbers,
            *(number.removeprefix("+") for number in numbers),
            *self.callers_national,
            *self.sms_bodies,
            *self.ussd_texts,
            self.pin,
            self.puk,
        ]
