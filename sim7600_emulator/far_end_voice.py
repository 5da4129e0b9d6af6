"""What the far end says into the call, and saving what it heard.

By default the far end speaks `pcm_signal.test_signal`, so tests can place every captured
sample. A scenario can make it speak a WAV file (any PCM rate, width and channel count,
converted to the stream's format as a phone's codec would: band-limited below half the
call's rate first, see `band_limited`) or a tone instead, once or looped; after a voice that is
not looped the far end is silent. What the host played into the call can be written to a
WAV file anyone can listen to.
"""

from __future__ import annotations

import math
from pathlib import Path
import wave

import audioop

SAMPLE_WIDTH = 2
_WIDE = 4  # the low-pass accumulates in 32-bit
_HEADROOM = 0.25  # 16-bit samples widened to 32-bit, 2 bits down: sums of products fit
_PASS = 0.45  # the low-pass's cutoff, as a fraction of the lower rate (3.6 kHz at 8 kHz)
_TRANSITION = 0.05  # its transition band, the same way (0.4 kHz at 8 kHz)
_BETA = 6.0  # Kaiser window: about 60 dB stop-band attenuation


class Voice:
    """PCM to speak, converted to the stream's rate when the stream starts."""

    def __init__(self, pcm: bytes, rate: int, *, loop: bool = False, label: str = "pcm") -> None:
        if not pcm:
            raise ValueError("the voice holds no audio")
        self._source = pcm
        self._source_rate = rate
        self.loop = loop
        self.label = label
        self._pcm = pcm
        self._rate = rate
        self._position = 0

    def restart(self, rate: int) -> None:
        """Speak from the beginning, at the stream's `rate`."""
        if rate != self._rate:
            source = self._source
            if rate < self._source_rate:
                source = band_limited(source, self._source_rate, rate)
            self._pcm, _ = audioop.ratecv(source, SAMPLE_WIDTH, 1, self._source_rate, rate, None)
            self._rate = rate
        self._position = 0

    @property
    def finished(self) -> bool:
        """A voice that is not looped has said everything."""
        return not self.loop and self._position >= len(self._pcm)

    def take(self, samples: int) -> bytes:
        """The next `samples` samples (silence once a voice that does not loop is done)."""
        want = samples * SAMPLE_WIDTH
        out = bytearray()
        while len(out) < want:
            if self._position >= len(self._pcm):
                if not self.loop:
                    break
                self._position = 0
            part = self._pcm[self._position : self._position + want - len(out)]
            self._position += len(part)
            out += part
        return bytes(out.ljust(want, b"\0"))


def band_limited(pcm: bytes, rate: int, to_rate: int) -> bytes:
    """16-bit mono ``pcm`` at ``rate`` without what lies above ``to_rate``'s band.

    ``audioop.ratecv`` only interpolates: going down from a WAV file's 22.05 kHz to a
    call's 8 kHz it folds everything between 4 and 11 kHz (a voice's fricatives and
    bursts) back into the voice band as noise, which no phone does and which speech
    recognition hears (the dev stack's pocketsphinx misheard every sentence of espeak-ng
    that way). So a Kaiser-windowed sinc low-pass (cutoff 0.45 of the lower rate, 60 dB
    down past 0.5 of it) runs first, as one ``audioop`` multiply-add per tap over the
    whole file (once per call, not per frame).
    """
    cutoff = _PASS * to_rate / rate  # cycles per sample
    width = _TRANSITION * to_rate / rate
    half = math.ceil((60 - 8) / (2.285 * 2 * math.pi * width) / 2)
    taps = []
    for k in range(-half, half + 1):
        ideal = (
            2
            * cutoff
            * (math.sin(2 * math.pi * cutoff * k) / (2 * math.pi * cutoff * k) if k else 1.0)
        )
        window = _bessel_i0(_BETA * math.sqrt(1 - (k / (half + 1)) ** 2)) / _bessel_i0(_BETA)
        taps.append(ideal * window)
    gain = sum(taps)
    padded = bytes(half * SAMPLE_WIDTH) + pcm + bytes(half * SAMPLE_WIDTH)
    wide = audioop.mul(audioop.lin2lin(padded, SAMPLE_WIDTH, _WIDE), _WIDE, _HEADROOM)
    count = len(pcm) // SAMPLE_WIDTH
    out = bytes(count * _WIDE)
    for index, tap in enumerate(taps):
        part = wide[index * _WIDE : (index + count) * _WIDE]
        out = audioop.add(out, audioop.mul(part, _WIDE, tap / gain), _WIDE)
    return audioop.lin2lin(audioop.mul(out, _WIDE, 1 / _HEADROOM), _WIDE, SAMPLE_WIDTH)


def _bessel_i0(x: float) -> float:
    """The modified Bessel function of order 0 (its power series; converges fast)."""
    total, term, k = 1.0, 1.0, 1
    while term > 1e-12 * total:
        term *= (x / (2 * k)) ** 2
        total += term
        k += 1
    return total


def tone(frequency: float, rate: int = 8000, amplitude: int = 8000) -> Voice:
    """A looped sine tone (one second of it, whole periods for integral frequencies)."""
    if not 20 <= frequency <= rate / 2:
        raise ValueError("the tone must lie between 20 Hz and half the sample rate")
    samples = [round(amplitude * math.sin(2 * math.pi * frequency * n / rate)) for n in range(rate)]
    pcm = b"".join(value.to_bytes(2, "little", signed=True) for value in samples)
    return Voice(pcm, rate, loop=True, label=f"tone {frequency:g} Hz")


def wav_voice(path: Path, *, loop: bool = False) -> Voice:
    """A WAV file (integer PCM of any width, channels and rate) as the far end's voice."""
    pcm, rate = read_pcm(path)
    return Voice(pcm, rate, loop=loop, label=path.name)


def read_pcm(path: Path) -> tuple[bytes, int]:
    """A WAV file's audio as 16-bit mono PCM, and its rate."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            pcm = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as error:
        raise ValueError(f"not a PCM WAV file: {error}") from error
    if width == 1:
        pcm = audioop.bias(pcm, 1, -128)
    if width != SAMPLE_WIDTH:
        pcm = audioop.lin2lin(pcm, width, SAMPLE_WIDTH)
    if channels == 2:
        pcm = audioop.tomono(pcm, SAMPLE_WIDTH, 0.5, 0.5)
    elif channels != 1:
        raise ValueError("only mono and stereo WAV files")
    return pcm, rate


def save_wav(path: Path, pcm: bytes, rate: int) -> int:
    """Write 16-bit mono `pcm` to `path`; returns the number of samples."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(rate)
        wav.writeframes(pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH])
    return len(pcm) // SAMPLE_WIDTH
