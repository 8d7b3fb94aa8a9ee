"""The stress kernel's source run by the Python interpreter: the oracle of the compiled kernel.

:func:`validation.stress.kernels.simulate_path` is written one path and one step at a time;
its ``py_func`` is the same source without numba. Running it path after path on the chunk's
streams, as :func:`~validation.stress.kernels.simulate_chunks` does, checks that compilation
changed nothing (and is the pure-Python baseline of ``bench/stress.py``).
"""

from __future__ import annotations

import numpy as np

import validation.stress.kernels as K
from validation.stress.engine import KernelOutputs, allocate_outputs
from validation.stress.inputs import KernelInputs
from validation.stress.streams import make_generators


def run_interpreted(inputs: KernelInputs) -> KernelOutputs:
    """Run every path of ``inputs`` through the interpreted kernel; the outputs of run_kernel."""
    out, fires, first, trace = allocate_outputs(inputs)
    gens = make_generators(inputs.seed, inputs.n_paths, inputs.stream)
    ring = np.empty((3, int(inputs.par[K.P_WSTEPS])))
    common = np.empty(int(inputs.par[K.P_SSTEPS]))
    for p in range(inputs.n_paths):
        c = K.STREAMS_PER_CHUNK * (p // K.CHUNK_SIZE)
        K.simulate_path.py_func(
            gens[c],
            gens[c + 1],
            gens[c + 2],
            p,
            inputs.par,
            inputs.stp,
            inputs.base,
            inputs.tgt,
            out,
            fires,
            first,
            trace,
            False,
            ring,
            common,
        )
    return out, fires, first, trace
