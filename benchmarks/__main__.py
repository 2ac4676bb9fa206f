"""``python -m benchmarks [NAME] [OPTIONS]``: run one benchmark, or list them without a name.

The benchmark module is imported only after the name is chosen, so its thread settings
(``OMP_NUM_THREADS=1`` …) are in place before numpy is imported.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: name -> (module, one-line description)
BENCHMARKS = {
    "fit": ("benchmarks.fit", "batched fit engine vs lmfit and scipy loops (S 2p series, Raman "
            "map) and dask scale-out"),
    "nmr": ("benchmarks.nmr", "NMR em+zf+fft+phase of a 256 x 4096 ser vs nmrglue proc_base"),
    "xas": ("benchmarks.xas", "Larch-compatible XAS normalization of 10,000 spectra vs a Larch pre_edge loop"),
    "raman": ("benchmarks.raman", "Raman map pipeline vs RamanSPy + lmfit, asls vs pybaselines, "
              "10^6-pixel streamed map"),
    "xas-lcf": ("benchmarks.xas_lcf", "batched XAS LCF of 10,000 spectra vs a Larch lincombo_fit loop"),
    "report": ("benchmarks.report", "specssb report sample_data --no-store end to end, per stage, vs the 60 s target"),
}


def listing() -> str:
    """The available benchmarks, one per line."""
    lines = ["usage: python -m benchmarks NAME [OPTIONS]   (NAME --help for its options)", "",
             "benchmarks:"]
    lines += [f"  {name:<8} {description}" for name, (_, description) in BENCHMARKS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark named by the first argument; list them when there is none."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "list"):
        print(listing())
        return 0
    name, options = argv[0], argv[1:]
    if name not in BENCHMARKS:
        print(f"unknown benchmark {name!r}\n\n{listing()}", file=sys.stderr)
        return 2
    module = importlib.import_module(BENCHMARKS[name][0])
    return int(module.main(options))


if __name__ == "__main__":
    sys.exit(main())
