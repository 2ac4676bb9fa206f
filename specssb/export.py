"""Write Spectra and cycler tables to open formats: CSV, Parquet and JSON.

Every file is written atomically (a temporary file renamed into place), so an interrupted
conversion never leaves a half-written output, and inputs are never touched.

CSV files start with ``#`` comment lines giving the provenance (specssb version, source file,
SHA-256, block, normalized metadata) and then a tidy table (one row per point, see
:meth:`specssb.Spectrum.to_dataframe`); read them back with ``pandas.read_csv(path,
comment="#")``. Parquet files hold the same table, with the provenance as JSON in the file's
key-value metadata under ``specssb``. JSON files hold :meth:`Spectrum.summary` plus the arrays.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from specssb._io import atomic_path, atomic_write_text, atomic_write_with, jsonable, to_json
from specssb._version import __version__
from specssb.errors import ConfigError
from specssb.spectrum import Spectrum

__all__ = ["EXPORT_FORMATS", "export_name", "write_spectrum", "write_table"]

#: Output formats of :func:`write_spectrum` and :func:`write_table`.
EXPORT_FORMATS = ("csv", "parquet", "json")


def export_name(source_path: str, block: Any, index: int, count: int, suffix: str) -> str:
    """File name for one exported spectrum: ``<stem>[_<block or index>].<suffix>``.

    Parameters
    ----------
    source_path : str
        The input file or folder.
    block : str or int or None
        The block label of the spectrum inside the file.
    index, count : int
        Position of the spectrum in the file's list and the list's length.
    suffix : str
        ``csv``, ``parquet`` or ``json``.
    """
    path = Path(source_path)
    stem = path.name if path.is_dir() or not path.suffix else path.stem
    if count > 1:
        label = str(block) if block not in (None, "") else str(index)
        stem = f"{stem}_{index:03d}_{_slug(label)}" if label != str(index) else f"{stem}_{index:03d}"
    return f"{stem}.{suffix}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", text).strip("_")[:60] or "block"


def write_spectrum(spectrum: Spectrum, target: str | Path, *, to: str) -> Path:
    """Write one Spectrum to ``target`` as CSV, Parquet or JSON (atomically).

    Parameters
    ----------
    spectrum : Spectrum
    target : str or Path
        Output file.
    to : {"csv", "parquet", "json"}

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ConfigError
        For an unknown output format.
    """
    target = Path(target)
    provenance = _provenance(spectrum)
    if to == "csv":
        frame = spectrum.to_dataframe()

        def write(stream: Any) -> None:
            for key, value in provenance.items():
                stream.write(f"# {key}: {json.dumps(jsonable(value), ensure_ascii=False)}\n")
            units = frame.attrs.get("units", {})
            stream.write(f"# units: {json.dumps(units)}\n")
            frame.to_csv(stream, index=False)

        atomic_write_with(target, write)
    elif to == "parquet":
        _write_parquet(spectrum.to_dataframe(), target, provenance)
    elif to == "json":
        document = {**spectrum.summary(), "provenance": provenance}
        document["axis"]["values"] = spectrum.axis.values
        if np.iscomplexobj(spectrum.data):
            document["data"] = {"real": spectrum.data.real, "imag": spectrum.data.imag}
        else:
            document["data"] = spectrum.data
        atomic_write_text(target, to_json(document) + "\n")
    else:
        raise ConfigError(f"unknown output format {to!r}; choose one of {EXPORT_FORMATS}", key="to")
    return target


def write_table(table: pd.DataFrame, target: str | Path, *, to: str) -> Path:
    """Write a cycler table (from :func:`specssb.read_cycler`) as CSV, Parquet or JSON.

    Raises
    ------
    ConfigError
        For an unknown output format.
    """
    target = Path(target)
    source = table.attrs.get("source")
    provenance = {"specssb": __version__, "source": jsonable(source)}
    plain = pd.DataFrame(table)
    plain.attrs = {}
    if to == "csv":

        def write(stream: Any) -> None:
            stream.write(f"# provenance: {json.dumps(provenance)}\n")
            plain.to_csv(stream, index=False)

        atomic_write_with(target, write)
    elif to == "parquet":
        _write_parquet(plain, target, provenance)
    elif to == "json":
        atomic_write_text(target, plain.to_json(orient="records", date_format="iso") + "\n")
    else:
        raise ConfigError(f"unknown output format {to!r}; choose one of {EXPORT_FORMATS}", key="to")
    return target


def _write_parquet(frame: pd.DataFrame, target: Path, provenance: dict[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[b"specssb"] = json.dumps(jsonable(provenance)).encode()
    with atomic_path(target) as temporary:
        pq.write_table(table.replace_schema_metadata(metadata), temporary)


def _provenance(spectrum: Spectrum) -> dict[str, Any]:
    return {
        "specssb": __version__,
        "technique": spectrum.technique,
        "signal": f"{spectrum.signal} ({spectrum.signal_unit})",
        "source": spectrum.source,
        "meta": dict(spectrum.meta),
        "history": [step.to_dict() for step in spectrum.history],
    }


def output_names(spectra: Sequence[Spectrum], source_path: str, to: str) -> list[str]:
    """Unique output file names for the spectra read from one input."""
    return [
        export_name(source_path, s.source.block if s.source else None, i, len(spectra), to)
        for i, s in enumerate(spectra)
    ]
