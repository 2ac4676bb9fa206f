"""FileView: a view of a read-only memory-mapped file described by its place in the file; shared
copies and outputs that worker processes on this machine map."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from specssb import _file_views as file_views
from specssb._file_views import FileView, file_view, row_views, shared_copy, shared_output
from specssb.errors import FitError


@pytest.fixture()
def mapped(tmp_path) -> np.ndarray:
    path = tmp_path / "map.npy"
    np.save(path, np.arange(40 * 30, dtype=np.float32).reshape(40, 30))
    return np.load(path, mmap_mode="r")


@pytest.mark.parametrize("index", [
    np.s_[:], np.s_[10:20], np.s_[10:20, 5:25], np.s_[::3, 3:7], np.s_[:, 4], np.s_[0:0], np.s_[39],
])
def test_a_view_read_again_from_its_place_is_the_view(mapped, index) -> None:
    view = mapped[index]
    place = file_view(view)
    assert place is not None
    again = pickle.loads(pickle.dumps(place)).read()
    np.testing.assert_array_equal(again, view)
    assert again.dtype == view.dtype and not again.flags.writeable


def test_a_fortran_ordered_file_is_read_back_too(tmp_path) -> None:
    path = tmp_path / "f.npy"
    np.save(path, np.asfortranarray(np.arange(60.0).reshape(6, 10)))
    view = np.load(path, mmap_mode="r")[1:5, 2:7]
    np.testing.assert_array_equal(file_view(view).read(), view)


def test_only_read_only_maps_with_a_file_have_a_place(mapped, tmp_path) -> None:
    assert file_view(np.array(mapped)) is None  # in memory
    assert file_view(mapped[::-1]) is None  # negative strides
    np.save(tmp_path / "c.npy", np.zeros((3, 3)))
    assert file_view(np.load(tmp_path / "c.npy", mmap_mode="c")) is None  # copy-on-write
    assert file_view(np.load(tmp_path / "c.npy", mmap_mode="r+")) is None  # writable


def test_a_missing_or_shortened_file_is_a_fit_error_naming_it(mapped, tmp_path) -> None:
    place = file_view(mapped[30:40])
    with pytest.raises(FitError, match="gone.npy: cannot read"):
        FileView(str(tmp_path / "gone.npy"), place.offset, place.dtype, place.shape,
                 place.strides).read()
    short = tmp_path / "short.npy"
    short.write_bytes(b"\0" * 100)
    with pytest.raises(FitError, match="short.npy: the file is 100 bytes"):
        FileView(str(short), place.offset, place.dtype, place.shape, place.strides).read()


# ------------------------------------------------------------------ shared copies and outputs
@pytest.fixture()
def shared_folder(tmp_path, monkeypatch):
    """A folder standing in for /dev/shm, so the tests see exactly the files they make."""
    folder = tmp_path / "shm"
    folder.mkdir()
    monkeypatch.setattr(file_views, "SHARED_MEMORY", folder)
    return folder


def _written_in(folder):
    return sorted(folder.glob("specssb-shared-*.bin"))


def test_a_shared_copy_of_a_column_window_is_its_values_and_is_removed_on_exit(shared_folder):
    data = np.arange(300 * 50, dtype=float).reshape(300, 50)
    window = data[:, 10:22]  # not contiguous: written a block of rows at a time
    with shared_copy(window) as copy:
        assert _written_in(shared_folder) == [Path(copy.filename)]
        np.testing.assert_array_equal(copy, window)
        assert not copy.flags.writeable
        place = file_view(copy[100:140])  # what a chunk of it travels as
        np.testing.assert_array_equal(pickle.loads(pickle.dumps(place)).read(), window[100:140])
    assert _written_in(shared_folder) == []


def test_a_shared_copy_is_removed_when_the_work_fails(shared_folder):
    with pytest.raises(RuntimeError), shared_copy(np.ones((10, 10))):
        raise RuntimeError("a chunk failed")
    assert _written_in(shared_folder) == []


def test_no_shared_copy_above_the_ceiling_or_without_room(shared_folder, monkeypatch):
    data = np.ones((100, 100))
    with shared_copy(data, limit=data.nbytes - 1) as copy:
        assert copy is None
    monkeypatch.setattr(file_views, "_folder_with_room", lambda nbytes: None)
    with shared_copy(data) as copy:
        assert copy is None
    assert _written_in(shared_folder) == []


def test_files_left_by_a_killed_process_are_removed_and_a_running_ones_kept(shared_folder):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    left = shared_folder / f"specssb-shared-{dead.stdout.strip()}-abc.bin"
    running = shared_folder / f"specssb-shared-{os.getppid()}-abc.bin"  # pytest's parent runs
    for path in (left, running):
        path.write_bytes(b"\0" * 8)
    with shared_copy(np.ones((4, 4))):
        pass
    if os.name == "posix":
        assert not left.exists()
    assert running.exists()


def _write_rows(place: FileView, value: float) -> None:
    place.write(np.full(place.shape, value))


def test_workers_write_their_rows_of_a_shared_output(shared_folder):
    slices = [slice(0, 3), slice(3, 7), slice(7, 10)]
    with shared_output((10, 4)) as path:
        places = row_views(path, (10, 4), np.float64, slices)
        with ProcessPoolExecutor(max_workers=2) as pool:  # other processes write them
            list(pool.map(_write_rows, places, [1.0, 2.0, 3.0]))
        rows = np.memmap(path, dtype=np.float64, mode="r", shape=(10, 4))
        np.testing.assert_array_equal(rows[:, 0], [1, 1, 1, 2, 2, 2, 2, 3, 3, 3])
    assert not path.exists()


def test_writing_a_wrong_shape_or_to_a_missing_file_is_a_fit_error(shared_folder):
    with shared_output((5, 2)) as path:
        place = row_views(path, (5, 2), np.float64, [slice(0, 5)])[0]
        with pytest.raises(FitError, match=r"\(5, 3\) values cannot fill a view of \(5, 2\)"):
            place.write(np.zeros((5, 3)))
    with pytest.raises(FitError, match=f"{path.name}: cannot write the results here"):
        place.write(np.zeros((5, 2)))


def test_a_stale_file_that_cannot_be_removed_does_not_stop_the_fit(shared_folder, monkeypatch):
    """In a sticky folder (/dev/shm, /tmp) another user's leftover cannot be removed: it stays."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    theirs = shared_folder / f"specssb-shared-{dead.stdout.strip()}-xyz.bin"
    theirs.write_bytes(b"\0")
    unlink = Path.unlink

    def refuse(path, missing_ok=False):
        if path == theirs:
            raise PermissionError(1, "Operation not permitted", str(path))
        return unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refuse)
    with shared_copy(np.ones((3, 3))) as copy:
        np.testing.assert_array_equal(copy, np.ones((3, 3)))
    assert theirs.exists() and _written_in(shared_folder) == [theirs]
