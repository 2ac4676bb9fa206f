"""Regression tests for the parser crashes the fuzzing of ``test_fuzz_parsers.py`` found.

Each case is the smallest in-memory input reproducing a crash that escaped as a bare Python
exception; it must now be a :class:`~specssb.ParseError` naming the file and the reason.
"""

from __future__ import annotations

import struct

import pytest

import specssb
from specssb import ParseError


@pytest.mark.parametrize("encoding", ["UTF-nan", "UTF-32"])
def test_jobinyvon_xml_with_unusable_encoding_declaration(tmp_path, encoding):
    # fuzz: a number in the XML declaration replaced by "nan" gave LookupError (unknown
    # encoding); a multi-byte encoding gives ValueError from expat.
    path = tmp_path / "spectrum.xml"
    path.write_bytes(f'<?xml version="1.0" encoding="{encoding}"?>\n<LSX_Data/>\n'.encode())
    with pytest.raises(ParseError, match="encoding") as caught:
        specssb.read(path, format="jobinyvon-xml")
    assert caught.value.path == str(path) and caught.value.position == "line 1"


@pytest.mark.parametrize("encoding", ["UTF-nan", "UTF-32"])
def test_specs_xml_with_unusable_encoding_declaration(tmp_path, encoding):
    path = tmp_path / "session.xml"
    path.write_bytes(f'<?xml version="1.0" encoding="{encoding}"?>\n<any/>\n'.encode())
    with pytest.raises(ParseError, match="encoding") as caught:
        specssb.read(path, format="specs-xml")
    assert caught.value.path == str(path)


def _spe3_with_footer(footer: bytes) -> bytes:
    """A one-pixel LightField SPE 3.0 file whose XML footer is ``footer``."""
    header = bytearray(4100)
    struct.pack_into("<H", header, 42, 1)          # xdim
    struct.pack_into("<h", header, 108, 0)         # float32 data
    struct.pack_into("<H", header, 656, 1)         # ydim
    struct.pack_into("<Q", header, 678, 4104)      # XML footer offset
    struct.pack_into("<i", header, 1446, 1)        # NumFrames
    struct.pack_into("<f", header, 1992, 3.0)      # file_header_ver
    struct.pack_into("<H", header, 4098, 0x5555)   # check value
    return bytes(header) + struct.pack("<f", 1.0) + footer


def test_princeton_spe_footer_with_unusable_encoding_declaration(tmp_path):
    path = tmp_path / "frame.spe"
    path.write_bytes(_spe3_with_footer(b'<?xml version="1.0" encoding="UTF-nan"?><SpeFormat/>'))
    with pytest.raises(ParseError, match="XML footer.*unknown encoding") as caught:
        specssb.read(path, format="princeton-spe")
    assert caught.value.position == "byte 4104"
