"""XAS analysis: normalization compatible with Larch, pre-processing, LCF, PCA, MCR-ALS, EXAFS.

The modules of this package are pure functions on :class:`~specssb.spectrum.Spectrum` objects
(or arrays on a common energy grid) that return new objects and record what they did in
``history``; none of them modifies its input.
"""
