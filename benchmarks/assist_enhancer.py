"""HA's own audio enhancer on the test speech (issue 16 §2): what it would do to recognition.

HA's Assist pipeline can run speex's noise suppression (levels 0-4) and auto gain (0-31
dBFS) on a satellite's audio before speech-to-text, but the satellite API
(``AssistSatelliteEntity.async_accept_pipeline_from_satellite``, HA 2025.4.4 and 2026.11)
builds ``AudioSettings(silence_seconds=...)`` only, so Callstack cannot turn them on. This
measures what they would change:

- the recorded call speech in ``tests/stack/data/*.wav`` (8 kHz), clean and with seeded
  white noise added at 8 kHz (as on the line) at 20 and 10 dB SNR, the SNR taken over the
  whole recording (pauses included, so during speech it is somewhat better);
- upsampled to 16 kHz by Callstack's own upsampler (what the satellite feeds the pipeline),
  in 20 ms frames (640 bytes, as the satellite sends them);
- cut into 10 ms chunks and enhanced exactly as HA's ``PipelineRun.process_enhance_audio``
  does: HA's ``chunk_samples`` with the run's leftover buffer, one ``MicroVadSpeexEnhancer``
  per run (VAD on, as the satellite's runs have it), ``enhance_chunk`` on each chunk;
  setting (0, 0) is what Callstack's turns get today;
- transcribed in-process by the dev stack's offline STT (``scripts/wyoming_stt.py``'s
  ``Recognizer``): the general English model and the commands model built from
  ``config/assist_sentences.txt`` (what ``--sentences`` builds). The whole recording is
  decoded; HA's own VAD, which ends the STT stream, is left out (it reads the enhancer's
  VAD score, not its audio).

Word errors are the word-level edit distance to the phrase the file is named after. The
commands model knows only the sentences file's words, so it can get only the kitchen light
right.

Run alone with ``python -m benchmarks.assist_enhancer`` (about two minutes); it is not part
of ``scripts/bench``.
"""

from __future__ import annotations

from array import array
import importlib.util
import math
from pathlib import Path
import random
import sys
import time
from types import ModuleType
import wave

from homeassistant.components.assist_pipeline.audio_enhancer import MicroVadSpeexEnhancer
from homeassistant.components.assist_pipeline.const import BYTES_PER_CHUNK
from homeassistant.components.assist_pipeline.vad import AudioBuffer, chunk_samples

from custom_components.callstack.sim7600.resample import upsample

REPO = Path(__file__).resolve().parent.parent
SPEECH = sorted((REPO / "tests" / "stack" / "data").glob("*.wav"))
SENTENCES = REPO / "config" / "assist_sentences.txt"
NOISE_SNR_DB: list[float | None] = [None, 20.0, 10.0]  # None: the recording as it is
NOISE_SUPPRESSION = [0, 1, 2, 3, 4]
AUTO_GAIN_DBFS = [0, 15, 31]
SATELLITE_FRAME = 640  # bytes: 20 ms at 16 kHz, what the satellite hands the pipeline
SEED = 16
COMMAND = "turn on the kitchen light"


