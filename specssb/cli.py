"""The ``specssb`` command: a thin layer over the library.

Exit codes: 0 success; 1 an error (one line ``ErrorName: message`` on stderr); 2 a usage error;
3 a batch that finished but skipped bad inputs (each listed on stderr).
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from specssb import parsers
from specssb._io import atomic_write_text, jsonable, to_json
from specssb._version import __version__
from specssb.errors import ConfigError, SpecssbError, SpecssbWarning
from specssb.export import EXPORT_FORMATS, output_names, write_spectrum, write_table
from specssb.spectrum import Spectrum, meta_key_table

__all__ = ["app", "main"]

EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL = 1, 2, 3
_PDF_HELP = "Also write report.pdf beside report.html (needs Chromium: apt-get install chromium)."

app = typer.Typer(
    name="specssb",
    help="XPS, XAS, NMR and Raman processing for solid-state battery studies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide enough for a table of paths and axes when the output goes to a file or a pipe.
_out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"specssb {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """XPS, XAS, NMR and Raman processing for solid-state battery studies."""
    warnings.showwarning = _show_warning
    # the command line reports specssb's warnings (one line each) and goes on, whatever filters
    # the calling process set (e.g. a test run that turns them into errors)
    warnings.simplefilter("default", SpecssbWarning)


def _show_warning(message: Any, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Warnings as one line each on stderr: ``MetadataWarning: <message>``."""
    _err.print(f"{category.__name__}: {message}", markup=False)


def _fail(exc: BaseException) -> NoReturn:
    _err.print(f"{type(exc).__name__}: {exc}", markup=False)
    raise typer.Exit(EXIT_ERROR)


# ------------------------------------------------------------------------- reading
@dataclass
class _Read:
    """What one input gave: Spectra, or a cycler table."""

    path: Path
    format: str
    spectra: list[Spectrum] = field(default_factory=list)
    table: Any = None


def _read_any(path: Path, format_name: str | None, columns: str | None = None) -> _Read:
    info = parsers.get_format(format_name) if format_name else parsers.sniff(path)
    if info.technique == "echem":
        return _Read(path, info.name, table=parsers.read_cycler(path, format=info.name))
    options = {} if columns is None else {"columns": columns}
    return _Read(path, info.name, spectra=parsers.read(path, format=info.name, **options))


def _read_batch(
    paths: Iterable[Path], format_name: str | None, *, label: str, columns: str | None = None,
) -> tuple[list[_Read], list[tuple[Path, SpecssbError]]]:
    """Read every input, going on past bad ones; return the good results and the failures."""
    paths = list(paths)
    good: list[_Read] = []
    bad: list[tuple[Path, SpecssbError]] = []
    show = sys.stderr.isatty() and len(paths) > 1
    for path in track(paths, description=label, console=_err, disable=not show, transient=True):
        try:
            good.append(_read_any(path, format_name, columns))
        except SpecssbError as exc:
            bad.append((path, exc))
    return good, bad


def _finish(good: list[Any], bad: list[tuple[Path, SpecssbError]]) -> None:
    """Report failures; exit 1 when nothing succeeded, 3 when some inputs were skipped."""
    for _, exc in bad:
        _err.print(f"{type(exc).__name__}: {exc}", markup=False)
    if bad and not good:
        raise typer.Exit(EXIT_ERROR)
    if bad:
        _err.print(f"{len(bad)} of {len(good) + len(bad)} inputs skipped", markup=False)
        raise typer.Exit(EXIT_PARTIAL)


def _table_summary(result: _Read) -> dict[str, Any]:
    table = result.table
    times = table["Date Time"] if "Date Time" in table else None
    return jsonable(
        {
            "technique": "echem",
            "format": result.format,
            "rows": int(len(table)),
            "columns": [str(c) for c in table.columns],
            "start": times.iloc[0] if times is not None and len(times) else None,
            "end": times.iloc[-1] if times is not None and len(times) else None,
            "cycles": int(table["Cycle Count / 1"].nunique()) if "Cycle Count / 1" in table else None,
            "source": table.attrs.get("source"),
        }
    )


def _label(meta: Any) -> str:
    """What a spectrum is of: the XPS region, the XAS element and edge, or the NMR nucleus."""
    if meta.get("region"):
        return str(meta["region"])
    if meta.get("element"):
        return " ".join(str(meta[k]) for k in ("element", "edge") if meta.get(k))
    return str(meta.get("nucleus") or meta.get("title") or "")


