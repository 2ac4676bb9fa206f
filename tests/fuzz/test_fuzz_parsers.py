"""Fuzzing every registered parser with mutated copies of its sample files (issue 9).

The samples are those of the parser contract (``tests/contracts/test_parser_contract.py``:
generated ``sample_data/`` files plus the real files of its ``REAL_SAMPLES`` when
``../shared/data`` is present), reused by import. Each sample is damaged in six ways:

- byte flips at random offsets (biased towards the header);
- truncation at structural boundaries: line ends for text files; powers of two, their
  neighbours and known header ends for binary files;
- random garbage after the format's magic (or after the sample's first line / 64 bytes);
- NaN, inf, empty and out-of-range values in place of numbers of text files;
- wrong encodings of text files (UTF-16, UTF-32, UTF-8 with BOM, Latin-1 characters, invalid
  UTF-8 bytes);
- header counts claiming absurd sizes: every integer in the file equal to a size of the
  parsed data (points, rows, frames, spectra) is replaced by 10^12 (text) or by the largest
  value of its binary type, read under ``tracemalloc`` with a 200 MB peak bound.

Every case must end in a :class:`~specssb.SpecssbError` or in well-formed Spectra (finite 1-D
axis, data whose last dimension matches it), within :data:`CASE_SECONDS` of wall-clock time
(enforced with ``SIGALRM``, so a hang fails instead of blocking the run).

The default run is the fast subset of ``make test``; ``SPECSSB_FUZZ_EXAMPLES=2000`` (``make
fuzz``) raises the number of hypothesis examples, takes every sample and every boundary, and
prints the counts per format with ``-s``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import sys
import time
import tracemalloc
import traceback
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import specssb
from specssb import Spectrum
from specssb.errors import SpecssbError, SpecssbWarning

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contracts"))
import test_parser_contract as contract  # noqa: E402  (the contract's samples and helpers)

#: Hypothesis examples per (test, format); ``make fuzz`` sets this high.
EXAMPLES = int(os.environ.get("SPECSSB_FUZZ_EXAMPLES", "6"))
#: A long run (``make fuzz``): every sample, every boundary.
LONG = EXAMPLES >= 100
#: Wall-clock bound of one case, s (generous: reading a sample takes milliseconds).
CASE_SECONDS = 5.0
#: Peak Python/numpy allocation allowed while reading a file with an absurd header count, bytes.
PEAK_BYTES = 200 * 2**20
ABSURD_TEXT = b"1000000000000"

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)

#: Cases run per format and outcome ("spectra" or "error"), printed at the end of the module.
COUNTS: dict[str, Counter] = defaultdict(Counter)
FORMATS = contract.FORMATS


class _Hang(BaseException):
    """Raised by SIGALRM inside a case that overran :data:`CASE_SECONDS`."""


def _on_alarm(signum, frame):  # noqa: ARG001
    raise _Hang


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    if not COUNTS:
        return
    lines = [f"\nfuzz cases per format (examples={EXAMPLES}):",
             f"  {'format':20s} {'cases':>7s} {'spectra':>8s} {'error':>7s}"]
    for name in sorted(COUNTS):
        c = COUNTS[name]
        lines.append(f"  {name:20s} {sum(c.values()):7d} {c['spectra']:8d} {c['error']:7d}")
    total = sum(sum(c.values()) for c in COUNTS.values())
    lines.append(f"  {'total':20s} {total:7d}  ({len(COUNTS)} formats)")
    print("\n".join(lines))


# --------------------------------------------------------------------------- running a case


def _check_well_formed(result, label: str) -> None:
    if isinstance(result, pd.DataFrame):
        return
    assert isinstance(result, list) and result, f"{label}: read returned {type(result)}"
    for spectrum in result:
        assert isinstance(spectrum, Spectrum), label
        axis = np.asarray(spectrum.axis.values)
        assert axis.ndim == 1 and axis.size >= 1, f"{label}: axis shape {axis.shape}"
        assert np.isfinite(axis).all(), f"{label}: non-finite axis values"
        assert spectrum.data.shape[-1] == axis.size, (
            f"{label}: data shape {spectrum.data.shape} vs axis {axis.size}")
        assert len(spectrum.dims) == spectrum.data.ndim - 1, label


def _run_case(format_name: str, path: Path, label: str, *, trace_memory: bool = False) -> str:
    """Read ``path``; record and return ``"spectra"`` or ``"error"``; fail on anything else."""
    label = f"{format_name} {label}"
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    if trace_memory:
        tracemalloc.start()
    start = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SpecssbWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            result = contract._read(format_name, path)
    except SpecssbError:
        outcome = "error"
    except _Hang:
        pytest.fail(f"{label}: no answer within {CASE_SECONDS} s (hang?)")
    except Exception as exc:  # noqa: BLE001  (the point of the test)
        tb = "".join(traceback.format_exception(exc)[-6:])
        pytest.fail(f"{label}: {type(exc).__name__} instead of a SpecssbError: {exc}\n{tb}")
    else:
        outcome = "spectra"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if trace_memory:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    elapsed = time.monotonic() - start
    assert elapsed < CASE_SECONDS, f"{label}: took {elapsed:.1f} s"
    if trace_memory:
        assert peak < PEAK_BYTES, f"{label}: allocated {peak / 2**20:.0f} MB"
    if outcome == "spectra":
        _check_well_formed(result, label)
    COUNTS[format_name][outcome] += 1
    return outcome


# --------------------------------------------------------------------------- samples


def _fuzz_samples(format_name: str, shared_data) -> list[Path]:
    samples = contract._samples(format_name, shared_data)
    if LONG:
        return samples[:8]
    return list(dict.fromkeys([samples[0], samples[-1]]))


class _Target:
    """A writable copy of a sample; ``put(i, data)`` replaces its ``i``-th file, ``restore``."""

    def __init__(self, sample: Path, workdir: Path):
        self.root = contract._copy(sample, workdir)
        for sibling in _companions(sample):
            shutil.copy2(sibling, workdir / sibling.name)
        self.files = contract._files(self.root)
        self.originals = [f.read_bytes() for f in self.files]

    def put(self, index: int, data: bytes) -> None:
        self.restore()
        self.files[index].write_bytes(data)

    def restore(self) -> None:
        for file, data in zip(self.files, self.originals):
            if file.stat().st_size != len(data) or file.read_bytes() != data:
                file.write_bytes(data)


def _companions(sample: Path) -> list[Path]:
    """Files a reader may need beside a single-file sample (WITec Graph exports come in three:
    ``<name>_Header.txt``, ``<name>_X-Axis.txt``, ``<name>_Y-Axis.txt``); copied, not mutated."""
    if sample.is_dir() or "_" not in sample.stem:
        return []
    prefix = sample.stem.rsplit("_", 1)[0] + "_"
    return [p for p in sample.parent.iterdir()
            if p.is_file() and p != sample and p.name.startswith(prefix)
            and p.stat().st_size < 2**20][:50]


def _targets(format_name: str, shared_data, tmp_path: Path) -> list[_Target]:
    targets = [_Target(sample, tmp_path / str(i))
               for i, sample in enumerate(_fuzz_samples(format_name, shared_data))]
    for target in targets:  # the undamaged copy must read, or the mutations test nothing
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SpecssbWarning)
            contract._read(format_name, target.root)
    return targets


def _is_text(data: bytes) -> bool:
    head = data[:4096]
    return bool(head) and b"\x00" not in head


NUMBER = re.compile(rb"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")


# --------------------------------------------------------------------------- mutations


@pytest.mark.parametrize("format_name", FORMATS)
@FUZZ_SETTINGS
@given(choice=st.data())
def test_byte_flips(format_name, choice, shared_data, tmp_path):
    targets = _cached_targets(format_name, shared_data, tmp_path)
    target = choice.draw(st.sampled_from(targets), label="sample")
    index = choice.draw(st.integers(0, len(target.files) - 1), label="file")
    data = bytearray(target.originals[index])
    if not data:
        return
    size = len(data)
    offset = st.one_of(st.integers(0, min(size, 1024) - 1), st.integers(0, size - 1))
    flips = choice.draw(st.lists(st.tuples(offset, st.integers(0, 255)), min_size=1, max_size=8),
                        label="flips")
    for position, value in flips:
        data[position] = value
    target.put(index, bytes(data))
    _run_case(format_name, target.root, f"{target.files[index].name} flips {flips}")


def _boundaries(data: bytes, format_name: str) -> list[int]:
    size = len(data)
    if _is_text(data):
        cuts = [m.end() for m in re.finditer(rb"\n", data)]
        cuts += [c - 1 for c in cuts[:200]]  # also cut between '\r' and '\n' / last character
    else:
        cuts = [0, 1, 2, 3, 4, 8, size // 2, size - 1]
        power = 16
        while power < size:
            cuts += [power - 1, power, power + 1]
            power *= 2
        cuts += HEADER_ENDS.get(format_name, [])
    cuts = sorted({c for c in cuts if 0 <= c < size})
    limit = 400 if LONG else 24
    if len(cuts) > limit:  # keep the first ones (header) and an even spread of the rest
        head = cuts[: limit // 2]
        rest = cuts[limit // 2:]
        cuts = head + [rest[i] for i in np.linspace(0, len(rest) - 1, limit - len(head)).astype(int)]
    return sorted(set(cuts))


#: Header sizes of binary formats (bytes), beyond the powers of two tried for every format.
HEADER_ENDS = {
    "princeton-spe": [4100, 4098, 3000],
    "spc": [512, 544, 256],
    "nmrpipe": [2048, 1024],
    "varian": [32, 60, 28],
    "scienta-ibw": [64, 384, 448],
    "opus": [24, 504],
    "andor-sif": [100, 200],
    "wdf": [512, 528],
    "jeol": [1360, 4096],
}


@pytest.mark.parametrize("format_name", FORMATS)
def test_truncation_at_boundaries(format_name, shared_data, tmp_path):
    for target in _targets(format_name, shared_data, tmp_path):
        for index, data in enumerate(target.originals):
            for cut in _boundaries(data, format_name):
                target.put(index, data[:cut])
                _run_case(format_name, target.root, f"{target.files[index].name} cut at {cut}")
        target.restore()


def _prefix(format_name: str, data: bytes) -> bytes:
    magic = specssb.parsers.get_format(format_name).magic
    for candidate in magic:
        if data.startswith(candidate):
            return candidate
    if _is_text(data):
        end = data.find(b"\n")
        return data[: end + 1] if end >= 0 else data[:64]
    return data[:64]


@pytest.mark.parametrize("format_name", FORMATS)
@FUZZ_SETTINGS
@given(choice=st.data())
def test_garbage_after_magic(format_name, choice, shared_data, tmp_path):
    targets = _cached_targets(format_name, shared_data, tmp_path)
    target = choice.draw(st.sampled_from(targets), label="sample")
    index = choice.draw(st.integers(0, len(target.files) - 1), label="file")
    prefix = _prefix(format_name, target.originals[index])
    garbage = choice.draw(st.one_of(st.binary(max_size=4096),
                                    st.text(max_size=2000).map(lambda s: s.encode())),
                          label="garbage")
    target.put(index, prefix + garbage)
    _run_case(format_name, target.root, f"{target.files[index].name} magic + {garbage[:60]!r}")


BAD_NUMBERS = [b"nan", b"NaN", b"inf", b"-inf", b"Infinity", b"", b"1e999", b"-1e999", b"1e-999",
               b"-", b".", b"1.2.3", b"9" * 400, b"0x1F", b"1,5"]


def _numeric_lines(data: bytes) -> list[tuple[int, int, list[re.Match]]]:
    lines = []
    start = 0
    for end in [m.start() for m in re.finditer(rb"\n", data)] + [len(data)]:
        matches = list(NUMBER.finditer(data, start, end))
        if matches:
            lines.append((start, end, matches))
        start = end + 1
    return lines


@pytest.mark.parametrize("format_name", FORMATS)
@FUZZ_SETTINGS
@given(choice=st.data())
def test_nan_inf_empty_values(format_name, choice, shared_data, tmp_path):
    targets = _cached_targets(format_name, shared_data, tmp_path)
    texts = [(t, i) for t in targets for i, d in enumerate(t.originals) if _is_text(d)]
    if not texts:
        return
    target, index = choice.draw(st.sampled_from(texts), label="text file")
    data = target.originals[index]
    lines = _numeric_lines(data)
    if not lines:
        return
    first = choice.draw(st.integers(0, len(lines) - 1), label="line")
    span = choice.draw(st.sampled_from([1, 1, 3, 50, len(lines)]), label="lines")
    column = choice.draw(st.integers(0, 5), label="column")
    bad = choice.draw(st.sampled_from(BAD_NUMBERS), label="value")
    pieces, done = [], 0
    for _, _, matches in lines[first:first + span]:
        match = matches[min(column, len(matches) - 1)]
        pieces += [data[done:match.start()], bad]
        done = match.end()
    mutated = b"".join(pieces) + data[done:]
    target.put(index, mutated)
    _run_case(format_name, target.root,
              f"{target.files[index].name} lines {first}+{span} column {column} -> {bad[:12]!r}")


def _encodings(data: bytes) -> Iterator[tuple[str, bytes]]:
    text = data.decode("latin-1")
    yield "utf-16", text.encode("utf-16")
    yield "utf-16-be", text.encode("utf-16-be")
    yield "utf-32", text.encode("utf-32")
    yield "utf-8-sig", data.decode("utf-8", "replace").encode("utf-8-sig")
    yield "latin-1 accents", data.replace(b"\n", " µ°Å é\n".encode("latin-1"), 5)
    yield "invalid utf-8", data.replace(b"\n", b"\xff\xfe\xc3(\n", 5)
    yield "cr line ends", data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")


@pytest.mark.parametrize("format_name", FORMATS)
def test_wrong_encodings(format_name, shared_data, tmp_path):
    for target in _targets(format_name, shared_data, tmp_path):
        for index, data in enumerate(target.originals):
            if not _is_text(data):
                continue
            for name, mutated in _encodings(data):
                target.put(index, mutated)
                _run_case(format_name, target.root, f"{target.files[index].name} as {name}")
        target.restore()


# --------------------------------------------------------------------------- absurd sizes

#: Binary encodings of a count and the absurd value written in its place.
_BINARY_COUNTS = [("<H", 0xFFFF), (">H", 0xFFFF), ("<i", 2**31 - 1), (">i", 2**31 - 1),
                  ("<I", 2**32 - 1), ("<q", 10**12), ("<Q", 2**63), ("<f", 1e12), (">f", 1e12),
                  ("<d", 1e12), (">d", 1e12)]


def _sizes(format_name: str, sample: Path) -> set[int]:
    """The sizes of the parsed sample (points, rows, frames, spectra) worth hunting for."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = contract._read(format_name, sample)
    if isinstance(result, pd.DataFrame):
        sizes = {len(result)}
    else:
        sizes = {len(result)}
        for spectrum in result:
            sizes.update(spectrum.data.shape)
            sizes.add(spectrum.data.size)
    return {s for s in sizes if s >= 8}


