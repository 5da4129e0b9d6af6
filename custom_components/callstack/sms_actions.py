"""Sending SMS from Home Assistant: one place that maps driver errors to HA errors,
shared by the ``send_sms`` action and the notify entity."""

from __future__ import annotations

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import CallstackConfigEntry
from .message_log import LoggedMessage
from .sim7600 import validate
from .sim7600.errors import InvalidArgumentError, PortClosedError, Sim7600Error
from .sim7600.sms import MAX_PARTS, SendResult, SmsSendError, SmsSendInterruptedError
from .sim7600.sms_pdu import SmsTooLongError


async def async_send_sms(
    entry: CallstackConfigEntry, number: str, text: str, *, delivery_report: bool = False
) -> SendResult:
    """Send an SMS through the entry's modem, raising translated errors."""
    try:
        number = validate.sms_recipient(number)
    except InvalidArgumentError:
        raise _invalid("invalid_sms_recipient") from None
    if not text:
        raise _invalid("message_empty")
    try:
        validate.sms_text(text, MAX_PARTS)
    except SmsTooLongError:
        raise _invalid("message_too_long") from None
    except InvalidArgumentError:
        raise _invalid("invalid_message") from None
    modem = entry.runtime_data.modem
    if not modem.connected:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="modem_unavailable")
    try:
        result = await modem.send_sms(number, text, request_delivery_report=delivery_report)
    except SmsTooLongError:
        raise _invalid("message_too_long") from None
    except SmsSendError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key=f"sms_{err.reason}"
        ) from err
    except SmsSendInterruptedError as err:
        # Never a plain failure: a retry could deliver the parts that went out twice.
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="sms_send_interrupted" if err.unconfirmed else "sms_partly_sent",
            translation_placeholders={"sent": str(err.sent), "parts": str(err.parts)},
        ) from err
    except PortClosedError as err:
        key = "modem_closed" if err.closed else "modem_unavailable"
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key=key) from err
    except Sim7600Error as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="modem_unavailable"
        ) from err
    entry.runtime_data.messages.add(LoggedMessage("out", number, text, dt_util.utcnow()))
    return result


def _invalid(key: str) -> ServiceValidationError:
    return ServiceValidationError(translation_domain=DOMAIN, translation_key=key)
