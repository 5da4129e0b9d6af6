"""The radio network as the module sees it: registration, technology, operator and signal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Tech = Literal["LTE", "WCDMA", "GSM"]
RegistrationDomain = Literal["+CREG", "+CGREG", "+CEREG"]

REGISTRATION_DOMAINS: tuple[RegistrationDomain, ...] = ("+CREG", "+CGREG", "+CEREG")

ACCESS_TECHNOLOGY: dict[Tech, int] = {"LTE": 7, "WCDMA": 2, "GSM": 0}
"""<AcT> of +COPS and +CxREG (3GPP TS 27.007)."""

NETWORK_MODE: dict[Tech, int] = {"LTE": 8, "WCDMA": 4, "GSM": 1}
"""<stat> of +CNSMOD [obs: 8 = LTE]."""

REGISTERED = (1, 5)  # home, roaming


@dataclass
class Network:
    """What the network offers; whether the module is registered also needs SIM and radio on."""

    operator: str = "Callstack Test"
    plmn: str = "00101"
    stat: int = 1
    """Registration state the network grants once SIM and radio allow it (PS/EPS domain)."""
    cs_stat: int | None = None
    """+CREG state when it differs, e.g. 3 (denied) on a data-only SIM [obs]."""
    tech: Tech = "LTE"
    rssi: int = 20
    ber: int = 99
    lac: int = 0x3F29
    cell_id: int = 89815063
    call_waiting: bool = True
    """The subscriber's call waiting service (AT+CCWA=,<mode>): off, a second caller is busy."""
    cfun: int = 1
    """AT+CFUN level: 1 full, 4 radio off, 0 minimum (radio and SIM off)."""

    def stat_for(self, domain: RegistrationDomain, sim_ready: bool) -> int:
        """<stat> of one registration domain right now."""
        if not sim_ready or self.cfun != 1:
            return 0
        if domain == "+CREG" and self.cs_stat is not None:
            return self.cs_stat
        if domain == "+CEREG" and self.tech != "LTE":
            return 0
        return self.stat

    def location(self) -> str:
        """The `,"<lac|tac>","<ci>",<AcT>` tail that n=2 adds while registered."""
        return f',"{self.lac:04X}","{self.cell_id:08X}",{ACCESS_TECHNOLOGY[self.tech]}'

    def cpsi(self, registered: bool) -> str:
        """AT+CPSI? line: the LTE form follows a real capture; the others are [U]."""
        if not registered:
            return "+CPSI: NO SERVICE,Online"
        mcc_mnc = f"{self.plmn[:3]}-{self.plmn[3:]}"
        rssi_dbm10 = (-113 + 2 * self.rssi) * 10 if self.rssi != 99 else -1130
        if self.tech == "LTE":
            return (
                f"+CPSI: LTE,Online,{mcc_mnc},0x{self.lac:04X},{self.cell_id},125,"
                f"EUTRAN-BAND12,5035,2,2,-196,-1167,{rssi_dbm10},7"
            )
        if self.tech == "WCDMA":
            return (
                f"+CPSI: WCDMA,Online,{mcc_mnc},0x{self.lac:04X},{self.cell_id},"
                f"WCDMA IMT 2000,214,10713,0,1.0,{rssi_dbm10 // 10},33,40,500"
            )
        return (
            f"+CPSI: GSM,Online,{mcc_mnc},0x{self.lac:04X},{self.cell_id},"
            "27 EGSM 900,-64,2110,42-42"
        )
