"""Bruker TopSpin / XWIN-NMR experiment folders: raw ``fid``/``ser`` and processed ``pdata/N``.

A Bruker data set is a folder, not a file::

    <expno>/acqus  acqu2s  acqu3s  fid | ser  pulseprogram  vdlist | vclist | vplist | gradlist
    <expno>/gradlist3                                    (2D CSI: gradients of the F1 dimension)
    <expno>/pdata/<procno>/procs  1r  1i  title

:func:`read_bruker` accepts the experiment folder, a ``pdata/N`` folder, or the ``fid``/``ser``
file itself. It reads the JCAMP-DX parameter files with :func:`parse_bruker_parameters`, which
gives exactly nmrglue's dictionary (checked on every test file) but refuses a truncated file
where ``nmrglue.bruker.read_jcamp`` loops for ever; the binary data are decoded by nmrglue after
their size has been checked against the parameters. ``raw_meta`` is nmrglue's ``dic`` plus the
texts of ``title``, ``pulseprogram`` and the list files. :func:`parse_bruker` is the pure part:
nmrglue's ``(dic, data)`` in, Spectra out.

Conventions (TopSpin Acquisition and Processing Reference manuals; nmrglue):

- ``BYTORDA``/``BYTORDP`` 0 little-endian, 1 big-endian; ``DTYPA``/``DTYPP`` 0 int32, 2 float64
  (TopSpin 4 writes float64 FIDs).
- Each FID of a ``ser`` starts on a 1024-byte boundary (parameter NBL: TD rounded up to 256
  int32 or 128 float64 values, as nmrglue's ``guess_shape``); a ``fid`` is padded the same way
  by TopSpin, or not at all by some converters. Padding points are dropped: a raw Spectrum
  holds exactly ``TD/2`` complex points (``TD`` real points for ``AQ_mod`` 0 or 2).
- 3D raw data (``acqu2s`` and ``acqu3s``: TopSpin's F2 and F1 dimensions, acqus is F3): the
  ``ser`` holds ``TD(acqu2s) x TD(acqu3s)`` FIDs, each block-padded as above. ``AQSEQ`` (acqus)
  gives the loop order: 0 ("321", default) increments F2 fastest, so the file is
  ``[F1][F2][t]``; 1 ("312") increments F1 fastest (``[F2][F1][t]``). The Spectrum always has
  the leading dims in TopSpin's ``(F1, F2)`` order, whatever AQSEQ. A 2D phase-encoded CSI
  names them ``("phase_encode_y", "phase_encode_x")`` (F1 = y, the outer loop for AQSEQ 0;
  F2 = x), with coordinates from ``gradlist3`` (F1) and ``gradlist`` (F2) — the
  specssb convention for the two gradient lists, ``gradlist`` keeping its 1D-CSI meaning
  "gradients of the acqu2s dimension" — so ``reconstruct_csi`` maps them to its
  ``("y", "x")`` voxel dims. A dimension without its list is ``increment_f1``/``increment_f2``.
- Dwell time of a complex point ``1/SW_h``; of a real point (``AQ_mod`` 0, 2) ``1/(2 SW_h)``.
  ``t = 0`` is the first stored point: the digital-filter group delay is **not** removed here.
- Processed axis, as TopSpin draws it: ``ppm[i] = OFFSET - i * SW_p / (SF * SI)``, decreasing.
  It agrees with nmrglue's ``uc_from_udic(guess_udic(dic, data)).ppm_scale()`` to the precision
  OFFSET is stored with (≤ 4e-4 ppm on the test data).
- Intensities of ``1r``/``1i`` are scaled by ``2**NC_proc`` as TopSpin shows them (nmrglue
  ``scale_pdata``).

References
----------
J. J. Helmus, C. P. Jaroniec, "Nmrglue: an open source Python package for the analysis of
multidimensional NMR data", J. Biomol. NMR 55 (2013) 355-367.
Bruker BioSpin, "TopSpin Acquisition Commands and Parameters" (parameters TD, NBL, DTYPA, DECIM,
DSPFVS, GRPDLY, FnMODE) and "TopSpin Processing Commands and Parameters" (SI, SW_p, OFFSET, SF,
NC_proc).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers._bruker_jcamp import LIST_UNITS  # noqa: F401 - public name, re-exported
from specssb.parsers._bruker_jcamp import parse_bruker_parameters, parse_list_file
from specssb.parsers._common import make_source
from specssb.parsers._registry import register_parser
from specssb.spectrum import Axis, Coord, Source, Spectrum

__all__ = [
    "parse_bruker",
    "parse_bruker_parameters",
    "parse_list_file",
    "read_bruker",
    "sniff_bruker",
]

FORMAT = "bruker"

#: FIDs in a ser (and TopSpin's fid) start on 1024-byte boundaries (TopSpin parameter NBL).
BLOCK_BYTES = 1024

#: Parameter, title and list files larger than this are not Bruker text files.
MAX_TEXT_BYTES = 16 * 1024 * 1024

#: Pseudo-2D list files: leading dimension name and coordinate unit.
LIST_DIMS: Mapping[str, tuple[str, str]] = {
    "vdlist": ("delay", "s"),
    "vclist": ("loop", "1"),
    "vplist": ("pulse", "s"),
    "gradlist": ("phase_encode", "G/cm"),  # CSI: gradient per increment (``# unit:`` may override)
}

#: Gradient units a ``gradlist`` may declare in a ``# unit: ...`` comment line.
GRADIENT_LIST_UNITS = ("G/cm", "T/m", "mT/m")

#: 3D raw data: list file, leading dim (with / without the list) of TopSpin's F1 and F2.
LIST_DIMS_3D: Mapping[str, tuple[str, str, str]] = {
    "acqu3s": ("gradlist3", "phase_encode_y", "increment_f1"),
    "acqu2s": ("gradlist", "phase_encode_x", "increment_f2"),
}

#: Optional text files of an experiment folder kept in ``raw_meta``.
PROGRAM_AND_LISTS = ("pulseprogram", *LIST_DIMS, "gradlist3")

_KINDS = ("raw", "processed")
_PROCESSED_2D = ("2rr", "2ri", "2ir", "2ii")


# --------------------------------------------------------------------------- sniffing
def sniff_bruker(path: Path, head: bytes) -> bool:
    """True for a Bruker experiment folder, a ``pdata/N`` folder, or a ``fid``/``ser`` file.

    Parameters
    ----------
    path : Path
        The file or folder.
    head : bytes
        First bytes of a file (empty for a folder); not used: the layout decides.

    Returns
    -------
    bool
        An experiment folder holds ``acqus`` and ``fid`` or ``ser``; a processed-data folder
        holds ``procs`` and ``1r`` (or ``2rr``); a ``fid``/``ser`` file has ``acqus`` beside it.
    """
    path = Path(path)
    if path.is_dir():
        if (path / "acqus").is_file() and any((path / n).is_file() for n in ("fid", "ser")):
            return True
        return (path / "procs").is_file() and any((path / n).is_file() for n in ("1r", "2rr"))
    return path.name in ("fid", "ser") and (path.parent / "acqus").is_file()


# --------------------------------------------------------------------------- reader
@register_parser(
    name=FORMAT, technique="nmr", extensions=(), magic=(), sniff=sniff_bruker,
    description="Bruker TopSpin/XWIN-NMR experiment folder (fid, ser, pdata/N 1r/1i) via nmrglue",
)
def read_bruker(path: Path, *, data: str = "raw", procno: int | None = None) -> list[Spectrum]:
    """Read a Bruker experiment: the raw FID(s) or a processed spectrum.

    Parameters
    ----------
    path : Path
        The experiment folder (``<expno>`` with ``acqus``), its ``fid``/``ser`` file, or a
        processed-data folder ``<expno>/pdata/<procno>``. A ``pdata/N`` folder is always read
        as the processed spectrum it holds.
    data : {"raw", "processed"}, default "raw"
        For an experiment folder: ``"raw"`` reads ``fid``/``ser`` (time domain), ``"processed"``
        reads ``pdata/<procno>/1r`` (+ ``1i``).
    procno : int, optional
        Processing number; default 1, or the lowest ``pdata`` number present. For raw data it
        only chooses the ``title`` file.

    Returns
    -------
    list of Spectrum
        One Spectrum. Raw: complex FID on a ``time`` axis (s), ``signal="fid"``; a ``ser`` has
        a leading dimension ``("increment",)``, or ``("delay",)``/``("loop",)``/``("pulse",)``
        with coordinates from ``vdlist`` (s)/``vclist`` (counts)/``vplist`` (s) for pseudo-2D
        data, or ``("phase_encode",)`` with the gradient of each step (G/cm, or the unit a
        ``# unit:`` comment names) from a ``gradlist`` for chemical-shift imaging. 3D raw data
        (``acqu3s``) have two leading dims in TopSpin's (F1, F2) order:
        ``("phase_encode_y", "phase_encode_x")`` with gradients from ``gradlist3`` and
        ``gradlist`` (2D CSI), else ``("increment_f1", "increment_f2")``. Processed:
        ``chemical_shift`` axis (ppm, decreasing), real ``1r`` or complex ``1r + i*1i``,
        ``signal="spectrum"``.

    Raises
    ------
    ParseError
        Missing or corrupt parameter files, binary files whose size disagrees with TD/SI
        (truncated, wrong length), 4D raw data, 2D/3D processed data (not supported yet).
    ConfigError
        For an unknown ``data`` value or a ``procno`` that contradicts a ``pdata/N`` path.

    Examples
    --------
    >>> import specssb
    >>> fid, = specssb.read("cadmium/100")                            # doctest: +SKIP
    >>> spectrum, = specssb.read("cadmium/100", data="processed")     # doctest: +SKIP
    """
    path = Path(path)
    if data not in _KINDS:
        raise ConfigError(f"data must be 'raw' or 'processed', not {data!r}", key="data")
    expno, pdata = _locate(path, data, procno)
    library = f"nmrglue {_nmrglue().__version__}"
    if pdata is not None:
        dic, values = _load_processed(expno, pdata)
        block: int | None = int(pdata.name) if pdata.name.isdigit() else None
        source = make_source(path, FORMAT, block=block, library=library)
        return parse_bruker(dic, values, source=source, kind="processed")
    assert expno is not None
    dic, values = _load_raw(expno, procno)
    return parse_bruker(dic, values, source=make_source(path, FORMAT, library=library), kind="raw")


def _nmrglue() -> Any:
    """nmrglue, imported on first use (keeps ``import specssb`` fast)."""
    import nmrglue

    return nmrglue


def _locate(path: Path, data: str, procno: int | None) -> tuple[Path | None, Path | None]:
    """Return ``(experiment folder, pdata folder or None)`` for what ``path`` names."""
    if path.is_file():
        if path.name not in ("fid", "ser", "acqus", "acqu", "1r", "1i", "procs", "proc"):
            raise ParseError(path, "not a Bruker data file (expected fid, ser, acqus, 1r or procs)")
        path = path.parent
    if not path.is_dir():
        raise ParseError(path, "no such file or folder")
    if not (path / "acqus").is_file() and (path / "procs").is_file():
        if procno is not None and path.name != str(procno):
            raise ConfigError(f"procno={procno} contradicts the pdata folder {path}", key="procno")
        parent = path.parent.parent
        return (parent if (parent / "acqus").is_file() else None), path
    if not (path / "acqus").is_file():
        raise ParseError(
            path, "not a Bruker experiment folder (no acqus) nor a pdata folder (no procs)"
        )
    if data == "raw":
        return path, None
    return path, _pdata_folder(path, procno)


def _pdata_folder(expno: Path, procno: int | None) -> Path:
    """The ``pdata/<procno>`` folder to read processed data from."""
    if procno is not None:
        folder = expno / "pdata" / str(procno)
        if not (folder / "procs").is_file():
            raise ParseError(folder, f"no processed data set {procno} (no procs file)")
        return folder
    numbers = sorted(
        int(p.name) for p in (expno / "pdata").glob("*")
        if p.name.isdigit() and (p / "procs").is_file()
    ) if (expno / "pdata").is_dir() else []
    if not numbers:
        raise ParseError(expno, "no processed data (no pdata/N/procs); read the raw FID with "
                                "data='raw'")
    return expno / "pdata" / str(1 if 1 in numbers else numbers[0])


# --------------------------------------------------------------------------- loading
def _read_text(path: Path) -> str:
    """A Bruker text file (parameters, title, list): UTF-8, else Latin-1; no NUL bytes."""
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise ParseError(path, f"{size} bytes is too large for a Bruker text file")
        raw = path.read_bytes()
    except OSError as exc:
        raise ParseError(path, f"cannot read: {exc.strerror or exc}") from exc
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise ParseError(path, "binary data in a text file", position=f"byte {nul}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _read_parameters(path: Path) -> dict[str, Any]:
    return parse_bruker_parameters(_read_text(path), path=path)


def _optional_text(path: Path) -> str | None:
    """The text of an optional file, or None (with a MetadataWarning when unreadable)."""
    if not path.is_file():
        return None
    try:
        return _read_text(path)
    except ParseError as exc:
        warnings.warn(f"{exc}; ignored", MetadataWarning, stacklevel=4)
        return None


def _load_raw(expno: Path, procno: int | None) -> tuple[dict[str, Any], np.ndarray]:
    """Parameters and data of ``fid``/``ser`` as nmrglue's ``bruker.read`` returns them."""
    if (expno / "acqu4s").is_file():
        raise ParseError(expno, "4D (and higher) raw data are not supported (acqu4s found)")
    dic: dict[str, Any] = {"acqus": _read_parameters(expno / "acqus")}
    for name in ("acqu2s", "acqu3s"):
        if (expno / name).is_file():
            dic[name] = _read_parameters(expno / name)
    if "acqu3s" in dic and "acqu2s" not in dic:
        raise ParseError(expno / "acqu3s", "acqu3s without acqu2s: the F2 dimension is missing")
    names = ("ser", "fid") if "acqu2s" in dic else ("fid", "ser")
    binary = next((expno / n for n in names if (expno / n).is_file()), None)
    if binary is None:
        raise ParseError(expno, "no fid or ser file in the experiment folder")
    pdata = expno / "pdata" / str(procno if procno is not None else 1)
    if (pdata / "procs").is_file():
        try:
            dic["procs"] = _read_parameters(pdata / "procs")
        except ParseError as exc:
            warnings.warn(f"{exc}; processing parameters ignored", MetadataWarning, stacklevel=3)
    _add_texts(dic, expno, pdata)
    dic["FILE_SIZE"] = size = _size(binary)
    shape, is_complex = _raw_shape(dic, size, binary)
    big, isfloat = _byte_layout(dic["acqus"], "BYTORDA", "DTYPA", binary)
    ng = _nmrglue()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, values = ng.bruker.read_binary(str(binary), shape=shape, cplex=is_complex, big=big,
                                          isfloat=isfloat)
    return dic, values


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise ParseError(path, f"cannot read: {exc.strerror or exc}") from exc


def _add_texts(dic: dict[str, Any], expno: Path | None, pdata: Path) -> None:
    """Optional text files, where present: title, pulse programme, vdlist/vclist/vplist/gradlist."""
    for key, file in (("title", pdata / "title"),
                      *(() if expno is None else ((n, expno / n) for n in PROGRAM_AND_LISTS))):
        text = _optional_text(file)
        if text is not None:
            dic[key] = text
    if "pulseprogram" in dic and expno is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dic["pprog"] = _nmrglue().bruker.read_pprog(str(expno / "pulseprogram"))
        except (ValueError, IndexError, KeyError, UnicodeDecodeError, OSError):
            pass  # nmrglue's parsed form is a convenience; the text is kept


def _load_processed(expno: Path | None, pdata: Path) -> tuple[dict[str, Any], np.ndarray]:
    """Parameters and scaled ``1r`` (+ ``1i``) as nmrglue's ``bruker.read_pdata`` gives them."""
    dic: dict[str, Any] = {"procs": _read_parameters(pdata / "procs")}
    if (pdata / "proc2s").is_file() or any((pdata / n).is_file() for n in _PROCESSED_2D):
        raise ParseError(pdata, "2D processed data (2rr) are not supported yet; read the raw ser "
                                "with data='raw'")
    if expno is not None:
        dic["acqus"] = _read_parameters(expno / "acqus")
        if (expno / "acqu2s").is_file():
            dic["acqu2s"] = _read_parameters(expno / "acqu2s")
    _add_texts(dic, expno, pdata)
    if not (pdata / "1r").is_file():
        raise ParseError(pdata, "no processed spectrum (1r); read the raw FID with data='raw'")
    real = _read_processed_file(pdata / "1r", dic)
    if (pdata / "1i").is_file():
        return dic, real + 1j * _read_processed_file(pdata / "1i", dic)
    return dic, real


def _read_processed_file(path: Path, dic: dict[str, Any]) -> np.ndarray:
    procs = dic["procs"]
    si = _positive_int(procs, "SI", "procs", path)
    big, isfloat = _byte_layout(procs, "BYTORDP", "DTYPP", path)
    expected = si * (8 if isfloat else 4)
    size = _size(path)
    if size != expected:
        raise ParseError(path, f"{path.name} holds {size} bytes; procs SI={si} "
                               f"({'float64' if isfloat else 'int32'}) needs {expected} bytes",
                         position=f"byte {min(size, expected)}")
    ng = _nmrglue()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, values = ng.bruker.read_pdata_binary(str(path), big=big, isfloat=isfloat)
        return np.asarray(ng.bruker.scale_pdata(dic, values), dtype=np.float64)


def _byte_layout(params: Mapping[str, Any], order_key: str, type_key: str,
                 path: Path) -> tuple[bool, bool]:
    """``(big_endian, float64)`` from BYTORDA/DTYPA (or BYTORDP/DTYPP)."""
    order = params.get(order_key)
    if order not in (0, 1):
        raise ParseError(path, f"{order_key} must be 0 (little-endian) or 1 (big-endian), "
                               f"found {order!r}")
    dtype = params.get(type_key, 0)
    if dtype not in (0, 2):
        raise ParseError(path, f"{type_key} must be 0 (int32) or 2 (float64), found {dtype!r}")
    return order == 1, dtype == 2


def _raw_shape(dic: Mapping[str, Any], size: int, path: Path) -> tuple[tuple[int, ...], bool]:
    """Shape (in nmrglue points) the binary file holds, after checking its size against TD."""
    acqus = dic["acqus"]
    td = _positive_int(acqus, "TD", "acqus", path)
    is_complex = _is_complex(acqus, td, path)
    itemsize = 8 if acqus.get("DTYPA", 0) == 2 else 4
    per_value = 2 if is_complex else 1
    plain, padded = _row_bytes(td, itemsize)
    what = f"TD={td} ({'float64' if itemsize == 8 else 'int32'})"
    if "acqu2s" not in dic:
        if size not in (plain, padded):
            raise ParseError(path, f"fid holds {size} bytes; acqus {what} needs {plain} bytes "
                                   f"(or {padded} padded to {BLOCK_BYTES}-byte blocks)",
                             position=f"byte {min(size, plain)}")
        return (size // itemsize // per_value,), is_complex
    td1 = _positive_int(dic["acqu2s"], "TD", "acqu2s", path)
    declared = f"acqu2s TD={td1}"
    if "acqu3s" in dic:
        td3 = _positive_int(dic["acqu3s"], "TD", "acqu3s", path)
        declared = f"acqu2s TD={td1} x acqu3s TD={td3}"
        td1 *= td3
    for row in dict.fromkeys((padded, plain)):
        if size % row == 0 and size // row >= td1:
            return (size // row, row // itemsize // per_value), is_complex
    raise ParseError(path, f"ser holds {size} bytes = {size / padded:.3g} FIDs of {padded} bytes "
                           f"(acqus {what}); {declared} needs {td1 * padded} bytes: "
                           "truncated or inconsistent", position=f"byte {size // padded * padded}")


def _row_bytes(td: int, itemsize: int) -> tuple[int, int]:
    """Bytes of one FID: as acquired, and padded to whole 1024-byte blocks."""
    plain = td * itemsize
    return plain, -(-plain // BLOCK_BYTES) * BLOCK_BYTES


def _is_complex(acqus: Mapping[str, Any], td: int, path: Path | str) -> bool:
    mode = acqus.get("AQ_mod")
    if mode not in (0, 1, 2, 3):
        raise ParseError(path, f"acqus AQ_mod must be 0, 1, 2 or 3, found {mode!r}")
    if mode in (1, 3) and td % 2:
        raise ParseError(path, f"acqus TD={td} is odd for complex (AQ_mod={mode}) data")
    return mode in (1, 3)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive_int(params: Mapping[str, Any], key: str, name: str, path: Path | str) -> int:
    value = params.get(key)
    if not (_number(value) and value == int(value) and value > 0):
        raise ParseError(path, f"{name} {key} must be a positive integer, found {value!r}")
    return int(value)


def _positive_float(params: Mapping[str, Any], key: str, name: str, path: Path | str) -> float:
    value = params.get(key)
    if not (_number(value) and value > 0):
        raise ParseError(path, f"{name} {key} must be a positive number, found {value!r}")
    return float(value)


# --------------------------------------------------------------------------- pure parse
def parse_bruker(dic: Mapping[str, Any], data: np.ndarray, *, source: Source,
                 kind: str) -> list[Spectrum]:
    """Turn nmrglue's ``(dic, data)`` for a Bruker data set into Spectra.

    Parameters
    ----------
    dic : Mapping
        Parameters as ``nmrglue.bruker.read``/``read_pdata`` return them: ``"acqus"`` (needs
        TD, SW_h, AQ_mod; AQSEQ for 3D), optionally ``"acqu2s"`` (TD: the number of FIDs)
        and ``"acqu3s"`` (3D: TD(acqu2s) x TD(acqu3s) FIDs), ``"procs"``
        (processed: SI, SW_p, SF, OFFSET), ``"FILE_SIZE"``. specssb adds, when the files exist,
        ``"title"`` (pdata/N/title text), ``"pulseprogram"`` (text) and ``"vdlist"``,
        ``"vclist"``, ``"vplist"``, ``"gradlist"``, ``"gradlist3"`` (list-file text). Kept
        whole as ``raw_meta``.
    data : ndarray
        Raw: complex FID(s) as nmrglue returns them, shape ``(n,)`` or ``(n_fid, n)``, with
        ``n >= TD/2`` (block padding allowed; dropped here) and ``n_fid >= acqu2s TD`` (extra
        preallocated FIDs dropped); 3D: any shape whose rows are the FIDs in file order
        (nmrglue's ``(n3, n2, n)`` or ``(n_fid, n)``). Processed: ``1r`` (real) or ``1r + 1j*1i``, shape ``(SI,)``,
        scaled by ``2**NC_proc`` (nmrglue ``scale_data=True``).
    source : Source
        Provenance.
    kind : {"raw", "processed"}
        What ``data`` is.

    Returns
    -------
    list of Spectrum
        One Spectrum (see :func:`read_bruker`). ``meta`` holds nucleus, sfo1_mhz, bf1_mhz,
        spectral_width_hz (SW_h, or SW_p for processed data), n_points (TD/2), pulse_program,
        n_scans, temperature_k, acquired_at (DATE, UTC), mas_rate_hz, digital_filter
        (``{"decim", "dspfvs", "grpdly", "grpdly_source"}``), title, operator, instrument; and
        for processed data sf_mhz and offset_ppm.

    Raises
    ------
    ParseError
        If required parameters are missing or invalid, or ``data`` disagrees with them.

    Examples
    --------
    >>> import numpy as np
    >>> from specssb.spectrum import Source
    >>> dic = {"acqus": {"TD": 8, "SW_h": 1000.0, "AQ_mod": 3, "NUC1": "7Li"}}
    >>> s, = parse_bruker(dic, np.ones(4, complex), source=Source("x", "0" * 64, "bruker"),
    ...                   kind="raw")
    >>> s.axis.values.tolist(), s.meta["nucleus"]
    ([0.0, 0.001, 0.002, 0.003], '7Li')
    """
    if kind not in _KINDS:
        raise ConfigError(f"kind must be 'raw' or 'processed', not {kind!r}", key="kind")
    path = source.path
    array = np.asarray(data)
    if array.dtype.kind not in "iufc":
        raise ParseError(path, f"data must be numeric, found dtype {array.dtype}")
    if kind == "raw":
        return [_raw_spectrum(dic, array, source)]
    return [_processed_spectrum(dic, array, source)]


def _section(dic: Mapping[str, Any], name: str, path: str) -> Mapping[str, Any]:
    section = dic.get(name)
    if not isinstance(section, Mapping):
        raise ParseError(path, f"no {name} parameters")
    return section


def _raw_spectrum(dic: Mapping[str, Any], array: np.ndarray, source: Source) -> Spectrum:
    path = source.path
    acqus = _section(dic, "acqus", path)
    td = _positive_int(acqus, "TD", "acqus", path)
    is_complex = _is_complex(acqus, td, path)
    sw_h = _positive_float(acqus, "SW_h", "acqus", path)
    n = td // 2 if is_complex else td
    if is_complex != np.iscomplexobj(array):
        raise ParseError(path, f"AQ_mod={acqus['AQ_mod']} needs {'complex' if is_complex else 'real'}"
                               f" data, found dtype {array.dtype}")
    itemsize = 8 if acqus.get("DTYPA", 0) == 2 else 4
    padded = _row_bytes(td, itemsize)[1] // itemsize // (2 if is_complex else 1)
    dims: tuple[str, ...] = ()
    coords: dict[str, Coord] = {}
    if "acqu3s" in dic:
        array, dims, coords = _three_d(dic, array, n, path)
    elif "acqu2s" in dic:
        td1 = _positive_int(_section(dic, "acqu2s", path), "TD", "acqu2s", path)
        if array.ndim != 2 or array.shape[0] < td1:
            raise ParseError(path, f"ser holds data of shape {array.shape}; acqu2s TD={td1} "
                                   f"needs {td1} FIDs of {n} points")
        array = array[:td1]
        dims, coords = _leading(dic, td1, path)
    elif array.ndim != 1:
        raise ParseError(path, f"fid data must be 1-D, found shape {array.shape}")
    if not n <= array.shape[-1] <= max(n, padded):
        raise ParseError(path, f"FID holds {array.shape[-1]} points; acqus TD={td} declares {n}"
                               f"{' complex' if is_complex else ''} points",
                         position=f"point {min(array.shape[-1], n)}")
    values = array[..., :n]
    _check_finite(values, path)
    dwell = 1.0 / sw_h if is_complex else 1.0 / (2.0 * sw_h)
    meta = _acquisition_meta(dic, path)
    meta["spectral_width_hz"] = sw_h
    meta["n_points"] = n
    return Spectrum(axis=Axis("time", "s", np.arange(n) * dwell), data=values, technique="nmr",
                    signal="fid", dims=dims, coords=coords, meta=meta, raw_meta=dict(dic),
                    source=source)


def _processed_spectrum(dic: Mapping[str, Any], array: np.ndarray, source: Source) -> Spectrum:
    path = source.path
    procs = _section(dic, "procs", path)
    if "proc2s" in dic or array.ndim != 1:
        raise ParseError(path, "2D processed data (2rr) are not supported yet; read the raw ser "
                               "with data='raw'")
    si = _positive_int(procs, "SI", "procs", path)
    sw_p = _positive_float(procs, "SW_p", "procs", path)
    sf = _positive_float(procs, "SF", "procs", path)
    offset = procs.get("OFFSET")
    if not _number(offset):
        raise ParseError(path, f"procs OFFSET must be a number, found {offset!r}")
    if array.shape[0] != si:
        raise ParseError(path, f"processed data hold {array.shape[0]} points; procs SI={si}",
                         position=f"point {min(array.shape[0], si)}")
    _check_finite(array, path)
    ppm = float(offset) - np.arange(si) * (sw_p / sf) / si
    meta = _acquisition_meta(dic, path) if isinstance(dic.get("acqus"), Mapping) else {}
    if "nucleus" not in meta:
        _put_nucleus(meta, procs.get("AXNUC"))
    meta.update(sf_mhz=sf, offset_ppm=float(offset), spectral_width_hz=sw_p)
    acqus = dic.get("acqus")
    if isinstance(acqus, Mapping) and isinstance(acqus.get("TD"), int) and acqus["TD"] > 0:
        meta["n_points"] = acqus["TD"] // 2 if acqus.get("AQ_mod") in (1, 3) else acqus["TD"]
    return Spectrum(axis=Axis("chemical_shift", "ppm", ppm), data=array, technique="nmr",
                    signal="spectrum", meta=meta, raw_meta=dict(dic), source=source)


def _check_finite(values: np.ndarray, path: str) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ParseError(path, f"{bad.size} non-finite values (NaN or inf) in the data",
                         position=f"point {int(bad[0])}")


# --------------------------------------------------------------------------- 3D / 2D CSI
def _three_d(dic: Mapping[str, Any], array: np.ndarray, n: int,
             path: str) -> tuple[np.ndarray, tuple[str, ...], dict[str, Coord]]:
    """FIDs of a 3D ser as ``(TD3, TD2, points)`` in (F1, F2) order, with dims and coordinates.

    ``array`` is nmrglue's data: any shape whose rows (last axis) are the FIDs in file order.
    """
    td2 = _positive_int(_section(dic, "acqu2s", path), "TD", "acqu2s", path)
    td3 = _positive_int(_section(dic, "acqu3s", path), "TD", "acqu3s", path)
    aqseq = dic["acqus"].get("AQSEQ", 0)
    if aqseq not in (0, 1):
        raise ParseError(path, f"acqus AQSEQ must be 0 (321) or 1 (312) for 3D data, found "
                               f"{aqseq!r}")
    rows = array.reshape(-1, array.shape[-1]) if array.ndim >= 2 else array[None, :]
    if array.ndim < 2 or rows.shape[0] < td2 * td3:
        raise ParseError(path, f"ser holds data of shape {array.shape}; acqu2s TD={td2} x "
                               f"acqu3s TD={td3} needs {td2 * td3} FIDs of {n} points")
    rows = rows[:td2 * td3]
    if aqseq == 0:   # 321: F2 (acqu2s) is the inner loop
        cube = rows.reshape(td3, td2, rows.shape[-1])
    else:            # 312: F1 (acqu3s) is the inner loop
        cube = rows.reshape(td2, td3, rows.shape[-1]).transpose(1, 0, 2)
    dims: list[str] = []
    coords: dict[str, Coord] = {}
    for section, count in (("acqu3s", td3), ("acqu2s", td2)):
        list_name, encoded, plain = LIST_DIMS_3D[section]
        found = None
        if isinstance(dic.get(list_name), str) and dic[section].get("FnMODE", 0) in (0, 1):
            found = _list_coord(dic, list_name, count, path, fallback=plain)
        if found is None:
            dims.append(plain)
            continue
        values, unit = found
        dims.append(encoded)
        coords[encoded] = Coord(encoded, values, unit)
    return cube, tuple(dims), coords


def _list_coord(dic: Mapping[str, Any], name: str, n_fid: int, path: str, *,
                fallback: str) -> tuple[np.ndarray, str] | None:
    """The first ``n_fid`` values and unit of list file ``name``, or None with a warning."""
    try:
        values = parse_list_file(dic[name], name=name.rstrip("3"))
    except ValueError as exc:
        warnings.warn(f"{path}: {name}: {exc}; leading dimension left as {fallback!r}",
                      MetadataWarning, stacklevel=6)
        return None
    if values.size < n_fid:
        warnings.warn(f"{path}: {name} has {values.size} entries for {n_fid} FIDs; leading "
                      f"dimension left as {fallback!r}", MetadataWarning, stacklevel=6)
        return None
    unit = LIST_DIMS[name.rstrip("3")][1]
    if name.startswith("gradlist"):
        declared = re.search(r"^\s*[#;].*\bunit\s*[:=]\s*(\S+)", dic[name], re.I | re.M)
        if declared and declared.group(1) in GRADIENT_LIST_UNITS:
            unit = declared.group(1)
    return values[:n_fid], unit


# --------------------------------------------------------------------------- pseudo-2D
def _leading(dic: Mapping[str, Any], n_fid: int, path: str) -> tuple[tuple[str, ...],
                                                                      dict[str, Coord]]:
    """``("increment",)`` for a true 2D; the list's dimension for a pseudo-2D series."""
    present = [name for name in LIST_DIMS if isinstance(dic.get(name), str)]
    fnmode = dic["acqu2s"].get("FnMODE", 0)
    if not present or fnmode not in (0, 1):
        return ("increment",), {}
    name = _used_list(present, dic.get("pulseprogram"), path)
    found = _list_coord(dic, name, n_fid, path, fallback="increment")
    if found is None:
        return ("increment",), {}
    dim = LIST_DIMS[name][0]
    return (dim,), {dim: Coord(dim, *found)}


def _used_list(present: list[str], program: Any, path: str) -> str:
    """Which list drives the series: the only one, or the one the pulse programme uses."""
    if len(present) == 1:
        return present[0]
    if isinstance(program, str):
        code = "\n".join(line.split(";")[0] for line in program.splitlines())
        used = [n for n in present if re.search(rf"\bi?{n[:2]}\b|<{n}>", code)]
        if len(used) == 1:
            return used[0]
    warnings.warn(f"{path}: several list files ({', '.join(present)}) and the pulse programme "
                  f"does not say which one is used; took {present[0]}", MetadataWarning,
                  stacklevel=5)
    return present[0]


# --------------------------------------------------------------------------- metadata
def _acquisition_meta(dic: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Normalized keys from acqus (optional values: bad ones warn and are left out)."""
    acqus = dic["acqus"]
    meta: dict[str, Any] = {}
    _put_nucleus(meta, acqus.get("NUC1"))
    for key, name in (("SFO1", "sfo1_mhz"), ("BF1", "bf1_mhz"), ("TE", "temperature_k")):
        value = _optional_number(acqus, key, path)
        if value is not None and value > 0:
            meta[name] = value
    scans = _optional_number(acqus, "NS", path)
    if scans is not None and scans == int(scans) and scans >= 0:
        meta["n_scans"] = int(scans)
    for key, name in (("PULPROG", "pulse_program"), ("INSTRUM", "instrument")):
        if isinstance(acqus.get(key), str) and acqus[key].strip():
            meta[name] = acqus[key].strip()
    owner = next((h.split("=", 1)[1].strip() for h in acqus.get("_coreheader", [])
                  if isinstance(h, str) and h.startswith("##OWNER=")), "")
    if owner:
        meta["operator"] = owner
    acquired = _acquired_at(acqus, path)
    if acquired is not None:
        meta["acquired_at"] = acquired
    mas = _mas_rate(acqus, dic.get("pulseprogram"), path)
    if mas is not None:
        meta["mas_rate_hz"] = mas
    digital = _digital_filter(acqus, path)
    if digital is not None:
        meta["digital_filter"] = digital
    _put_title(meta, dic)
    return meta


def _optional_number(params: Mapping[str, Any], key: str, path: str) -> float | None:
    value = params.get(key)
    if value is None:
        return None
    if not _number(value):
        warnings.warn(f"{path}: {key}={value!r} is not a number; ignored", MetadataWarning,
                      stacklevel=4)
        return None
    return float(value)


def _put_nucleus(meta: dict[str, Any], value: Any) -> None:
    """Set ``nucleus`` from NUC1/AXNUC ("<7Li>" -> "7Li"); "NONE", "off" or "" leave it unset
    (TopSpin's own values for "not recorded", so no warning)."""
    nucleus = value.strip().strip("<>").strip() if isinstance(value, str) else ""
    if re.fullmatch(r"\d+[A-Z][a-z]?", nucleus):
        meta["nucleus"] = nucleus


def _put_title(meta: dict[str, Any], dic: Mapping[str, Any]) -> None:
    title = dic.get("title")
    if isinstance(title, str) and title.strip():
        meta["title"] = title.strip()


def _acquired_at(acqus: Mapping[str, Any], path: str) -> _dt.datetime | None:
    """acqus DATE: seconds since 1970-01-01 UTC (0 or absent: not recorded)."""
    date = _optional_number(acqus, "DATE", path)
    if date is None or date == 0:
        return None
    try:
        if date > 0:
            return _dt.datetime.fromtimestamp(date, tz=_dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        pass
    warnings.warn(f"{path}: acqus DATE={date!r} is not a valid time; acquired_at left unset",
                  MetadataWarning, stacklevel=4)
    return None


def _mas_rate(acqus: Mapping[str, Any], program: Any, path: str) -> float | None:
    """MAS rate: MASR when nonzero, else cnst31 when the pulse programme calls it the rate.

    Many Bruker solid-state pulse programmes synchronise delays to ``cnst31`` ("=MAS spin
    rate"); a MASR that disagrees with it is often stale, so the disagreement is reported.
    """
    masr = _optional_number(acqus, "MASR", path)
    cnst31 = None
    constants = acqus.get("CNST")
    declared = isinstance(program, str) and re.search(
        r"^\s*;\s*cnst31\s*:.*\b(spin|spinning|mas|rotor)\b", program, re.I | re.M)
    if declared and isinstance(constants, list) and len(constants) > 31:
        value = constants[31]
        if _number(value) and 0 < value < 1e6:
            cnst31 = float(value)
    if masr and masr > 0:
        if cnst31 is not None and abs(cnst31 - masr) > 0.01 * masr:
            warnings.warn(
                f"{path}: acqus MASR={masr:g} Hz but the pulse programme's MAS rate cnst31="
                f"{cnst31:g} Hz; mas_rate_hz keeps MASR (check the title or notebook)",
                MetadataWarning, stacklevel=4)
        return masr
    return cnst31


def _digital_filter(acqus: Mapping[str, Any], path: str) -> dict[str, Any] | None:
    """DECIM, DSPFVS, GRPDLY; the group delay from nmrglue's table when GRPDLY is absent/-1."""
    decim, dspfvs, grpdly = (acqus.get(k) for k in ("DECIM", "DSPFVS", "GRPDLY"))
    if decim is None and dspfvs is None and grpdly is None:
        return None
    result: dict[str, Any] = {"decim": decim, "dspfvs": dspfvs, "grpdly": None,
                              "grpdly_source": "unknown"}
    if _number(grpdly) and grpdly >= 0:
        result.update(grpdly=float(grpdly), grpdly_source="acqus GRPDLY")
        return result
    if acqus.get("DIGMOD") == 0:
        result.update(grpdly=0.0, grpdly_source="DIGMOD=0 (analogue filter): no group delay")
        return result
    table = _nmrglue().bruker.bruker_dsp_table
    key = int(decim) if _number(decim) and decim == int(decim) else None
    if _number(dspfvs) and dspfvs in table and key in table[dspfvs]:
        result.update(grpdly=float(table[dspfvs][key]),
                      grpdly_source="nmrglue bruker_dsp_table[DSPFVS][DECIM] (GRPDLY absent or -1)")
        return result
    result["grpdly_source"] = (f"unknown: GRPDLY={grpdly!r} and (DSPFVS={dspfvs!r}, "
                               f"DECIM={decim!r}) is not in nmrglue's table")
    return result
