"""symdl: the mathematics of deep learning, derived by SymPy and compiled to Numba kernels.

The pipeline, one module per stage, data flowing one way:

    model.py     the language a derivation file is written in (tensors, steps, claims)
    derive.py    SymPy computes every derivative, step by step
    render.py    prints a derivation for the terminal or as LaTeX
    generate.py  emits Numba kernels into symdl/generated/
    train.py     drives the generated kernels: GD, SGD, momentum, RMSprop, Adam, L-BFGS, Newton
    check.py     symbolic vs numeric vs the documents' stated results

and beside it: saved.py keeps a trained model in one file, and `predict` below uses one.
"""

from symdl.version import __version__

from symdl import threads

threads.configure()


def predict(result, x):
    """The trained model's output for each sample of x; see `symdl.train.predict`."""
    from symdl.train import predict as predict_with_kernels
    return predict_with_kernels(result, x)