def _stt_module() -> ModuleType:
    """``scripts/wyoming_stt.py`` (a script, not a package) as a module."""
    spec = importlib.util.spec_from_file_location(
        "wyoming_stt", REPO / "scripts" / "wyoming_stt.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_speech(path: Path) -> bytes:
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        return wav.readframes(wav.getnframes())


def with_noise(pcm: bytes, snr_db: float, seed: int) -> bytes:
    """``pcm`` plus white Gaussian noise ``snr_db`` below its power, clipped to 16 bits."""
    samples = array("h", pcm)
    power = sum(s * s for s in samples) / len(samples)
    sigma = math.sqrt(power / 10 ** (snr_db / 10))
    rng = random.Random(seed)
    noisy = array("h", (max(-32768, min(32767, round(s + rng.gauss(0.0, sigma)))) for s in samples))
    return noisy.tobytes()


def enhanced(pcm16k: bytes, auto_gain: int, noise_suppression: int) -> bytes:
    """What HA's pipeline hands speech-to-text for this audio at this setting."""
    enhancer = MicroVadSpeexEnhancer(auto_gain, noise_suppression, True)
    leftover = AudioBuffer(BYTES_PER_CHUNK)
    out = bytearray()
    timestamp_ms = 0
    for start in range(0, len(pcm16k), SATELLITE_FRAME):
        for chunk in chunk_samples(
            pcm16k[start : start + SATELLITE_FRAME], BYTES_PER_CHUNK, leftover
        ):
            out += enhancer.enhance_chunk(chunk, timestamp_ms).audio
            timestamp_ms += 10
    return bytes(out)


def word_errors(heard: str, expected: str) -> int:
    """Substitutions, insertions and deletions from ``expected`` to ``heard`` (words)."""
    ref, hyp = expected.split(), heard.split()
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            previous, row[j] = (
                row[j],
                min(row[j] + 1, row[j - 1] + 1, previous + (word != other)),
            )
    return row[-1]


def main() -> None:
    stt = _stt_module()
    models = {
        "general": stt.Recognizer(),
        "commands": stt.Recognizer(stt.read_sentences(SENTENCES)),
    }
    began = time.monotonic()
    header = "| Speech | Noise | NS | AG dBFS | " + " | ".join(
        f"{name} model (word errors)" for name in models
    )
    print(header + " |")
    print("|" + " --- |" * (4 + len(models)))
    errors: dict[tuple[str, str, str, int, int], int] = {}
    phrases = [path.stem.replace("-", " ") for path in SPEECH]
    for index, path in enumerate(SPEECH):
        expected = path.stem.replace("-", " ")
        clean = read_speech(path)
        for snr in NOISE_SNR_DB:
            noise = "none" if snr is None else f"{snr:g} dB SNR"
            line = clean if snr is None else with_noise(clean, snr, SEED + index)
            pcm16k = upsample(line)
            for level in NOISE_SUPPRESSION:
                for gain in AUTO_GAIN_DBFS:
                    audio = enhanced(pcm16k, gain, level)
                    cells = []
                    for name, recognizer in models.items():
                        heard = recognizer.transcribe(audio)
                        count = word_errors(heard, expected)
                        errors[name, expected, noise, level, gain] = count
                        mark = "✓" if count == 0 else str(count)
                        cells.append(f"{heard or '(nothing)'} ({mark})")
                    print(
                        f"| {expected} | {noise} | {level} | {gain} | " + " | ".join(cells) + " |"
                    )
                    sys.stdout.flush()
    print()
    print(
        "Per setting: the general model's word errors over the three phrases (of "
        f"{sum(len(p.stem.split('-')) for p in SPEECH)} words) and how many it heard exactly; "
        f"the commands model's word errors on {COMMAND!r} (the only phrase it can know)."
    )
    print()
    noises = ["none" if snr is None else f"{snr:g} dB SNR" for snr in NOISE_SNR_DB]
    print(
        "| NS | AG dBFS | " + " | ".join(f"{noise}: general / commands" for noise in noises) + " |"
    )
    print("|" + " --- |" * (2 + len(noises)))
    for level in NOISE_SUPPRESSION:
        for gain in AUTO_GAIN_DBFS:
            cells = []
            for noise in noises:
                general = [errors[("general", phrase, noise, level, gain)] for phrase in phrases]
                command = errors[("commands", COMMAND, noise, level, gain)]
                exact = sum(not count for count in general)
                cells.append(f"{sum(general)} ({exact} exact) / {command}")
            print(f"| {level} | {gain} | " + " | ".join(cells) + " |")
    print()
    print(f"({time.monotonic() - began:.0f} s)")


if __name__ == "__main__":
    main()