def _is_header_line(data: bytes, match: re.Match) -> bool:
    """A count sits alone on its line (VAMAS) or after a key (``size=361``, ``Points: 500``)."""
    start = data.rfind(b"\n", 0, match.start()) + 1
    end = data.find(b"\n", match.end())
    line = data[start: len(data) if end < 0 else end]
    return len(NUMBER.findall(line)) == 1 or b"=" in line or b":" in line


def _absurd_mutations(data: bytes, sizes: set[int]) -> Iterator[tuple[str, bytes]]:
    if _is_text(data):
        for match in NUMBER.finditer(data):
            token = match.group()
            if token.isdigit() and int(token) in sizes and _is_header_line(data, match):
                for value in (ABSURD_TEXT, b"-1"):
                    line = data.count(b"\n", 0, match.start()) + 1
                    yield (f"line {line} {token.decode()} -> {value.decode()}",
                           data[:match.start()] + value + data[match.end():])
        return
    header = data[:8192]
    for size in sorted(sizes):
        for code, absurd in _BINARY_COUNTS:
            try:
                packed = struct.pack(code, size)
            except struct.error:
                continue
            start = header.find(packed)
            while start >= 0:
                yield (f"byte {start} {code} {size} -> {absurd}",
                       data[:start] + struct.pack(code, absurd) + data[start + len(packed):])
                start = header.find(packed, start + 1)


