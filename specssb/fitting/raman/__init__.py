"""Raman: preprocessing (spikes, smoothing, baselines, normalization, calibration), per-pixel
fits and band maps, decomposition of maps, RamanSPy interoperability.

The modules are pure functions on :class:`~specssb.spectrum.Spectrum` objects (single spectra or
maps with leading ``y``/``x`` dims) that return new objects and record every step in
``history``; none modifies its input.
"""
