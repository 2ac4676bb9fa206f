"""FileView: a view of a read-only memory-mapped file described by its place in the file."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from specssb._file_views import FileView, file_view
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
