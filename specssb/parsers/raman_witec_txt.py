"""WITec ASCII exports: the Export Table, TrueMatch ASCII, and the 3-file Graph ASCII export.

Layouts, as verified on the hySpc.read.txt WITec test files
----------------------------------------------------------
**Export Table** (``witec-table``; WITec Project "Export > Table", tab separated)::

    X-Axis      Map_000_Spec.Data 1_F(0/0)   Map_000_Spec.Data 1_F(1/0)   ...
    rel. 1/cm   CCD cts                      CCD cts                      ...
     8.77367E+01  9.94000E+02  9.92000E+02 ...

Row 1: column labels; row 2: units (the x-unit, then one data unit per spectrum); then one row
per spectral point. Column 0 is the spectral axis. When every other label ends in ``(i/j)``
and the indices fill a grid, the table is a map: ``i`` runs along x (fastest in the file),
``j`` along y, so the result has dims ``("y", "x")`` with coordinates ``x`` and ``y`` that are
**pixel indices** (unit ``"1"``): the export holds no stage positions or step size. Other
multi-column tables give dims ``("spectrum",)``; one data column gives a 1-D spectrum.

**TrueMatch ASCII** (``witec-truematch``; particle-analysis export, ini-like)::

    [WITEC_TRUEMATCH_ASCII_HEADER]
    Version = 1.0
    [SpectrumHeader]           Title, ExcitationWavelength (nm), SpectrumSize, XDataKind
    [SampleMetaData]           particle geometry (Length, Width, Area, Feret Max …)
    [SpectrumData]             SpectrumSize rows "x<TAB>intensity"
    [SpectrumHeader] …         the next spectrum (one per particle)

One Spectrum per ``[SpectrumHeader]`` block (``source.block`` = 0, 1, …). ``XDataKind`` is the
x-unit (``nm`` in the test file, which is kept as a wavelength axis, not converted).

**Graph ASCII** (``witec-graph``; "Export > ASCII" of one graph): three files with one prefix,
``<prefix>_Header.txt`` (``//Exported ASCII-File`` then ``[Header]`` and ``key = value``:
GraphName, SizeX, SizeY, SizeGraph, PositionUnit, PositionX/Y/Z, XAxisUnit, DataUnit),
``<prefix>_X-Axis.txt`` and ``<prefix>_Y-Axis.txt`` (one value per line, SizeGraph lines).
Reading any of the three finds the other two beside it. Only single spectra (SizeX × SizeY = 1)
are read: no multi-spectrum graph export was available to verify that layout.

Metadata
--------
``meta``: ``laser_wavelength_nm`` (TrueMatch ``ExcitationWavelength``), ``title`` (TrueMatch
``Title``, Graph ``GraphName``), ``measurement_type`` (``single`` or ``map``). Neither the table
nor the graph export carries the laser wavelength. ``raw_meta`` keeps every header key, the
column labels and units, TrueMatch ``SampleMetaData``, and the Graph stage position
(``stage_position``: PositionX/Y/Z in PositionUnit, normally µm).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ParseError
from specssb.parsers._common import decode_text, make_source, parse_float, parse_int, read_bytes
from specssb.parsers._raman_common import (
    laser_wavelength_nm,
    map_layout,
    numeric_rows,
    signal_for_unit,
    spectral_axis,
)
from specssb.parsers._registry import register_parser, sha256_of
from specssb.spectrum import Coord, Source, Spectrum

__all__ = [
    "parse_witec_graph",
    "parse_witec_table",
    "parse_witec_truematch",
    "read_witec_graph",
    "read_witec_table",
    "read_witec_truematch",
    "sniff_witec_graph",
]

TABLE_MAGIC = b"X-Axis\t"
TRUEMATCH_MAGIC = b"[WITEC_TRUEMATCH_ASCII_HEADER]"
GRAPH_MAGIC = b"//Exported ASCII-File"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PIXEL_LABEL = re.compile(r"\((\d+)\s*/\s*(\d+)\)\s*$")
_GRAPH_PART = re.compile(r"^(?P<prefix>.*)_(?P<part>Header|X-Axis|Y-Axis)\.txt$", re.IGNORECASE)


def _lines(text: str) -> list[str]:
    return _LINE_BREAK.split(text.lstrip("\ufeff"))


# ------------------------------------------------------------------------------ Export Table
def parse_witec_table(text: str, *, source: Source) -> list[Spectrum]:
    """Parse a WITec Export Table (labels row, units row, then x and one column per spectrum).

    Parameters
    ----------
    text : str
        The whole file, decoded.
    source : Source
        Provenance of the file.

    Returns
    -------
    list of Spectrum
        One Spectrum: a ``("y", "x")`` map when the labels carry ``(i/j)`` pixel indices that
        fill a grid, ``("spectrum",)`` for other multi-column tables, or 1-D.

    Raises
    ------
    ParseError
        A missing label or unit row, a ragged or non-numeric row, too few rows, an unknown or
        non-monotonic spectral axis, or a table without data columns.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> text = ("X-Axis\\tS(0/0)\\tS(1/0)\\nrel. 1/cm\\tCCD cts\\tCCD cts\\n"
    ...         "100\\t1\\t2\\n101\\t3\\t4\\n102\\t5\\t6\\n")
    >>> s = parse_witec_table(text, source=Source("t.txt", "", "witec-table"))[0]
    >>> s.dims, s.shape, s.axis.name
    (('y', 'x'), (1, 2, 3), 'raman_shift')
    """
    path = source.path
    lines = _lines(text)
    if not lines[0].startswith("X-Axis"):
        raise ParseError(path, "not a WITec Export Table: the first line must start with "
                         "'X-Axis'", position="line 1")
    if len(lines) < 2 or not lines[1].strip():
        raise ParseError(path, "the units row is missing", position="line 2")
    labels = [f.strip() for f in lines[0].rstrip("\t").split("\t")]
    units = [f.strip() for f in lines[1].rstrip("\t").split("\t")]
    if len(labels) < 2:
        raise ParseError(path, "the table has no data column after X-Axis", position="line 1")
    if len(units) != len(labels):
        raise ParseError(path, f"the units row has {len(units)} fields for {len(labels)} "
                         "columns", position="line 2")
    table = numeric_rows(lines, 2, path, delimiter="\t", n_fields=len(labels))
    if table.shape[0] < 3:
        raise ParseError(path, f"only {table.shape[0]} data rows; a spectrum needs at least 3",
                         position="line 3")
    axis, history = spectral_axis(units[0], table[:, 0], path, position="line 2, column 1")
    spectra = table[:, 1:].T.copy()
    if not np.isfinite(spectra).any():
        raise ParseError(path, "the spectra hold no finite value", position="line 3")
    signal, signal_unit = signal_for_unit(units[1])
    names = labels[1:]
    raw: dict[str, Any] = {"x_label": labels[0], "x_unit": units[0], "column_labels": names,
                           "column_units": units[1:]}
    pixels = [_PIXEL_LABEL.search(name) for name in names]
    dims: tuple[str, ...] = ()
    coords: dict[str, Coord] = {}
    kind = "single"
    data: np.ndarray = spectra[0]
    if len(names) > 1 and all(pixels):
        ix = np.array([int(m.group(1)) for m in pixels if m], dtype=np.int64)
        iy = np.array([int(m.group(2)) for m in pixels if m], dtype=np.int64)
        data, dims, coords, placement = map_layout(ix, iy, spectra, unit="1")
        kind = "map" if placement == "grid" else "points"
        raw["map_placement"] = placement
        raw["map_coordinates"] = ("pixel indices (i/j) from the column labels; the export holds "
                                  "no stage positions")
    elif len(names) > 1:
        data, dims = spectra, ("spectrum",)
        coords = {"index": Coord("spectrum", np.arange(len(names)), "1")}
        kind = "series"
    meta = {"measurement_type": kind}
    return [Spectrum(axis=axis, data=data, technique="raman", signal=signal,
                     signal_unit=signal_unit, dims=dims, coords=coords, meta=meta,
                     raw_meta=raw, source=source, history=history)]


@register_parser(
    name="witec-table",
    technique="raman",
    extensions=(".txt",),
    magic=(TABLE_MAGIC,),
    description="WITec Project Export Table (x column + one column per spectrum; maps from the "
                "(i/j) column labels)",
)
def read_witec_table(path: Path, *, encoding: str = "latin-1") -> list[Spectrum]:
    """Read a WITec Export Table ``.txt``.

    Parameters
    ----------
    path : Path
        The file.
    encoding : str, default "latin-1"
        Text encoding.

    Returns
    -------
    list of Spectrum
        See :func:`parse_witec_table`.

    Raises
    ------
    ParseError
        See :func:`parse_witec_table`.

    Examples
    --------
    >>> import specssb
    >>> m = specssb.read("Witec-Map_full.txt")[0]  # doctest: +SKIP
    >>> m.dims, m.shape  # doctest: +SKIP
    (('y', 'x'), (5, 5, 1024))
    """
    data = read_bytes(path)
    source = make_source(path, "witec-table", data=data)
    return parse_witec_table(decode_text(data, path, encoding), source=source)


# ------------------------------------------------------------------------------- TrueMatch
def _ini_sections(lines: list[str], path: str) -> list[tuple[str, int, dict[str, str], list[int]]]:
    """``(section, header line index, key/values, data line indices)`` in file order."""
    sections: list[tuple[str, int, dict[str, str], list[int]]] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            sections.append((stripped[1:-1], index, {}, []))
            continue
        if not sections:
            raise ParseError(path, f"text before the first [section]: {stripped[:40]!r}",
                             position=f"line {index + 1}")
        name, values, rows = sections[-1][0], sections[-1][2], sections[-1][3]
        if name == "SpectrumData":
            rows.append(index)
        elif "=" in stripped:
            key, value = stripped.split("=", 1)
            values[key.strip()] = value.strip()
        else:
            raise ParseError(path, f"expected 'key = value' in [{name}], found "
                             f"{stripped[:40]!r}", position=f"line {index + 1}")
    return sections


def parse_witec_truematch(text: str, *, source: Source) -> list[Spectrum]:
    """Parse a WITec TrueMatch ASCII export: one Spectrum per ``[SpectrumHeader]`` block.

    Parameters
    ----------
    text : str
        The whole file, decoded.
    source : Source
        Provenance of the file.

    Returns
    -------
    list of Spectrum
        One 1-D spectrum per block, ``source.block`` its 0-based index, ``meta`` with
        ``title`` and ``laser_wavelength_nm``; ``raw_meta`` with the block's header and
        ``SampleMetaData``.

    Raises
    ------
    ParseError
        No spectrum, a data block with another number of rows than ``SpectrumSize``, a
        non-numeric row, a missing or unknown ``XDataKind``, a non-monotonic axis.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> text = ("[WITEC_TRUEMATCH_ASCII_HEADER]\\nVersion = 1.0\\n[SpectrumHeader]\\n"
    ...         "Title = P1\\nExcitationWavelength = 532.2\\nSpectrumSize = 3\\nXDataKind = nm\\n"
    ...         "[SpectrumData]\\n540\\t1\\n541\\t2\\n542\\t3\\n")
    >>> s = parse_witec_truematch(text, source=Source("t.txt", "", "witec-truematch"))[0]
    >>> s.axis.name, s.meta["laser_wavelength_nm"]
    ('wavelength', 532.2)
    """
    path = source.path
    lines = _lines(text)
    sections = _ini_sections(lines, path)
    if not sections or sections[0][0] != "WITEC_TRUEMATCH_ASCII_HEADER":
        raise ParseError(path, "not a WITec TrueMatch file: no [WITEC_TRUEMATCH_ASCII_HEADER]",
                         position="line 1")
    file_header = sections[0][2]
    blocks: list[dict[str, Any]] = []
    for name, start, values, rows in sections[1:]:
        if name == "SpectrumHeader":
            blocks.append({"header": values, "line": start, "sections": {}, "rows": None})
        elif not blocks:
            raise ParseError(path, f"[{name}] before the first [SpectrumHeader]",
                             position=f"line {start + 1}")
        elif name == "SpectrumData":
            blocks[-1]["rows"] = (start, rows)
        else:
            blocks[-1]["sections"][name] = values
    if not blocks:
        raise ParseError(path, "no [SpectrumHeader] block: the file holds no spectrum")
    spectra: list[Spectrum] = []
    for number, block in enumerate(blocks):
        spectra.append(_truematch_spectrum(number, block, lines, file_header, source))
    return spectra


def _truematch_spectrum(number: int, block: dict[str, Any], lines: list[str],
                        file_header: dict[str, str], source: Source) -> Spectrum:
    path = source.path
    header: dict[str, str] = block["header"]
    where = f"line {block['line'] + 1} (spectrum {number})"
    if block["rows"] is None:
        raise ParseError(path, "the spectrum has no [SpectrumData] section", position=where)
    data_start, row_indices = block["rows"]
    if "SpectrumSize" not in header:
        raise ParseError(path, "SpectrumSize is missing from [SpectrumHeader]", position=where)
    size = parse_int(header["SpectrumSize"], path, where, "an integer SpectrumSize")
    if len(row_indices) != size:
        raise ParseError(path, f"[SpectrumData] has {len(row_indices)} rows but SpectrumSize is "
                         f"{size} (truncated file?)", position=f"line {data_start + 1}")
    if size < 3:
        raise ParseError(path, f"SpectrumSize {size}: a spectrum needs at least 3 points",
                         position=where)
    table = numeric_rows([lines[i] for i in row_indices], 0, path, delimiter=None, n_fields=2)
    if "XDataKind" not in header:
        raise ParseError(path, "XDataKind (the x-unit) is missing from [SpectrumHeader]",
                         position=where)
    axis, history = spectral_axis(header["XDataKind"], table[:, 0], path, position=where)
    meta: dict[str, Any] = {"measurement_type": "single"}
    if header.get("Title"):
        meta["title"] = header["Title"]
    laser = header.get("ExcitationWavelength")
    if laser:
        value = laser_wavelength_nm(laser)
        if value is None:
            raise ParseError(path, f"ExcitationWavelength {laser!r} is not a wavelength in nm",
                             position=where)
        meta["laser_wavelength_nm"] = parse_float(laser, path, where)
    raw: dict[str, Any] = {"file_header": dict(file_header), "SpectrumHeader": dict(header)}
    raw.update({name: dict(values) for name, values in block["sections"].items()})
    return Spectrum(axis=axis, data=table[:, 1], technique="raman", signal="counts",
                    meta=meta, raw_meta=raw, history=history,
                    source=Source(source.path, source.sha256, source.format, number,
                                  source.parser_version))


@register_parser(
    name="witec-truematch",
    technique="raman",
    extensions=(".txt",),
    magic=(TRUEMATCH_MAGIC,),
    description="WITec TrueMatch ASCII export (ini-like; one spectrum per particle/block)",
)
def read_witec_truematch(path: Path, *, encoding: str = "latin-1") -> list[Spectrum]:
    """Read a WITec TrueMatch ASCII ``.txt``.

    Parameters
    ----------
    path : Path
        The file.
    encoding : str, default "latin-1"
        Text encoding.

    Returns
    -------
    list of Spectrum
        See :func:`parse_witec_truematch`.

    Raises
    ------
    ParseError
        See :func:`parse_witec_truematch`.
    """
    data = read_bytes(path)
    source = make_source(path, "witec-truematch", data=data)
    return parse_witec_truematch(decode_text(data, path, encoding), source=source)


# ----------------------------------------------------------------------------- Graph ASCII
def _graph_files(path: Path) -> dict[str, Path]:
    match = _GRAPH_PART.match(path.name)
    if match is None:
        raise ParseError(path, "a WITec Graph ASCII export is named <prefix>_Header.txt, "
                         "<prefix>_X-Axis.txt and <prefix>_Y-Axis.txt; this name is none of them")
    prefix = match.group("prefix")
    found: dict[str, Path] = {}
    for part in ("Header", "X-Axis", "Y-Axis"):
        candidates = [p for p in path.parent.glob(f"{_glob_escape(prefix)}_*.txt")
                      if p.name.lower() == f"{prefix}_{part}.txt".lower()]
        if not candidates:
            raise ParseError(path, f"the Graph ASCII export's {prefix}_{part}.txt is missing "
                             "beside it (the three files are read together)")
        found[part] = candidates[0]
    return found


def _glob_escape(text: str) -> str:
    """Escape glob wildcards in a literal file-name prefix."""
    return re.sub(r"([*?\[\]])", r"[\1]", text)


def sniff_witec_graph(path: Path, head: bytes) -> bool:
    """True for ``<prefix>_X-Axis.txt`` / ``_Y-Axis.txt`` whose ``<prefix>_Header.txt`` is a
    WITec Graph ASCII header (the header file itself is recognised by its first line)."""
    match = _GRAPH_PART.match(path.name)
    if match is None or match.group("part").lower() == "header":
        return False
    header = path.with_name(f"{match.group('prefix')}_Header.txt")
    if not header.is_file():
        return False
    with open(header, "rb") as handle:
        return handle.read(64).lstrip(b"\xef\xbb\xbf\r\n\t ").startswith(GRAPH_MAGIC)


def _graph_header(text: str, path: str) -> dict[str, str]:
    lines = _lines(text)
    if not lines[0].strip().startswith("//Exported ASCII-File"):
        raise ParseError(path, "not a WITec Graph ASCII header: the first line must be "
                         "'//Exported ASCII-File'", position="line 1")
    header: dict[str, str] = {}
    for index, line in enumerate(lines[1:], 2):
        stripped = line.strip()
        if not stripped or stripped.startswith("["):
            continue
        if "=" not in stripped:
            raise ParseError(path, f"expected 'key = value', found {stripped[:40]!r}",
                             position=f"line {index}")
        key, value = stripped.split("=", 1)
        header[key.strip()] = value.strip()
    for key in ("SizeGraph", "XAxisUnit"):
        if key not in header:
            raise ParseError(path, f"the header has no {key} (truncated header?)")
    return header


def _column(text: str, path: str) -> np.ndarray:
    return numeric_rows(_lines(text), 0, path, delimiter=None, n_fields=1)[:, 0]


def parse_witec_graph(header_text: str, x_text: str, y_text: str, *, source: Source,
                      x_path: str = "X-Axis", y_path: str = "Y-Axis") -> list[Spectrum]:
    """Parse the three texts of a WITec Graph ASCII export into one spectrum.

    Parameters
    ----------
    header_text, x_text, y_text : str
        The decoded ``_Header``, ``_X-Axis`` and ``_Y-Axis`` files.
    source : Source
        Provenance (the file the user named).
    x_path, y_path : str
        Names of the axis files, for error messages.

    Returns
    -------
    list of Spectrum
        One 1-D spectrum; ``raw_meta`` holds the header and ``stage_position``.

    Raises
    ------
    ParseError
        A missing header key, SizeX × SizeY > 1 (not supported), an axis or data file whose
        number of values differs from SizeGraph, a non-numeric value, a non-monotonic axis.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> head = "//Exported ASCII-File\\n[Header]\\nSizeGraph = 3\\nXAxisUnit = rel. 1/cm\\n"
    >>> s = parse_witec_graph(head, "519\\n520\\n521\\n", "5\\n9\\n6\\n",
    ...                       source=Source("g_Header.txt", "", "witec-graph"))[0]
    >>> s.axis.name, s.data.tolist()
    ('raman_shift', [5.0, 9.0, 6.0])
    """
    path = source.path
    header = _graph_header(header_text, path)
    size = parse_int(header["SizeGraph"], path, "header SizeGraph")
    n_spectra = 1
    for key in ("SizeX", "SizeY"):
        if key in header:
            n_spectra *= parse_int(header[key], path, f"header {key}")
    if n_spectra != 1:
        raise ParseError(path, f"SizeX × SizeY = {n_spectra}: Graph ASCII exports of several "
                         "spectra are not supported (export the map as a Table instead)")
    x = _column(x_text, x_path)
    y = _column(y_text, y_path)
    for name, values in ((x_path, x), (y_path, y)):
        if values.size != size:
            raise ParseError(name, f"{values.size} values but the header's SizeGraph is {size} "
                             "(truncated file?)")
    axis, history = spectral_axis(header["XAxisUnit"], x, x_path)
    signal, signal_unit = signal_for_unit(header.get("DataUnit", ""))
    raw: dict[str, Any] = {"header": header}
    position = [header.get(f"Position{c}") for c in "XYZ"]
    if all(p is not None for p in position):
        raw["stage_position"] = tuple(parse_float(p or "", path, f"header Position{c}")
                                      for p, c in zip(position, "XYZ"))
        raw["stage_position_unit"] = header.get("PositionUnit", "").replace("\xb5", "µ")
    meta: dict[str, Any] = {"measurement_type": "single"}
    if header.get("GraphName"):
        meta["title"] = header["GraphName"]
    return [Spectrum(axis=axis, data=y, technique="raman", signal=signal,
                     signal_unit=signal_unit, meta=meta, raw_meta=raw, source=source,
                     history=history)]


@register_parser(
    name="witec-graph",
    technique="raman",
    extensions=(".txt",),
    magic=(GRAPH_MAGIC,),
    sniff=sniff_witec_graph,
    description="WITec Graph ASCII export (<prefix>_Header/_X-Axis/_Y-Axis.txt; any one of the "
                "three reads all)",
)
def read_witec_graph(path: Path, *, encoding: str = "latin-1") -> list[Spectrum]:
    """Read a WITec Graph ASCII export from any of its three files.

    Parameters
    ----------
    path : Path
        ``<prefix>_Header.txt``, ``<prefix>_X-Axis.txt`` or ``<prefix>_Y-Axis.txt``.
    encoding : str, default "latin-1"
        Text encoding of the three files.

    Returns
    -------
    list of Spectrum
        See :func:`parse_witec_graph`; ``raw_meta["files"]`` names the three files and their
        SHA-256.

    Raises
    ------
    ParseError
        A sibling file is missing, or see :func:`parse_witec_graph`.

    Examples
    --------
    >>> import specssb
    >>> si = specssb.read("nofilename_Y-Axis.txt")[0]  # doctest: +SKIP
    >>> si.meta["title"]  # doctest: +SKIP
    'Silicon-new_003_Spec.Data 1'
    """
    path = Path(path)
    if not path.is_file():
        raise ParseError(path, "no such file")
    files = _graph_files(path)
    data = read_bytes(path)
    texts = {part: decode_text(data if p == path else read_bytes(p), p, encoding)
             for part, p in files.items()}
    source = make_source(path, "witec-graph", data=data)
    spectra = parse_witec_graph(texts["Header"], texts["X-Axis"], texts["Y-Axis"],
                                source=source, x_path=str(files["X-Axis"]),
                                y_path=str(files["Y-Axis"]))
    spectrum = spectra[0]
    raw = dict(spectrum.raw_meta)
    raw["files"] = {part: {"name": p.name, "sha256": sha256_of(p)} for part, p in files.items()}
    return [spectrum.replace(raw_meta=raw)]
