"""Build small PHI MultiPak files in memory for the phi-spe and phi-pro tests.

The layout is the one documented in ``specssb/parsers/_phi_header.py`` (ASCII header between
SOFH and EOFH, a 16-byte directory header, 96-byte records, then the data blocks).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Region:
    name: str
    atomic_number: int
    start_ev: float
    step_ev: float
    values: np.ndarray  # (n_slow, n_points)
    dwell_time_s: float = 0.1
    pass_energy_ev: float = 23.5
    sweeps: int = 4


@dataclass
class Table:
    unit: str
    values: np.ndarray  # (n_regions, n_levels)
    fast: str = "cyc"
    slow: str = "reg"


@dataclass
class PhiFile:
    regions: list[Region]
    file_type: str = "SPECTRUM"
    dtype: str = "f4"
    eol: bytes = b"\r\n"
    date: str = "2024 1 22"
    extra: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    slow_label: str = "sar"

    def header_lines(self) -> list[str]:
        lines = [
            "SOFH", "Platform: PC", "Technique: XPS", f"FileType: {self.file_type}",
            "FileDesc: (1, LPSCl_cycle3)", "InstrumentModel: PHI Test", f"AcqFileDate: {self.date}",
            "AnalyserWorkFcn: 4.250 eV", "SourceAnalyserAngle: 45.0 d",
            "IntensityCalCoeff: 14.371 0.143", "AnalyserMode: FAT", *self.extra,
            f"NoSpectralReg: {len(self.regions)}",
        ]
        for number, r in enumerate(self.regions, start=1):
            n = r.values.shape[-1]
            end = r.start_ev + (n - 1) * r.step_ev
            lines.append(f"SpectralRegDef: {number} {number} {r.name} {r.atomic_number} {n} "
                         f"{r.step_ev:.4f} {r.start_ev:.4f} {end:.4f} {r.start_ev - 1:.4f} "
                         f"{end + 1:.4f} {r.dwell_time_s:.6f} {r.pass_energy_ev:.2f} AREA")
            lines.append(f"SpectralRegDef2: {number} {abs(end - r.start_ev):.1f} {r.sweeps} 0 6 1")
        lines += ["SpatialAreaDesc: 1 cathode side", "XraySource: Al 1486.6 mono", "EOFH"]
        return lines

    def to_bytes(self) -> bytes:
        header = self.eol.join(line.encode("latin-1") for line in self.header_lines()) + self.eol
        blocks = [(number, r.values, "pnt", self.slow_label, "c/s")
                  for number, r in enumerate(self.regions, start=1)]
        blocks += [(0, t.values, t.fast, t.slow, t.unit) for t in self.tables]
        n = len(blocks)
        directory = struct.pack("<4I", 1, n, 96 * n, 16)
        offset = 16 + 96 * n
        records, payload = b"", b""
        dtype = np.dtype("<" + self.dtype)
        for index, (region_number, values, fast, slow, unit) in enumerate(blocks, start=1):
            values = np.atleast_2d(np.asarray(values, dtype=dtype))
            n_slow, n_fast = values.shape
            words = [0] * 24
            words[0], words[1], words[2], words[3] = index, 1, 1, region_number
            words[4], words[5], words[6], words[7] = 1, n_fast, n_slow, 1
            raw = bytearray(struct.pack("<24I", *words))
            raw[32:36] = fast.encode().ljust(4, b"\x00")
            raw[40:44] = slow.encode().ljust(4, b"\x00")
            raw[56:64] = unit.encode().ljust(8, b"\x00")
            raw[72:76] = self.dtype.encode().ljust(4, b"\x00")
            struct.pack_into("<2I", raw, 76, values.nbytes, offset)
            records += bytes(raw)
            payload += values.tobytes()
            offset += values.nbytes
        return header + directory + records + payload


def s2p_region(n: int = 101, n_slow: int = 1, scale: float = 1.0) -> Region:
    """An S 2p region: a Gaussian doublet on a flat background, counts/s."""
    binding = 170.0 - 0.1 * np.arange(n)
    peak = np.exp(-0.5 * ((binding - 162.0) / 0.5) ** 2) + 0.5 * np.exp(
        -0.5 * ((binding - 163.18) / 0.5) ** 2)
    values = np.array([1000.0 + 5000.0 * scale * (k + 1) * peak for k in range(n_slow)])
    return Region("S2p", 16, 170.0, -0.1, values)
