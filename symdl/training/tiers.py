"""Which kernels run a job: the Numba ones, or the NumPy tier that needs no compiling.

Numba compiles a kernel the first time a process calls it, unless its cache already holds it:
for a new model that is seconds per kernel (docs/engineering.md, 'Where a cold start goes'),
longer than a small job takes in NumPy. Every file of a model that the block layout can
express (whatever layout its Numba kernels are in: block, rows or blas) also carries its
kernels in NumPy (`loss_numpy`, `loss_and_gradient_numpy`, `gradient_numpy`, `predict_numpy`:
symdl.generate.numpy_tier), held to the same checks as the Numba ones (`symdl check`'s "NumPy
tier" rows, tests/test_numpy_tier.py).

`tier="auto"` takes the NumPy tier for a job of at most NUMPY_ROWS_PASSED rows passed over
(rows × epochs, and a mini-batch epoch's calls counted as rows too), and Numba for a larger
one. The rule looks at the job only, never at a clock or at Numba's cache, so the same
command picks the same kernels on every machine and every run: a result does not change in
its last digits with how busy the machine was.
"""

from __future__ import annotations

from symdl.errors import SettingsError

TIERS = ("auto", "numba", "numpy")

NUMPY_ROWS_PASSED = 3_000_000
"""Rows passed over below which NumPy is the faster start. Measured on 2 cores (2026-12-07):
one `loss_and_gradient_numpy` call took 23–1,040 ns a row (deep_tanh_classifier,
logistic_regression, rbf_classifier, log_cosh_regression at 200–200,000 rows), so this many
rows cost the NumPy tier 0.1–3 s, while Numba compiled those models' kernels in 3–7 s
before their first epoch (benchmarks/README.md, W7)."""

CALL_AS_ROWS = 200
"""A call of a NumPy kernel costs about what 200 rows do (its Python statements, ~50 µs)."""


class NumPyTier:
    """A generated module seen through its NumPy tier: `loss`, `loss_and_gradient`,
    `gradient` and `predict` are the NumPy kernels, and so are `hessian` and `closed_form`
    where the tier has them (every curvature kind; a closed form where there is one) and
    `hessian_vector` (a network's R-pass);
    everything else (SPEC, a weighted Hessian, ...) is the module's own, except that its SPEC
    names no sparse-input kernel (the tier has none, and mini-batches of dense rows then run
    on the NumPy kernel)."""

    ENTRY_POINTS = ("loss", "loss_and_gradient", "gradient", "predict")
    WHERE_WRITTEN = ("hessian", "closed_form", "hessian_vector")
    NUMPY_TIER = True

    def __init__(self, module):
        self.module = module
        self.SPEC = {**module.SPEC, "sparse_input": None}

    def __getattr__(self, name):
        if name.removesuffix("_csr").removesuffix("_weighted") in self.ENTRY_POINTS or (
                name in self.WHERE_WRITTEN and hasattr(self.module, f"{name}_numpy")):
            found = getattr(self.module, f"{name}_numpy")
        else:
            found = getattr(self.module, name)
        self.__dict__[name] = found  # the view never changes: looked up once, not per call
        return found

    def __repr__(self):
        return f"<the NumPy tier of {self.module.__name__}>"


def checked(tier) -> str:
    if tier not in TIERS:
        raise SettingsError(f"tier must be one of {', '.join(TIERS)}, not {tier!r}")
    return tier


def rows_passed(rows: int, epochs: int, batch_size: int | None = None) -> int:
    """How many rows a job passes over, a call counted as CALL_AS_ROWS rows."""
    calls = 1 if not batch_size or batch_size >= rows else -(-rows // batch_size)
    return (rows + calls * CALL_AS_ROWS) * max(1, epochs)


def compiled(module) -> bool:
    """False for kernels that run on the NumPy tier, also seen through a view that forwards
    to it (inputs.Weighted, inputs.WithHyper): the job's update rule and mini-batch gathering
    then run in NumPy too (optimizers.NUMPY_RULES, batches.Batches), so it compiles nothing."""
    return not getattr(module, "NUMPY_TIER", False)


def name_of(module) -> str:
    """"numpy" for a module seen through its NumPy tier, else "numba"."""
    return "numba" if compiled(module) else "numpy"


def kernels_for(module, tier: str, rows: int, epochs: int = 1, batch_size: int | None = None):
    """The kernels a job runs: `module` itself (Numba) or `NumPyTier(module)`.

    "numpy" asks for the NumPy tier (an error for a model without one); "numba" for the
    compiled kernels; "auto" chooses by the job's size (this module's docstring).
    """
    has_tier = bool(module.SPEC.get("numpy_tier"))
    if checked(tier) == "numpy" and not has_tier:
        raise SettingsError(f"{module.SPEC['name']} has no NumPy tier (its layout is "
                            f"{module.SPEC['layout']}, and only models the block layout can express "
                            f"have one): use tier='numba' or 'auto'")
    if tier == "numpy" or (tier == "auto" and has_tier
                           and rows_passed(rows, epochs, batch_size) <= NUMPY_ROWS_PASSED):
        return NumPyTier(module)
    return module
