"""NMR: processing from the raw FID, analysis (integrals, deconvolution, relaxation, exchange)
and 7Li/23Na chemical-shift imaging.

The modules are pure functions on :class:`~specssb.spectrum.Spectrum` objects that return new
objects and record every step in ``history``; none modifies its input.

==================  =====================================================================
module              what it does
==================  =====================================================================
``processing``      ``process(fid, procs="file")`` reproduces TopSpin's ``1r``; the steps:
                    ``timedomain`` (digital filter, DC, zero fill), ``apodize``, ``echo``
                    (whole-echo), ``transform`` (FFT), ``phase`` (manual, ACME, minima),
                    ``baseline``, ``reference``
``integrate``       integrals over named ppm ranges with noise-based errors
``sidebands``       spinning sidebands tied to the MAS rate, for the fit engine
``relaxation``      T1 / T2 fits of pseudo-2D series
``exsy``            2D exchange: peak volumes, two-site exchange rate
``csi``             chemical-shift imaging (``csi_kspace``, ``csi_compare``)
==================  =====================================================================
"""

from specssb.fitting.nmr.csi import csi_profiles, profiles_from_recipe, reconstruct_csi
from specssb.fitting.nmr.csi_compare import compare_to_pristine, locate_peak, t2_map
from specssb.fitting.nmr.exsy import exsy_volumes, fit_exchange, initial_rate
from specssb.fitting.nmr.integrate import estimate_noise, integrate, relative_integrals
from specssb.fitting.nmr.processing import (
    autophase,
    baseline_correct,
    exponential,
    fft,
    phase,
    process,
)
from specssb.fitting.nmr.relaxation import fit_t1, fit_t2
from specssb.fitting.nmr.sidebands import expand_sidebands, manifold_areas

__all__ = [
    "autophase", "baseline_correct", "compare_to_pristine", "csi_profiles", "estimate_noise",
    "expand_sidebands", "exponential", "exsy_volumes", "fft", "fit_exchange", "fit_t1", "fit_t2",
    "initial_rate", "integrate", "locate_peak", "manifold_areas", "phase", "process",
    "profiles_from_recipe", "reconstruct_csi", "relative_integrals", "t2_map",
]
