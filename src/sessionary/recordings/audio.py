"""A short generated recording (a WAV tone), for the demo data and tests: no network, no model."""

from __future__ import annotations

import io
import math
import struct
import wave


def tone_wav(
    *, seconds: float = 1.0, frequency: float = 440.0, sample_rate: int = 8000, volume: float = 0.3
) -> bytes:
    """A mono 16-bit PCM WAV of a sine tone, faded in and out over 10 ms (no clicks)."""
    if seconds <= 0 or sample_rate <= 0 or not 0 <= volume <= 1:
        raise ValueError("seconds and sample_rate must be positive, volume within 0..1")
    count = round(seconds * sample_rate)
    fade = max(1, min(count // 2, sample_rate // 100))
    peak = volume * 32767
    samples = []
    for n in range(count):
        envelope = min(1.0, n / fade, (count - 1 - n) / fade)
        samples.append(round(peak * envelope * math.sin(2 * math.pi * frequency * n / sample_rate)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(struct.pack(f"<{count}h", *samples))
    return buffer.getvalue()
