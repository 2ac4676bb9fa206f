"""XAS analysis: normalization compatible with Larch, pre-processing, LCF, PCA, MCR-ALS, EXAFS.

The modules of this package are pure functions on :class:`~specssb.spectrum.Spectrum` objects
(or arrays on a common energy grid) that return new objects and record what they did in
``history``; none of them modifies its input.

==================  =====================================================================
module              what it does
==================  =====================================================================
``normalize``       ``find_e0``, ``default_ranges``, ``normalize`` (Larch ``pre_edge``),
                    ``edge_positions`` (e0, half-height, white line), vectorized
``deglitch``        point glitches found and removed or interpolated
``align``           energy shift to a reference or a reference-foil channel
``merge``           mean of scans with standard error; rebinning to an EXAFS grid
``lcf``             linear combination fitting, all-combinations ranking
``decompose``       PCA (IND, F-test), target transformation, MCR-ALS
``exafs``           AUTOBK and FT through Larch, first-shell peak
``series``          many scans into one Spectrum with time coordinates
``pipeline``        an XAS recipe over a series, into a FitTable
==================  =====================================================================
"""

from specssb.fitting.xas.align import align, align_to_reference_channel, find_shift
from specssb.fitting.xas.decompose import mcr_als, pca, target_transform
from specssb.fitting.xas.deglitch import deglitch, find_glitches
from specssb.fitting.xas.exafs import exafs
from specssb.fitting.xas.lcf import combinations, fit_lcf
from specssb.fitting.xas.merge import merge, rebin
from specssb.fitting.xas.normalize import default_ranges, edge_positions, find_e0, normalize
from specssb.fitting.xas.pipeline import analyze
from specssb.fitting.xas.series import stack_scans

__all__ = [
    "align", "align_to_reference_channel", "analyze", "combinations", "default_ranges",
    "deglitch", "edge_positions", "exafs", "find_e0", "find_glitches", "find_shift", "fit_lcf",
    "mcr_als", "merge", "normalize", "pca", "rebin", "stack_scans", "target_transform",
]