def _describe(spectrum: Spectrum) -> str:
    axis = spectrum.axis
    label = _label(spectrum.meta)
    shape = "×".join(str(n) for n in spectrum.shape)
    block = spectrum.source.block if spectrum.source and spectrum.source.block is not None else ""
    return (
        f"  {spectrum.technique:5} {label or '-':14} {axis.name} {axis.values[0]:.6g}→"
        f"{axis.values[-1]:.6g} {axis.unit}  shape {shape} {spectrum.signal}"
        + (f"  [{block}]" if block != "" else "")
    )


# ------------------------------------------------------------------------ commands
FilesArg = Annotated[
    list[Path], typer.Argument(help="Instrument files or Bruker experiment folders.", metavar="FILE...", show_default=False)
]
FormatOpt = Annotated[
    str | None, typer.Option("--format", "-f", help="Format name (see 'specssb formats'); sniffed by default.")
]
ColumnsOpt = Annotated[str | None, typer.Option(
    "--columns",
    help="Column roles of beamline text files, e.g. 'mu=ln(i0/it); reference=ln(it/iref)' "
         "(parsed, never evaluated; formats that take it: xas-columns).",
)]


def _set_memory_limit(value: str | None) -> str | None:
    """``--memory-limit``: set the ceiling for this process and its workers (bad value: exit 2)."""
    if value is not None:
        from specssb._memory import set_memory_limit

        try:
            set_memory_limit(value)
        except ConfigError as exc:
            raise typer.BadParameter(exc.reason) from exc
    return value


MemoryLimitOpt = Annotated[str | None, typer.Option(
    "--memory-limit", callback=_set_memory_limit,
    help="Largest array a reader or the fit may allocate, e.g. 4GiB, 500MB, 50% (of RAM) or none "
         "(default $SPECSSB_MEMORY_LIMIT, else 75% of the physical memory); above it: "
         "MemoryLimitError, exit 1.",
)]


