"""What the host configures with AT commands; a reboot restores these defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Settings:
    """Per-power-cycle settings. Integers carry the value the host set, as the module reports it."""

    echo: bool = True
    cmee: int = 0
    clip: int = 0
    clcc: int = 0
    crc: int = 0
    ccwa: int = 0
    colp: int = 0
    cvhu: int = 1
    cusd: int = 0
    cnmi: tuple[int, int, int, int, int] = (2, 1, 0, 0, 0)
    cmgf: int = 0
    cscs: str = "IRA"
    csmp: tuple[int, int, int, int] = (17, 167, 0, 0)
    cpcmfrm: int = 0
    cpcmbandwidth: tuple[int, int] = (0, 0)
    creg: int = 0
    cgreg: int = 0
    cereg: int = 0
    cnsmod: int = 0
    cops_format: int = 0
    clvl: int = 4
    cmut: int = 0
    vtd: int = 1
    ddet: int = 0
    csdvc: int = 1
