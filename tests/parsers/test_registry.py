"""The parser registry: registration, sniffing order, options, plugins, the safety net."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import specssb
from specssb import Axis, ConfigError, ParseError, Spectrum, SpecssbWarning, UnknownFormatError
from specssb.parsers import _registry


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the registry, so test formats never leak into other tests."""
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    return _registry


def _spectrum() -> Spectrum:
    return Spectrum(axis=Axis("energy", "eV", [1.0, 2.0]), data=[0.0, 1.0], technique="xas", signal="mu")


def test_builtin_formats_cover_every_technique():
    names = {f.name: f.technique for f in specssb.formats()}
    assert {names[n] for n in ("vamas", "xdi", "bruker", "wdf", "biologic-mpt")} == {
        "xps", "xas", "nmr", "raman", "echem"
    }


def test_content_wins_over_extension(registry, tmp_path):
    @registry.register_parser(name="t-a", technique="xas", extensions=(".aaa",), magic=(b"AAA",),
                              description="a")
    def read_a(path: Path) -> list[Spectrum]:
        return [_spectrum()]

    @registry.register_parser(name="t-b", technique="xas", extensions=(".bbb",), magic=(b"BBB",),
                              description="b")
    def read_b(path: Path) -> list[Spectrum]:
        return [_spectrum()]

    misnamed = tmp_path / "really_b.aaa"
    misnamed.write_bytes(b"\r\n  BBB payload")  # leading whitespace before the magic
    assert registry.sniff(misnamed).name == "t-b"
    garbage = tmp_path / "corrupt.aaa"
    garbage.write_bytes(b"\x00\x01\x02")
    assert registry.sniff(garbage).name == "t-a"  # extension last: its parser will explain


def test_several_content_matches_are_narrowed_by_extension_or_refused(registry, tmp_path):
    for name, ext in (("t-c", ".ccc"), ("t-d", ".ddd")):
        registry.register_parser(name=name, technique="xps", extensions=(ext,), magic=(b"SAME",),
                                 description=name)(lambda path: [_spectrum()])
    one = tmp_path / "x.ddd"
    one.write_bytes(b"SAME")
    assert registry.sniff(one).name == "t-d"
    neither = tmp_path / "x.eee"
    neither.write_bytes(b"SAME")
    with pytest.raises(UnknownFormatError) as caught:
        registry.sniff(neither)
    assert caught.value.candidates == ("t-c", "t-d")
    assert "x.eee" in str(caught.value) and "--format" in str(caught.value)


def test_a_fallback_reader_takes_its_extension_only_when_no_content_matched(registry, tmp_path):
    @registry.register_parser(name="t-specific", technique="xps", extensions=(".qq",),
                              magic=(b"HEADER",), description="specific")
    def read_specific(path: Path) -> list[Spectrum]:
        return [_spectrum()]

    @registry.register_parser(name="t-generic", technique="xps", extensions=(".qq",),
                              description="generic", fallback=True)
    def read_generic(path: Path) -> list[Spectrum]:
        return [_spectrum()]

    with_header = tmp_path / "a.qq"
    with_header.write_bytes(b"HEADER\n1 2\n")
    plain = tmp_path / "b.qq"
    plain.write_bytes(b"1 2\n3 4\n")
    assert registry.sniff(with_header).name == "t-specific"
    assert registry.sniff(plain).name == "t-generic"


def test_headerless_xy_goes_to_the_plain_text_reader_and_specs_xy_does_not(tmp_path):
    plain = tmp_path / "fe2p.xy"
    plain.write_text("710.0,120\n709.5,140\n709.0,130\n708.5,110\n")
    assert specssb.parsers.sniff(plain).name == "xps-text"
    assert specssb.parsers.get_format("xps-text").fallback
    assert not specssb.parsers.get_format("specs-xy").fallback


def test_unknown_file_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "notes.foo"
    path.write_text("hello")
    with pytest.raises(UnknownFormatError, match=r"notes\.foo.*--format"):
        specssb.read(path)


def test_missing_file_is_a_parse_error(tmp_path):
    with pytest.raises(ParseError, match="no such file"):
        specssb.read(tmp_path / "absent.vms")


def test_unknown_option_and_format_are_config_errors(tmp_path):
    path = tmp_path / "x.xdi"
    path.write_text("# XDI/1.0\n")
    with pytest.raises(ConfigError, match="no option 'colour'"):
        specssb.read(path, colour="red")
    with pytest.raises(ConfigError, match="unknown format 'nope'"):
        specssb.read(path, format="nope")


def test_reader_options_must_be_keyword_only(registry):
    with pytest.raises(ValueError, match="keyword-only"):
        registry.register_parser(name="t-bad", technique="xas", description="bad")(
            lambda path, encoding="utf-8": []
        )


def test_duplicate_names_are_refused(registry):
    with pytest.raises(ValueError, match="already registered"):
        registry.register_parser(name="vamas", technique="xps", description="again")(lambda path: [])


def test_safety_net_turns_stray_exceptions_into_parse_errors(registry, tmp_path):
    @registry.register_parser(name="t-sloppy", technique="xas", extensions=(".slp",), description="s")
    def read_sloppy(path: Path) -> list[Spectrum]:
        return [[][1]]  # IndexError, as a careless parser might raise

    path = tmp_path / "x.slp"
    path.write_text("data")
    with pytest.raises(ParseError, match=r"x\.slp: malformed t-sloppy file \(IndexError"):
        specssb.read(path)


def test_cycler_files_point_to_read_cycler(tmp_path):
    path = tmp_path / "cell.mpt"
    path.write_text("EC-Lab ASCII FILE\nNb header lines : 3\n\n")
    with pytest.raises(ConfigError, match="read_cycler"):
        specssb.read(path)


def test_plugins_load_from_entry_points_and_broken_ones_are_skipped(registry, monkeypatch):
    def good_load():
        registry.register_parser(name="t-plugin", technique="raman", extensions=(".plg",),
                                 description="plugin")(lambda path: [])

    def bad_load():
        raise ImportError("missing dependency")

    entries = [
        SimpleNamespace(name="good", value="good_pkg.parser", load=good_load),
        SimpleNamespace(name="bad", value="bad_pkg.parser", load=bad_load),
    ]
    monkeypatch.setattr(registry.metadata, "entry_points", lambda group: entries)
    monkeypatch.setattr(registry, "_PLUGINS_LOADED", False)
    with pytest.warns(SpecssbWarning, match="'bad'.*skipped"):
        names = [f.name for f in registry.formats()]
    assert "t-plugin" in names


def test_sha256_of_folder_depends_on_names_and_contents(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "fid").write_bytes(b"\x00" * 8)
    first = _registry.sha256_of(tmp_path / "a")
    (tmp_path / "a" / "fid").write_bytes(b"\x00" * 7 + b"\x01")
    assert _registry.sha256_of(tmp_path / "a") != first
    assert len(first) == 64 and np.all([c in "0123456789abcdef" for c in first])