#: Formats whose header count fields the absurd-size mutation must find (the issue names VAMAS,
#: XDI, SPC: XDI has no count field, so SPE frames/points and NMRPipe FDSIZE stand in for it).
MUST_FIND_COUNTS = {"vamas", "spc", "princeton-spe", "nmrpipe", "scienta-txt", "specs-xy"}


@pytest.mark.parametrize("format_name", FORMATS)
def test_absurd_header_sizes(format_name, shared_data, tmp_path):
    found = 0
    limit = 120 if LONG else 16
    for target in _targets(format_name, shared_data, tmp_path):
        sizes = _sizes(format_name, target.root)
        for index, data in enumerate(target.originals):
            mutations = list(_absurd_mutations(data, sizes))
            found += len(mutations)
            if len(mutations) > limit:
                mutations = [mutations[i] for i in np.linspace(0, len(mutations) - 1, limit)
                             .astype(int)]
            for label, mutated in mutations:
                target.put(index, mutated)
                _run_case(format_name, target.root, f"{target.files[index].name} {label}",
                          trace_memory=True)
        target.restore()
    if format_name in MUST_FIND_COUNTS:
        assert found, f"{format_name}: no count field found to enlarge"


# --------------------------------------------------------------------------- plumbing

_TARGET_CACHE: dict[tuple[str, Path], list[_Target]] = {}


