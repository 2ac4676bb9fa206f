"""Side-by-side speed comparisons of specssb against the standard tools (``python -m benchmarks``)."""
