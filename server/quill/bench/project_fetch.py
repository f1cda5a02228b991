"""The projects ``quill bench context`` runs on: a local folder, or a pinned sdist
(``NAME==VERSION``) downloaded with pip once into a cache and unpacked there."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import platformdirs

__all__ = ["default_cache_dir", "fetch_project"]

PIP_TIMEOUT_S = 600
_SPEC = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9][A-Za-z0-9.+!_-]*)$")


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("quill")) / "bench-projects"


def _only_dir(folder: Path) -> Path:
    subdirs = [p for p in folder.iterdir() if p.is_dir()]
    return subdirs[0] if len(subdirs) == 1 else folder


def fetch_project(spec: str, cache_dir: Path) -> Path:
    """The project's folder: ``spec`` itself when it is a folder, else the unpacked sdist of
    ``NAME==VERSION`` (downloaded with pip once into ``cache_dir``). Raises ``ValueError``
    with a one-line reason when it cannot."""
    local = Path(spec).expanduser()
    if local.is_dir():
        return local.resolve()
    m = _SPEC.match(spec.strip())
    if m is None:
        raise ValueError(f"{spec!r} is neither a folder nor NAME==VERSION")
    name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
    key = f"{name}-{m.group(2)}"
    target = cache_dir / key
    if (target / ".quill-complete").is_file():
        return _only_dir(target / "src")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{key}-", dir=cache_dir) as tmp:
        downloads = Path(tmp) / "downloads"
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--quiet",
            spec.strip(),
            "-d",
            str(downloads),
        ]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ValueError(f"pip download failed: {exc}") from exc
        archives = sorted(downloads.glob("*")) if downloads.is_dir() else []
        if proc.returncode != 0 or not archives:
            lines = [
                line
                for line in (proc.stderr or proc.stdout).splitlines()
                if line.strip() and "is ignored" not in line
            ]
            raise ValueError(
                f"pip download exited {proc.returncode}: {lines[-1] if lines else 'no archive'}"
            )
        unpacked = Path(tmp) / "src"
        unpacked.mkdir()
        _unpack(archives[0], unpacked)
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        (unpacked).rename(target / "src")
        (target / ".quill-complete").write_text(spec.strip() + "\n", encoding="utf-8")
    return _only_dir(target / "src")


def _unpack(archive: Path, dest: Path) -> None:
    name = archive.name
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                resolved = (dest / member).resolve()
                if not resolved.is_relative_to(dest.resolve()):
                    raise ValueError(f"{name}: unsafe path {member!r}")
            zf.extractall(dest)
        return
    if ".tar" in name or name.endswith(".tgz"):
        with tarfile.open(archive) as tf:
            tf.extractall(dest, filter="data")
        return
    raise ValueError(f"{name}: not an sdist archive")
