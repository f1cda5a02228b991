"""The embedded model converted once to the fast CPU format, with llama.cpp's own quantizer,
into the cache; loaded from there; the original file when the conversion cannot be made."""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import pytest

from quill.config import ModelSettings
from quill.models.base import GenerationOptions
from quill.models.local import LocalProvider
from quill.models.quantize import cached_path, target_for, weights_for


def _ggml_type_counts(path: Path) -> dict[int, int]:
    """How many tensors of each ggml type a GGUF file holds (read from its header)."""
    with path.open("rb") as f:
        magic, _version, n_tensors, n_kv = struct.unpack("<4sIQQ", f.read(24))
        assert magic == b"GGUF"

        def read_str() -> bytes:
            (n,) = struct.unpack("<Q", f.read(8))
            return f.read(n)

        sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

        def skip_value(kind: int) -> None:
            if kind == 8:
                read_str()
            elif kind == 9:
                inner, count = struct.unpack("<IQ", f.read(12))
                for _ in range(count):
                    skip_value(inner)
            else:
                f.read(sizes[kind])

        for _ in range(n_kv):
            read_str()
            (kind,) = struct.unpack("<I", f.read(4))
            skip_value(kind)
        counts: dict[int, int] = {}
        for _ in range(n_tensors):
            read_str()
            (dims,) = struct.unpack("<I", f.read(4))
            f.read(8 * dims)
            (ggml_type,) = struct.unpack("<I", f.read(4))
            f.read(8)
            counts[ggml_type] = counts.get(ggml_type, 0) + 1
    return counts


Q4_0, Q4_1 = 2, 3


def test_auto_converts_only_the_embedded_model() -> None:
    assert target_for("auto", embedded=True) == "q4_0"
    assert target_for("auto", embedded=False) is None
    assert target_for("as-is", embedded=True) is None
    assert target_for("q8_0", embedded=False) == "q8_0"


def test_the_embedded_model_is_converted_once_into_the_cache(
    gguf_path: Path, tmp_path: Path
) -> None:
    assert max(_ggml_type_counts(gguf_path).items(), key=lambda kv: kv[1])[0] == Q4_1
    out = weights_for(gguf_path, "q4_0", tmp_path)
    assert out == cached_path(gguf_path, "q4_0", tmp_path) and out.parent == tmp_path
    counts = _ggml_type_counts(out)
    assert max(counts.items(), key=lambda kv: kv[1])[0] == Q4_0, counts
    made = out.stat().st_mtime_ns
    assert weights_for(gguf_path, "q4_0", tmp_path) == out
    assert out.stat().st_mtime_ns == made  # not converted again
    assert not list(tmp_path.glob("*.part"))  # no temporary file left behind


def test_a_file_that_cannot_be_converted_is_loaded_as_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    with caplog.at_level(logging.WARNING):
        assert weights_for(broken, "q4_0", tmp_path / "cache") == broken
    assert "cannot convert" in caplog.text
    assert not list((tmp_path / "cache").glob("*"))
    assert weights_for(broken, None, tmp_path / "cache") == broken


async def test_the_provider_loads_the_converted_file_and_answers(gguf_path: Path) -> None:
    provider = LocalProvider("local", ModelSettings(provider="local", context_size=512))
    try:
        health = await provider.probe()
        assert health.healthy and health.model.endswith(".gguf as Q4_0"), health.model
        assert provider.model_id.endswith(":q4_0")
        text = "".join(
            [p async for p in provider.stream_completion("def add(a, b):\n", GenerationOptions(8))]
        )
        assert text.strip()
    finally:
        await provider.aclose()
    as_is = LocalProvider("local", ModelSettings(provider="local", quantization="as-is"))
    try:
        health = await as_is.probe()
        assert health.healthy and "converted" not in health.message
    finally:
        await as_is.aclose()
