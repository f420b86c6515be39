"""symdl's benchmark suite: the generated kernels against NumPy, PyTorch and JAX.

Run it with ``python -m benchmarks [w1|w2|w3|w4|all] [--quick]`` (see README.md).

The modules, read top-down:

    environment.py   thread settings (set before NumPy loads) and the report header
    problems.py      the data and hyper-parameters of each workload
    interfaces.py    what an implementation hands the harness, and the loops that drive it
    references.py    the NumPy, PyTorch and JAX implementations
    numba_kernels.py a hand-written Numba kernel and the memory-read floor
    adapters.py      turn a kernel that returns SUMS (symdl, doc 003) into a trainer
    registry.py      name -> factory, per workload: the one place to add an implementation
    harness.py       side-by-side timing, agreement checks, markdown tables
    w1_logistic.py, w2_two_layer.py, w3_mnist.py, w4_first_gradient.py, memory.py
                     one workload each

This file deliberately imports nothing: ``environment.configure()`` must run before NumPy,
PyTorch or JAX are imported, or their thread pools are already sized.
"""
