"""Real speech for tests: espeak-ng (Debian; scripts/setup installs it) says a phrase.

Synthetic tones are not speech to pymicro-vad (the emulator's test signal scores below
0.01), so whatever must be heard as a caller speaking is made here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
import shutil
import subprocess
import tempfile
import wave

import audioop


@cache
def spoken(text: str, rate: int = 8000) -> bytes:
    """``text`` spoken by espeak-ng as 16-bit mono PCM at ``rate``."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise RuntimeError("espeak-ng is missing: run scripts/setup (it installs it)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "speech.wav"
        subprocess.run([binary, "-w", str(path), text], check=True, capture_output=True)
        with wave.open(str(path), "rb") as wav:
            pcm, source_rate = wav.readframes(wav.getnframes()), wav.getframerate()
    converted, _ = audioop.ratecv(pcm, 2, 1, source_rate, rate, None)
    return converted


def spoken_wav(text: str, path: Path, rate: int = 8000) -> Path:
    """``text`` spoken into a 16-bit mono WAV file at ``rate``."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(spoken(text, rate))
    return path
