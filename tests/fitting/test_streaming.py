"""A map kept on disk is fitted chunk by chunk: never copied into memory whole.

A Spectrum keeps a read-only memory-mapped array as it is (``numpy.load(mmap_mode="r")``), and
:func:`specssb.fit` reads it one chunk at a time, computes weights and the subtracted baseline
per chunk, and keeps nothing of size (spectra × points): the baseline of a drawn curve is
recomputed. ``tracemalloc`` counts every numpy allocation but not the file's mapped pages, so
its peak is what the fit itself allocated.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from specssb import Axis, Spectrum, fit
from specssb.fitting.backgrounds import get_background
from specssb.fitting.lineshapes import get_lineshape
from specssb.fitting.recipe import Recipe
from specssb.spectrum import is_mapped

RECIPE = """
name = "streamed-band"
technique = "raman"
[background]
kind = "linear"
[[component]]
species = "band"
shape = "lorentzian"
height = {value = "guess", min = 0}
center = {value = 424, min = 410, max = 440}
fwhm = {value = 8, min = 2, max = 30}
"""

ROWS, COLUMNS, POINTS = 100, 200, 1000  # 20,000 spectra: 80 MB as float32 on disk


@pytest.fixture(scope="module")
def map_on_disk(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, np.ndarray]:
    """(shift, memory-mapped counts) of a Raman map written row by row to a .npy file."""
    path = tmp_path_factory.mktemp("map") / "map.npy"
    shift = np.linspace(150.0, 1250.0, POINTS)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(ROWS, COLUMNS, POINTS))
    rng = np.random.default_rng(7)
    lorentzian = get_lineshape("lorentzian")
    for row in range(ROWS):
        shape = (COLUMNS, 1)
        band = lorentzian.evaluate(shift, rng.uniform(600, 1000, shape), rng.uniform(420, 428, shape),
                                   rng.uniform(7, 11, shape))
        out[row] = rng.poisson(band + 150.0 + 0.1 * (shift - 150.0))
    out.flush()
    del out
    return shift, np.load(path, mmap_mode="r")


def _spectrum(shift: np.ndarray, counts: np.ndarray) -> Spectrum:
    return Spectrum(axis=Axis("raman_shift", "cm-1", shift), data=counts, technique="raman",
                    signal="counts", dims=("y", "x"))


def test_a_spectrum_keeps_a_read_only_mapped_array_on_disk(map_on_disk) -> None:
    shift, counts = map_on_disk
    spectrum = _spectrum(shift, counts)
    assert is_mapped(spectrum.data) and np.shares_memory(spectrum.data, counts)
    assert not spectrum.data.flags.writeable
    writable = np.array(counts[:2])  # an ordinary array is still copied
    assert not np.shares_memory(_spectrum(shift, writable).data, writable)


def test_a_map_on_disk_is_fitted_without_a_copy_of_it(map_on_disk) -> None:
    shift, counts = map_on_disk
    recipe = Recipe.from_text(RECIPE)
    tracemalloc.start()
    try:
        table = fit(_spectrum(shift, counts), recipe, engine="batched")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    as_float64 = counts.size * 8
    assert table.n_spectra == ROWS * COLUMNS
    assert table.frame.groupby("spectrum")["converged"].first().all()
    # measured 39 MB (mostly the table of 20,000 spectra); an in-memory copy alone is 160 MB
    assert peak < 0.35 * as_float64, f"fit allocated {peak / 1e6:.0f} MB for a {as_float64 / 1e6:.0f} MB map"
    centers = table.values("center")["band"].to_numpy()
    assert np.all((centers > 418) & (centers < 430))


def test_streamed_results_and_curves_equal_the_in_memory_fit(map_on_disk) -> None:
    shift, counts = map_on_disk
    recipe = Recipe.from_text(RECIPE)
    some = np.asarray(counts[:3])  # 600 spectra, read into memory
    on_disk = fit(_spectrum(shift, counts[:3]), recipe, engine="batched")
    in_memory = fit(_spectrum(shift, some), recipe, engine="batched")
    columns = ["spectrum", "species", "quantity", "value", "stderr", "converged"]
    assert on_disk.frame[columns].equals(in_memory.frame[columns])
    for spectrum in (0, 311, 599):
        a, b = on_disk.curves(spectrum), in_memory.curves(spectrum)
        for key in ("data", "background", "envelope", "residual"):
            np.testing.assert_array_equal(a[key], b[key])
        # the subtracted line of that very spectrum (not of its neighbours)
        expected, _ = get_background("linear")(shift, some.reshape(-1, POINTS)[spectrum].astype(float))
        np.testing.assert_allclose(a["background"], expected, rtol=1e-12)


def test_a_map_larger_than_the_memory_ceiling_still_fits(map_on_disk, monkeypatch) -> None:
    """The ceiling bounds what is allocated at once (one chunk's working arrays), not the map."""
    shift, counts = map_on_disk
    monkeypatch.setenv("SPECSSB_MEMORY_LIMIT", "40MB")  # half the file, a quarter of it as float64
    table = fit(_spectrum(shift, counts[:10]), Recipe.from_text(RECIPE), engine="batched")
    assert table.n_spectra == 10 * COLUMNS


@pytest.mark.parametrize("scheduler", [None, "local"])
def test_workers_are_sent_the_rows_place_in_the_file_not_the_rows(map_on_disk, monkeypatch, scheduler):
    """Local processes and a local dask cluster map the file themselves: each chunk travels as
    a FileView of ~150 bytes instead of 100 spectra x 1,000 points, and the table is the same."""
    if scheduler:
        pytest.importorskip("distributed")
    import pickle

    from specssb._file_views import FileView
    from specssb.fitting import engine

    shift, counts = map_on_disk
    recipe = Recipe.from_text(RECIPE)
    sent: list[object] = []

    def recording(function, chunks, **options):
        sent.extend(chunk[3] for chunk in chunks)
        return map_chunks(function, chunks, **options)

    map_chunks = engine.map_chunks
    monkeypatch.setattr(engine, "map_chunks", recording)
    spread = fit(_spectrum(shift, counts[:2]), recipe, engine="batched", workers=2,
                 scheduler=scheduler, chunk_size=100)
    monkeypatch.undo()
    here = fit(_spectrum(shift, np.asarray(counts[:2])), recipe, engine="batched", chunk_size=100)
    assert len(sent) == 4 and all(isinstance(rows, FileView) for rows in sent)
    assert max(len(pickle.dumps(rows)) for rows in sent) < 1000
    assert spread.frame.equals(here.frame)


@pytest.mark.parametrize("scheduler", [None, "local"])
def test_a_map_in_memory_reaches_workers_here_through_shared_memory(map_on_disk, monkeypatch, tmp_path,
                                                                     scheduler):
    """Workers on this machine map a shared copy of the fitted rows and write their results into
    a shared file: chunks and results travel as FileViews, the table is the serial one, and no
    file is left behind."""
    if scheduler:
        pytest.importorskip("distributed")
    from specssb import _file_views
    from specssb._file_views import FileView
    from specssb.fitting import engine

    shared = tmp_path / "shm"
    shared.mkdir()
    monkeypatch.setattr(_file_views, "SHARED_MEMORY", shared)
    shift, counts = map_on_disk
    in_memory = _spectrum(shift, np.array(counts[:2]))  # 1.6 MB: above SHARE_FROM_BYTES
    recipe = Recipe.from_text(RECIPE)
    sent, returned = [], []

    def recording(function, chunks, **options):
        sent.extend(chunks)
        returned.extend(map_chunks(function, chunks, **options))
        return returned

    map_chunks = engine.map_chunks
    monkeypatch.setattr(engine, "map_chunks", recording)
    spread = fit(in_memory, recipe, engine="batched", workers=2, scheduler=scheduler, chunk_size=100)
    monkeypatch.undo()
    here = fit(in_memory, recipe, engine="batched", chunk_size=100)
    assert len(sent) == 4
    assert all(isinstance(chunk[3], FileView) and isinstance(chunk[7], FileView) for chunk in sent)
    assert {Path(chunk[3].filename).parent for chunk in sent} == {shared.resolve()}
    assert returned == [None] * 4  # the results came back through the file
    assert spread.frame.equals(here.frame)
    assert list(shared.iterdir()) == []


def test_without_room_for_shared_files_rows_and_results_travel_themselves(map_on_disk, monkeypatch):
    from specssb import _file_views
    from specssb.fitting import engine

    monkeypatch.setattr(_file_views, "_folder_with_room", lambda nbytes: None)
    shift, counts = map_on_disk
    in_memory = _spectrum(shift, np.array(counts[:2]))
    recipe = Recipe.from_text(RECIPE)
    sent = []

    def recording(function, chunks, **options):
        sent.extend(chunks)
        return map_chunks(function, chunks, **options)

    map_chunks = engine.map_chunks
    monkeypatch.setattr(engine, "map_chunks", recording)
    spread = fit(in_memory, recipe, engine="batched", workers=2, chunk_size=100)
    monkeypatch.undo()
    assert all(isinstance(chunk[3], np.ndarray) and chunk[7] is None for chunk in sent)
    assert spread.frame.equals(fit(in_memory, recipe, engine="batched", chunk_size=100).frame)
