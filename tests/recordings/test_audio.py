"""The generated demo recording is a real WAV of the asked length."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from sessionary.recordings.audio import tone_wav


def test_tone_wav_is_a_mono_16_bit_wav_of_the_asked_length_and_not_silent() -> None:
    data = tone_wav(seconds=0.5, frequency=440, sample_rate=8000)
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() == 4000
        samples = struct.unpack("<4000h", wav.readframes(4000))
    assert max(samples) > 9000  # 0.3 of full scale
    assert samples[0] == 0  # faded in
    assert abs(samples[-1]) < 100  # and out


def test_tone_wav_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        tone_wav(seconds=0)