@app.command()
def formats(
    details: Annotated[bool, typer.Option("--details", help="Also list each reader's options.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the Markdown table of docs/formats.md.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every registered file format."""
    found = parsers.formats()
    if markdown:
        typer.echo(formats_markdown())
        return
    if as_json:
        typer.echo(
            to_json(
                [
                    {
                        "name": f.name,
                        "technique": f.technique,
                        "extensions": list(f.extensions),
                        "magic": [m.decode("latin-1") for m in f.magic],
                        "description": f.description,
                        "options": {k: {"default": d, "type": t} for k, (d, t) in f.options.items()},
                    }
                    for f in found
                ]
            )
        )
        return
    table = Table("format", "technique", "extensions", "description")
    for f in found:
        table.add_row(f.name, f.technique, " ".join(f.extensions) or "(folder)", f.description)
        if details:
            for name, (default, kind) in f.options.items():
                table.add_row("", "", f"  --{name}", f"{kind} = {default!r}")
    _out.print(table)


def formats_markdown() -> str:
    """The Markdown text of ``docs/formats.md`` (generated, kept true by a test)."""
    lines = [
        "# Formats",
        "",
        "Generated by `specssb formats --markdown`; do not edit by hand.",
        "",
        "| format | technique | extensions | content sniffed by | description | reader options |",
        "|---|---|---|---|---|---|",
    ]
    for f in parsers.formats():
        sniffed = ", ".join(f"`{m.decode('latin-1')}`" for m in f.magic)
        if f.sniff is not None:
            sniffed = ", ".join(filter(None, [sniffed, "content test"]))
        options = ", ".join(f"`{k}={d!r}`" for k, (d, _) in f.options.items()) or "-"
        lines.append(
            f"| `{f.name}` | {f.technique} | {' '.join(f.extensions) or '(folder)'} | "
            f"{sniffed or '-'} | {f.description} | {options} |"
        )
    lines += ["", "## Normalized metadata keys", "", meta_key_table(), ""]
    return "\n".join(lines)


@app.command()
def info(
    files: FilesArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array, one object per spectrum.")] = False,
    format_name: FormatOpt = None,
    columns: ColumnsOpt = None,
) -> None:
    """Show what each file holds: technique, axis, shape, metadata, provenance."""
    good, bad = _read_batch(files, format_name, label="reading", columns=columns)
    if as_json:
        items: list[Any] = []
        for result in good:
            if result.table is not None:
                items.append(_table_summary(result))
            items.extend(s.summary() for s in result.spectra)
        typer.echo(json.dumps(items, indent=2, ensure_ascii=False))
    else:
        for result in good:
            _out.print(f"{result.path} ({result.format})", markup=False)
            if result.table is not None:
                summary = _table_summary(result)
                _out.print(
                    f"  echem {summary['rows']} records, {summary['cycles']} cycles, "
                    f"{summary['start']} → {summary['end']}",
                    markup=False,
                )
            for spectrum in result.spectra:
                _out.print(_describe(spectrum), markup=False)
    _finish(good, bad)


@app.command()
def convert(
    files: FilesArg,
    to: Annotated[str, typer.Option("--to", help=f"Output format: {', '.join(EXPORT_FORMATS)}.")] = "csv",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created if missing).")] = Path("."),
    format_name: FormatOpt = None,
    columns: ColumnsOpt = None,
) -> None:
    """Convert instrument files to CSV, Parquet or JSON, one output per spectrum."""
    if to not in EXPORT_FORMATS:
        _err.print(f"Usage error: --to must be one of {', '.join(EXPORT_FORMATS)}, not {to!r}", markup=False)
        raise typer.Exit(EXIT_USAGE)
    good, bad = _read_batch(files, format_name, label="converting", columns=columns)
    for result in good:
        try:
            if result.table is not None:
                typer.echo(write_table(result.table, out / f"{result.path.stem}.{to}", to=to))
            for spectrum, name in zip(result.spectra, output_names(result.spectra, str(result.path), to)):
                typer.echo(write_spectrum(spectrum, out / name, to=to))
        except SpecssbError as exc:
            bad.append((result.path, exc))
        except OSError as exc:
            _fail(exc)
    _finish(good, bad)


@app.command()
def recipes(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the built-in fit recipes."""
    from specssb.fitting.recipe import list_recipes

    found = list_recipes()
    if as_json:
        typer.echo(to_json([{"name": r.name, "technique": r.technique, "description": r.description,
                             "hash": r.hash} for r in found]))
        return
    table = Table("recipe", "technique", "selects", "description")
    for recipe in found:
        selects = " ".join(f"{k}={v}" for k, v in recipe.select.model_dump(exclude_none=True).items())
        table.add_row(recipe.name, recipe.technique, selects, recipe.description)
    _out.print(table)


@app.command()
def fit(
    files: FilesArg,
    recipe: Annotated[str, typer.Option("--recipe", "-r", help="Built-in recipe name or TOML file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("fits"),
    engine: Annotated[str, typer.Option("--engine", help="auto, batched or lmfit.")] = "auto",
    workers: Annotated[int, typer.Option("--workers", help="Local worker processes.")] = 1,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="dask scheduler address, or 'local'.")
    ] = None,
    plots: Annotated[int, typer.Option("--plots", help="PNG figures of at most this many fits.")] = 20,
    calibrate: Annotated[bool, typer.Option(
        "--calibrate/--no-calibrate",
        help="XPS: charge-correct every region of each file as the recipe's [calibrate] says.",
    )] = True,
    reference: Annotated[list[str] | None, typer.Option(
        "--reference", help="XAS: a reference spectrum for LCF/MCR as label=path (repeat it).",
    )] = None,
    format_name: FormatOpt = None,
    columns: ColumnsOpt = None,
    memory_limit: MemoryLimitOpt = None,
) -> None:
    """Fit every matching spectrum with a recipe; write fits.parquet, fits.csv and figures.

    An XAS recipe (``technique = "xas"``) runs its [steps] over the matching scans as one
    series in acquisition order (normalize, edge positions, LCF, PCA, MCR-ALS, EXAFS) and
    writes the same table with an ``acquired_at`` column, plus series.png and pca.csv.

    XPS fits are also checked for the common fitting mistakes (specssb.fitting.xps.checks): each
    finding is warned and listed in checks.csv.

    For an XPS recipe with a ``[calibrate]`` table, every file's regions are first shifted by
    one charge correction found in that file (e.g. its C 1s region); ``--no-calibrate`` skips
    it.
    """
    from specssb.fitting.engine import fit as run_fit
    from specssb.fitting.plots import plot_fit, plot_overview, save_figure
    from specssb.fitting.recipe import load_recipe

    try:
        chosen = load_recipe(recipe)
    except SpecssbError as exc:
        _fail(exc)
    good, bad = _read_batch(files, format_name, label="reading", columns=columns)
    if calibrate and chosen.technique == "xps" and chosen.calibrate:
        from specssb.fitting.xps.charge import charge_correct_with_recipe

        try:
            for result in good:
                result.spectra = charge_correct_with_recipe(result.spectra, chosen.calibrate)
        except SpecssbError as exc:
            _fail(exc)
        _write_charge_corrections(good, out / "charge_corrections.csv")
    selected = [s for r in good for s in r.spectra if chosen.applies_to(s)]
    if chosen.technique == "nmr" and not chosen.steps:  # 1D FIDs: processed as their procs say
        selected = _processed_fids(selected)
    if not selected:
        _fail(SpecssbError(f"no spectrum in the inputs matches recipe {chosen.name!r} "
                           f"(technique {chosen.technique}, select {chosen.select.model_dump(exclude_none=True)})"))
    if chosen.technique == "xas":
        _fit_xas(selected, chosen, recipe, reference or [], out, plots)
        _finish(good, bad)
        return
    try:
        table = run_fit(selected, chosen, engine=engine, workers=workers, scheduler=scheduler)
    except SpecssbError as exc:
        _fail(exc)
    table.to_parquet(out / "fits.parquet")
    table.to_csv(out / "fits.csv")
    if chosen.technique == "xps":
        _write_xps_checks(table, selected, out / "checks.csv")
    for spectrum in range(min(plots, table.n_spectra)):
        save_figure(plot_fit(table, spectrum), out / f"fit_{spectrum:04d}.png")
    save_figure(plot_overview(table), out / "overview.png")
    converged = table.frame.groupby("spectrum")["converged"].first()
    _out.print(f"{table.n_spectra} spectra fitted with {chosen.name} ({int(converged.sum())} converged) "
               f"→ {out / 'fits.parquet'}", markup=False)
    _finish(good, bad)


def _fit_xas(spectra: list[Spectrum], chosen: Any, recipe: str, references: list[str], out: Path,
             plots: int) -> None:
    """``specssb fit`` with an XAS recipe: one series analysis, its table and figures."""
    from specssb._io import atomic_write_with
    from specssb.fitting.plots import save_figure
    from specssb.fitting.xas.pipeline import analyze
    from specssb.fitting.xas.plots import plot_lcf_fit, plot_series

    given: dict[str, str] = {}
    for item in references:
        label, separator, path = item.partition("=")
        if not separator or not label.strip() or not path.strip():
            _fail(ConfigError(f"--reference {item!r}: expected label=path", key="reference"))
        given[label.strip()] = path.strip()
    scans = [s for s in spectra if not (s.source is not None and s.source.block == "reference")]
    # relative reference paths: from the recipe file's folder, or for a built-in recipe from
    # the folder of the first scan
    first = scans[0].source.path if scans and scans[0].source is not None else None
    base = Path(recipe).parent if Path(recipe).suffix == ".toml" else (
        Path(first).parent if first else None)
    try:
        analysis = analyze(scans, chosen, references=given or None, base=base)
    except SpecssbError as exc:
        _fail(exc)
    analysis.table.to_parquet(out / "fits.parquet")
    analysis.table.to_csv(out / "fits.csv")
    if analysis.pca is not None:
        scree = analysis.pca.scree()
        atomic_write_with(out / "pca.csv", lambda stream: scree.to_csv(stream, index=False))
    save_figure(plot_series(analysis), out / "series.png")
    if analysis.lcf is not None:
        for spectrum in range(min(plots, analysis.lcf.n_spectra)):
            save_figure(plot_lcf_fit(analysis, spectrum), out / f"lcf_{spectrum:04d}.png")
    _out.print(f"{analysis.series.n_spectra} XAS scans analysed with {chosen.name} "
               f"→ {out / 'fits.parquet'}", markup=False)


def _write_xps_checks(table: Any, spectra: list[Spectrum], path: Path) -> None:
    """The physics checks of an XPS fit: warned one line each, and written as a table."""
    from specssb._io import atomic_write_with
    from specssb.fitting.xps.checks import check_fit

    findings = check_fit(table, spectra)
    atomic_write_with(path, lambda stream: findings.to_csv(stream, index=False))


def _write_charge_corrections(results: list[_Read], path: Path) -> None:
    """One row per file: the charge correction applied to its regions (its history step)."""
    import pandas as pd

    from specssb._io import atomic_write_with

    rows = []
    for result in results:
        steps = [s.history[-1] for s in result.spectra
                 if s.history and s.history[-1].operation == "charge_correction"]
        if steps:
            rows.append({"file": str(result.path), **steps[0].parameters})
        else:
            rows.append({"file": str(result.path), "method": "none (no reference region)"})
    frame = pd.DataFrame(rows)
    atomic_write_with(path, lambda stream: frame.to_csv(stream, index=False))


@app.command()
def demo(
    data: Annotated[Path, typer.Option("--data", help="Folder of sample files.")] = Path("sample_data"),
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder.")] = Path("demo_output"),
    pdf: Annotated[bool, typer.Option("--pdf", help=_PDF_HELP)] = False,
) -> None:
    """Read every sample file, write an inventory, and the session report of the folder
    (``<out>/report/report.html``)."""
    no_pdf = False
    if not data.is_dir():
        _fail(FileNotFoundError(f"{data}: no such folder (run from the repository, or pass --data)"))
    items = parsers.discover(data)
    unknown = [(p, why) for p, f, why in items if f is None]
    good, bad = _read_batch([p for p, f, _ in items if f is not None], None, label="reading samples")
    table = Table("file", "format", "technique", "what", "axis", "shape", "acquired (UTC)",
                  title=f"specssb demo: {data}")
    inventory: list[dict[str, Any]] = []
    for result in good:
        relative = str(result.path.relative_to(data))
        if result.table is not None:
            summary = _table_summary(result)
            table.add_row(relative, result.format, "echem", f"{summary['cycles']} cycles",
                          "time", f"{summary['rows']} rows", _when(summary["start"]))
            inventory.append({"file": relative, **summary})
        for spectrum in result.spectra:
            label = _label(spectrum.meta)
            axis = spectrum.axis
            table.add_row(relative, result.format, spectrum.technique, label or "-",
                          f"{axis.name} {axis.values.min():.5g}–{axis.values.max():.5g} {axis.unit}",
                          "×".join(map(str, spectrum.shape)), _when(spectrum.meta.get("acquired_at")))
            inventory.append({"file": relative, **spectrum.summary()})
    _out.print(table)
    report = {
        "specssb": __version__,
        "data": str(data),
        "spectra": inventory,
        "failed": [{"file": str(p), "error": f"{type(e).__name__}: {e}"} for p, e in bad],
        "not_recognised": [{"file": str(p), "reason": why} for p, why in unknown],
    }
    report["fits"] = _demo_fits([s for r in good for s in r.spectra], out / "fits")
    atomic_write_text(out / "inventory.json", to_json(report) + "\n")
    atomic_write_text(out / "inventory.md", _inventory_markdown(report))
    _out.print(f"report written to {out / 'inventory.md'} and {out / 'inventory.json'}", markup=False)
    try:  # the session report of the same folder; its store stays inside the demo output
        html, _ = _session_report(data, out / "report", store=out / "store")
        _out.print(f"session report written to {html}", markup=False)
        no_pdf = pdf and not _write_pdf(html)
    except SpecssbError as exc:
        _err.print(f"session report not written: {type(exc).__name__}: {exc}", markup=False)
    _finish(good, bad)
    if no_pdf:
        raise typer.Exit(EXIT_USAGE)


def _demo_fits(spectra: list[Spectrum], out: Path) -> list[dict[str, Any]]:
    """Fit every built-in recipe to the sample spectra it applies to; one folder per recipe."""
    import numpy as np

    from specssb.fitting.engine import fit as run_fit
    from specssb.fitting.plots import plot_fit, plot_overview, save_figure
    from specssb.fitting.recipe import list_recipes

    done = []
    spectra = _processed_fids(spectra)
    for recipe in list_recipes():
        if recipe.technique == "nmr" and "csi" in recipe.steps:
            done += _demo_csi(recipe, [s for s in spectra if recipe.applies_to(s)], out)
            continue
        chosen = [s for s in spectra if recipe.applies_to(s) and not np.iscomplexobj(s.data)]
        if not chosen:
            continue
        if recipe.technique == "xas":
            done += _demo_xas(recipe, chosen, out)
            continue
        try:
            table = run_fit(chosen, recipe)
        except SpecssbError as exc:
            _err.print(f"{recipe.name}: {type(exc).__name__}: {exc}", markup=False)
            continue
        folder = out / recipe.name
        table.to_parquet(folder / "fits.parquet")
        table.to_csv(folder / "fits.csv")
        save_figure(plot_fit(table, table.n_spectra - 1), folder / "last_fit.png")
        save_figure(plot_overview(table), folder / "overview.png")
        fractions = table.values("fraction").round(4)
        _out.print(f"{recipe.name}: {table.n_spectra} spectra fitted → {folder}", markup=False)
        _out.print(fractions.to_string(), markup=False)
        done.append({"recipe": recipe.name, "spectra": table.n_spectra, "folder": str(folder)})
    return done


def _processed_fids(spectra: list[Spectrum]) -> list[Spectrum]:
    """1D NMR FIDs processed as their TopSpin ``procs`` say (others unchanged), so NMR peak
    recipes see spectra; a FID that cannot be processed is reported and kept raw."""
    from specssb.fitting.nmr.processing import process_fids

    processed, notes = process_fids(spectra)
    for note in notes:
        if note.startswith("FID not processed"):
            _err.print(note, markup=False)
    return processed


def _demo_csi(recipe: Any, spectra: list[Spectrum], out: Path) -> list[dict[str, Any]]:
    """A CSI recipe on every raw CSI data set it applies to: profiles with errors, as CSV."""
    from specssb._io import atomic_write_with
    from specssb.fitting.nmr import profiles_from_recipe

    done = []
    for spectrum in spectra:
        if spectrum.signal != "fid" or not spectrum.leading_shape or spectrum.source is None:
            continue
        try:
            profiles = profiles_from_recipe(spectrum, recipe)
        except SpecssbError as exc:
            _err.print(f"{recipe.name}: {_describe(spectrum)}: {type(exc).__name__}: {exc}", markup=False)
            continue
        name = Path(spectrum.source.path)
        target = out / recipe.name / f"{name.parent.name}_{name.name}_profiles.csv"
        atomic_write_with(target, lambda stream, table=profiles.table: table.to_csv(stream, index=False))
        _out.print(f"{recipe.name}: CSI profiles of {name} → {target}", markup=False)
        done.append({"recipe": recipe.name, "spectra": 1, "folder": str(target.parent)})
    return done


def _demo_xas(recipe: Any, spectra: list[Spectrum], out: Path) -> list[dict[str, Any]]:
    """An XAS recipe on each folder of scans it applies to (a folder is one series).

    Template recipes whose LCF names no references are left out: they need ``--reference``.
    """
    from specssb.fitting.plots import save_figure
    from specssb.fitting.xas.pipeline import analyze
    from specssb.fitting.xas.plots import plot_series

    if "lcf" in recipe.steps and not recipe.steps["lcf"].get("references"):
        return []
    folders: dict[Path, list[Spectrum]] = {}
    for spectrum in spectra:
        if spectrum.source is not None and spectrum.source.block != "reference":
            folders.setdefault(Path(spectrum.source.path).parent, []).append(spectrum)
    done = []
    for folder, scans in folders.items():
        try:
            analysis = analyze(scans, recipe, base=folder)
        except SpecssbError as exc:
            _err.print(f"{recipe.name} on {folder}: {type(exc).__name__}: {exc}", markup=False)
            continue
        target = out / recipe.name / folder.name
        analysis.table.to_parquet(target / "fits.parquet")
        analysis.table.to_csv(target / "fits.csv")
        save_figure(plot_series(analysis), target / "series.png")
        _out.print(f"{recipe.name}: {analysis.series.n_spectra} XAS scans of {folder} → {target}",
                   markup=False)
        done.append({"recipe": recipe.name, "spectra": analysis.series.n_spectra, "folder": str(target)})
    return done


@app.command()
def report(
    session: Annotated[Path, typer.Argument(
        help="Session folder: measurement files, optionally a session.toml.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder (created if missing).")] = Path("report"),
    store: Annotated[Path | None, typer.Option(
        "--store", help="Result store folder (default $SPECSSB_STORE, else ~/.local/share/specssb/store).",
    )] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not add the results to the store.")] = False,
    pdf: Annotated[bool, typer.Option("--pdf", help=_PDF_HELP)] = False,
    memory_limit: MemoryLimitOpt = None,
) -> None:
    """Analyse a session folder and write report.html and species_vs_cycle.parquet/.csv.

    Every file is sniffed and analysed with the recipe session.toml names or the built-in one
    chosen for it; spectra are placed on the cycles of the session's cycler file (or their
    tags); the results are added to the store. Exit code 3 when some files failed (the report
    lists them), 1 when nothing could be analysed. --pdf prints the report to report.pdf with
    headless Chromium; without Chromium the HTML is still written and the exit code is 2.
    """
    from specssb.report.store import default_store

    folder = None if no_store else (store if store is not None else default_store())
    try:
        target, result = _session_report(session, out, store=folder)
    except SpecssbError as exc:
        _fail(exc)
    analysed = [a for a in result.analyses if a.table is not None]
    failed = [f"{f.file}: {f.reason}" for f in result.failed]
    failed += [f"analysis {a.label}: {a.error}" for a in result.analyses if a.error]
    for line in failed:
        _err.print(line, markup=False)
    _out.print(f"{len(analysed)} of {len(result.analyses)} analyses → {target}", markup=False)
    _pdf_or_exit(target, pdf)
    if not analysed:
        _err.print(f"nothing in {session} could be analysed", markup=False)
        raise typer.Exit(EXIT_ERROR)
    if failed:
        _err.print(f"{len(failed)} failures, listed in the report", markup=False)
        raise typer.Exit(EXIT_PARTIAL)


def _write_pdf(html: Path) -> bool:
    """Print ``html`` to ``report.pdf`` beside it; False (saying why) when there is no Chromium.

    A Chromium that fails is an error (exit 1)."""
    from specssb.report.browser import find_chromium, print_pdf

    if find_chromium() is None:
        _err.print(f"--pdf needs Chromium: install Debian's chromium (apt-get install chromium) or "
                   f"set SPECSSB_CHROMIUM; {html} was written, no PDF", markup=False)
        return False
    try:
        target = print_pdf(html, html.with_name("report.pdf"))
    except SpecssbError as exc:
        _fail(exc)
    _out.print(f"PDF written to {target}", markup=False)
    return True


def _pdf_or_exit(html: Path, pdf: bool) -> None:
    """``--pdf``: the PDF of the report, or exit as a usage error when Chromium is missing."""
    if pdf and not _write_pdf(html):
        raise typer.Exit(EXIT_USAGE)


def _session_report(folder: Path, out: Path, *, store: Path | None) -> tuple[Path, Any]:
    """Session → run → cycler table → cycles → store → report; returns the report and the run."""
    from specssb.report.render import write_session_report
    from specssb.report.session import Session

    session = Session.open(folder)
    result = _run_session(session)
    return write_session_report(session, result, out=out, store=store), result


def _run_session(session: Any) -> Any:
    """Run a session's plan, with a progress bar when stderr is a terminal."""
    if not _err.is_terminal:
        return session.run()
    from rich.progress import Progress

    with Progress(console=_err, transient=True) as bar:
        task = bar.add_task("analysing", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        return session.run(progress=progress)


@app.command()
def watch(
    folder: Annotated[Path, typer.Argument(
        help="Session folder a measurement is writing into.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder (created if missing).")] = Path("report"),
    store: Annotated[Path | None, typer.Option(
        "--store", help="Result store folder (default $SPECSSB_STORE, else ~/.local/share/specssb/store).",
    )] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not add the results to the store.")] = False,
    idle: Annotated[float, typer.Option(
        "--idle", min=0.0, help="Write the report and stop after this many seconds without a change.",
    )] = 3600.0,
    poll: Annotated[float, typer.Option(
        "--poll", min=0.05, help="Seconds between looks at the folder; a file is read once its size "
                                 "and time have not changed for two looks.",
    )] = 2.0,
    pdf: Annotated[bool, typer.Option("--pdf", help=_PDF_HELP)] = False,
    memory_limit: MemoryLimitOpt = None,
) -> None:
    """Analyse a session folder as files are completed, and write the report at the end.

    Half-written files (still changing) and temporary files (.*, ~*, *.tmp, *.part) are left
    alone; each complete file is read once and printed. The report (as `specssb report`
    writes it) is written when nothing changed for --idle seconds, or on Ctrl-C or SIGTERM;
    the results go to the store then. Exit codes as `specssb report`.
    """
    from specssb.report.store import default_store
    from specssb.report.watch import watch as watch_folder

    def show(event: Any) -> None:
        if event.kind == "taken":
            _out.print(f"+ {event.relative}: {event.message}", markup=False)
        elif event.kind == "removed":
            _out.print(f"- {event.relative}: {event.message}", markup=False)
        else:
            _err.print(f"! {event.relative}: {event.message}", markup=False)

    folder_store = None if no_store else (store if store is not None else default_store())
    _out.print(f"watching {folder} (Ctrl-C writes the report)", markup=False)
    try:
        outcome = watch_folder(folder, out=out, store=folder_store, idle=idle, poll=poll, on_event=show)
    except SpecssbError as exc:
        _fail(exc)
    result = outcome.result
    analysed = [a for a in result.analyses if a.table is not None]
    failed = [f"{f.file}: {f.reason}" for f in result.failed]
    failed += [f"analysis {a.label}: {a.error}" for a in result.analyses if a.error]
    for line in failed:
        _err.print(line, markup=False)
    ended = {"idle": f"idle for {idle:g} s", "interrupt": "interrupted", "terminated": "terminated"}
    _out.print(f"{ended[outcome.reason]}: {len(analysed)} of {len(result.analyses)} analyses → "
               f"{outcome.report}", markup=False)
    _pdf_or_exit(Path(outcome.report), pdf)
    if not analysed:
        _err.print(f"nothing in {folder} could be analysed", markup=False)
        raise typer.Exit(EXIT_ERROR)
    if failed:
        _err.print(f"{len(failed)} failures, listed in the report", markup=False)
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
def history(
    species: Annotated[str, typer.Argument(help="Species label, e.g. li2s (any case).")],
    quantity: Annotated[str, typer.Option(
        "--quantity", "-q", help="Fitted quantity: fraction, area, center, integral, ...",
    )] = "fraction",
    store: Annotated[Path | None, typer.Option(
        "--store", help="Store folder (default $SPECSSB_STORE, else ~/.local/share/specssb/store).",
    )] = None,
    session: Annotated[str | None, typer.Option("--session", help="Only this session.")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Print one species' fitted values across the sessions in the result store."""
    from rich.text import Text

    from specssb.errors import StoreError
    from specssb.report.store import Store, default_store

    folder = store if store is not None else default_store()
    if not folder.is_dir():
        _fail(StoreError(f"no store at {folder} (give --store DIR or set SPECSSB_STORE)"))
    try:
        results = Store(folder)
        found = results.values(species, quantity, session=session)
        if found.empty:
            known = results.query("SELECT DISTINCT species, quantity FROM results ORDER BY 1, 2")
            pairs = ", ".join(f"{s}/{q}" for s, q in known.itertuples(index=False)) or "none"
            _fail(StoreError(f"no {quantity!r} of species {species!r} in {folder}"
                             f"{f' (session {session!r})' if session else ''}; species/quantity "
                             f"there: {pairs}"))
    except SpecssbError as exc:
        _fail(exc)
    if as_csv:
        typer.echo(found.to_csv(index=False), nl=False)
        return
    table = Table("session", "cycle", "SoC", "acquired (UTC)", "technique", "file", "index",
                  quantity, "±", "unit", "converged", title=Text(f"{species} {quantity} in {folder}"))
    for row in found.itertuples(index=False):
        cells = (row.session, "" if _missing(row.cycle) else str(int(row.cycle)),
                 "" if _missing(row.state_of_charge) else f"{row.state_of_charge:.3g}",
                 "" if _missing(row.acquired_at) else _when(row.acquired_at),
                 "" if _missing(row.technique) else row.technique,
                 f"{Path(row.source).name} {row.block}".strip(), row.index, f"{row.value:.6g}",
                 f"{row.stderr:.2g}", row.unit, "yes" if row.converged else "NO")
        table.add_row(*(Text(str(cell)) for cell in cells))  # text from files is never markup
    _out.print(table)


def _missing(value: Any) -> bool:
    """True for None, NaN and NaT (pandas' missing values)."""
    import pandas as pd

    return bool(pd.isna(value))


def _when(value: Any) -> str:
    """A timestamp to the minute, for tables ('' when unknown)."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text[:16].replace("T", " ")


def _inventory_markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# specssb demo report ({report['specssb']})",
        "",
        f"Every file in `{report['data']}`, read and normalized to the common Spectrum object.",
        "",
        "| file | technique | what | axis | shape |",
        "|---|---|---|---|---|",
    ]
    for item in report["spectra"]:
        if item["technique"] == "echem":
            lines.append(f"| {item['file']} | echem | {item['cycles']} cycles | time | {item['rows']} rows |")
            continue
        what = _label(item["meta"])
        axis = item["axis"]
        lines.append(
            f"| {item['file']} | {item['technique']} | {what or '-'} | {axis['name']} "
            f"{axis['min']:.5g}–{axis['max']:.5g} {axis['unit']} | {'×'.join(map(str, item['shape']))} |"
        )
    for failure in report["failed"]:
        lines.append(f"\n**failed**: {failure['file']}: {failure['error']}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Entry point of the ``specssb`` script."""
    try:
        app()
    except SpecssbError as exc:  # anything a command did not handle itself
        _err.print(f"{type(exc).__name__}: {exc}", markup=False)
        sys.exit(EXIT_ERROR)
