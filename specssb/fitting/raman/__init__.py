"""Raman: preprocessing (spikes, smoothing, baselines, normalization, calibration), per-pixel
fits and band maps, decomposition of maps, RamanSPy interoperability.

The modules are pure functions on :class:`~specssb.spectrum.Spectrum` objects (single spectra or
maps with leading ``y``/``x`` dims) that return new objects and record every step in
``history``; none modifies its input.

==================  =====================================================================
module              what it does
==================  =====================================================================
``preprocess``      despike (per spectrum, by neighbour pixels), smooth, baseline,
                    normalize, crop
``calibrate``       Si and neon calibration; nm <-> cm-1 with the laser wavelength
``bands``           band maps from per-pixel fits, fit-free band integrals, ratios
``decompose``       PCA, NMF, k-means of maps
``interop``         RamanSPy in and out, its known defects handled
``plots``           band, ratio and cluster maps
==================  =====================================================================
"""

from specssb.fitting.raman.bands import BandMaps, QuantityMap, band_ratio, fit_band_maps, integrate_bands
from specssb.fitting.raman.calibrate import calibrate_neon, calibrate_si, to_raman_shift, to_wavelength
from specssb.fitting.raman.decompose import kmeans, nmf, pca
from specssb.fitting.raman.preprocess import (
    crop,
    despike,
    despike_neighbours,
    normalize,
    smooth,
    subtract_baseline,
)

__all__ = [
    "BandMaps", "QuantityMap", "band_ratio", "calibrate_neon", "calibrate_si", "crop", "despike",
    "despike_neighbours", "fit_band_maps", "integrate_bands", "kmeans", "nmf", "normalize", "pca",
    "smooth", "subtract_baseline", "to_raman_shift", "to_wavelength",
]
