"""symdl: the mathematics of deep learning, derived by SymPy and compiled to Numba kernels.

The pipeline, each stage importing only the ones before it:

    derive      symdl.model (the language a derivation file is written in) → symdl.derive
                (SymPy computes every derivative, step by step)
    render      symdl.render prints a derivation for the terminal, a LaTeX document or a notebook
    generate    symdl.sources finds the model a name or a path means; symdl.generate emits its
                Numba kernels into generated/NAME.py
    kernels     symdl.kernels verifies and imports a model's generated kernels
    train       symdl.training and symdl.train drive the kernels (GD, SGD, momentum, RMSprop,
                Adam, L-BFGS, Newton); symdl.saved keeps a trained model in one file
    check       symdl.check compares symbolic, numeric and the documents' stated results

and on top: the command line (symdl.cli), the report, the plots, scikit-learn estimators and
this front door. docs/architecture.md draws the layers and says what each module may import.

`__version__` comes from symdl.version; `predict` below uses a trained or saved model.
"""

import sys

from symdl.version import __version__ as __version__

from symdl import threads

threads.configure()


def predict(result, x):
    """The trained model's output for each sample of x; see `symdl.train.predict`."""
    from symdl.train import predict as predict_with_kernels
    return predict_with_kernels(result, x)


def _notebook_latex(derivation):
    from symdl.render import notebook_latex
    return notebook_latex(derivation)


def _show_derivations_in_notebooks():
    """In a running IPython, every Derivation (a loaded one, or a Model made in a cell) displays
    step by step; symdl.render, which draws it, is imported at the first display."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is not None:
        latex = shell.display_formatter.formatters["text/latex"]
        latex.for_type_by_name("symdl.model", "Derivation", _notebook_latex)


_show_derivations_in_notebooks()