def _cached_targets(format_name: str, shared_data, tmp_path: Path) -> list[_Target]:
    """The same copies for every hypothesis example of one test (``tmp_path`` is per test)."""
    key = (format_name, tmp_path)
    if key not in _TARGET_CACHE:
        _TARGET_CACHE.clear()
        _TARGET_CACHE[key] = _targets(format_name, shared_data, tmp_path)
    return _TARGET_CACHE[key]


def test_hang_guard_fires(tmp_path, monkeypatch):
    """The SIGALRM guard turns a parser that never returns into a test failure."""
    monkeypatch.setattr(contract, "_read", lambda *_: time.sleep(60))
    monkeypatch.setattr(sys.modules[__name__], "CASE_SECONDS", 0.2)
    with pytest.raises(pytest.fail.Exception, match="no answer"):
        _run_case("vamas", tmp_path, "sleeper")


def test_memory_guard_fires(tmp_path, monkeypatch):
    """A parser allocating what a 10^12-point header claims is caught by the peak bound."""
    monkeypatch.setattr(contract, "_read", lambda *_: [np.ones(40 * 2**20)])
    with pytest.raises(AssertionError, match="allocated"):
        _run_case("fake-format", tmp_path, "allocator", trace_memory=True)
    COUNTS.pop("fake-format", None)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q", "-s"]))

