"""Kernels over sparse x: each row given by its non-zero entries (CSR rows).

When the data x is read only as the input of affine maps (z = θᵀx, z = W·x + b: the linear
models, a network's first layer), the derivation touches x in two places, the forward
product z = Σ_j w_j x_j and the weight's gradient ∂J/∂w += δ·x; every other step reads z
and its adjoint. Both then run over x's non-zero entries alone, so a 100,000 × 100,000 x at
0.1% density costs its 10⁷ entries, never the 10¹⁰ of its dense form.

The kernels are the rows layout's fused pass (rows.py), with `x_i = x[i]` replaced by the
row's span of entries and `_dot`/`_axpy` on it by `_csr_dot`/`_csr_axpy`; for a model with a
NumPy tier, that tier's (numpy_tier.py), with the chunk's rows of x a SciPy CSR matrix, whose
`x @ w` and `xᵀ @ δ` are the same array expressions; for a blas-layout network, its batch
kernels with the first layer over the entries (`CsrBlasEmitter`). Their entry points are
the plain ones' names with `_csr` (`loss_and_gradient_csr(theta, x_values, x_columns, x_starts, y)`), and
beside them `_weighted_csr` over weighted samples; a penalty R(θ) is added once per call, as
in every kernel.
"""

from __future__ import annotations

import re
from typing import Callable

from symdl.derive import Derived
from symdl.generate.blas import BlasEmitter
from symdl.generate.emitter import Statement
from symdl.generate.numpy_tier import NumPyTierEmitter
from symdl.generate.rows import RowsEmitter
from symdl.model import Affine, Let, Model


def unsupported(model: Model, derived: Derived, layout: str = "rows") -> str:
    """Why the model gets no kernels over CSR x ("" when it does) in `layout`; the blas
    layout's also need x to feed one affine map whose weight is used nowhere else."""
    x = model.features
    if x is None:
        return "it has no data"
    if len(model.inputs) > 1:
        return "it reads several data tensors"
    if len(x.shape) != 1:
        return f"{x.name} is not a vector"
    if not any(isinstance(s, Affine) and s.input is x for s in model.steps_of_model):
        return f"{x.name} feeds no affine map"
    exprs = [s.expr for s in derived.steps if isinstance(s, Let)]
    exprs += [a.local for a in derived.adjoints] + [g.local for g in derived.gradients]
    if model.loss_kind == "expression":
        exprs.append(derived.named_loss)
    if any(e.has(x.symbol) for e in exprs if e is not None and e != 0):
        return f"{x.name} is read outside its affine maps"
    readers = [s for s in model.steps_of_model if isinstance(s, Affine) and s.input is x]
    if layout == "blas" and (len(readers) > 1 or BlasEmitter(derived).sparse_step() is None):
        return f"{x.name} feeds more than one affine map, or its weight is used elsewhere"
    return ""


class CsrInput:
    """What the CSR kernels of both tiers share: x as three arrays and the entry names."""

    model: Model
    suffix: str
    weighted: bool
    loss_kernel: Callable[[], list[str]]  # the layout's own (RowsEmitter, NumPyTierEmitter)
    loss_and_gradient_kernel: Callable[[], list[str]]
    gradient_kernel: Callable[[], str]
    predict_kernel: Callable[[], list[str]]

    def input_args(self):
        x = self.model.features.name
        return [f"{x}_values", f"{x}_columns", f"{x}_starts"]

    def _rows(self):
        return f"{self.model.features.name}_starts.shape[0] - 1"

    def _dtype(self):
        return f"{self.model.features.name}_values.dtype"

    def entry_names(self, kernel: str) -> str:
        """The entry points named with this tier's suffix (`loss_csr`, `predict_csr_numpy`)."""
        return re.sub(r"\b(loss_and_gradient|loss|gradient|predict)\(", rf"\1{self.suffix}(", kernel)

    def weighted_curvature(self) -> list[str]:
        return []  # no Hessian over CSR rows: L-BFGS and first-order rules need none

    def kernels(self) -> list[str]:
        """The entry points without the Hessian, its product and the closed form: none over
        CSR rows (L-BFGS, first-order rules and Newton-CG's differences need none)."""
        return [*self.loss_kernel(), *self.loss_and_gradient_kernel(), self.gradient_kernel(),
                *self.predict_kernel()]


class CsrRowsEmitter(CsrInput, RowsEmitter):
    """The rows layout's fused pass, each row of x its span of non-zero entries."""

    SUFFIX = "_csr"
    HOW = "in one pass over the non-zero entries"

    def input_rows(self) -> list[Statement]:
        x = self.model.features.name
        return [Statement(f"_start_i = {x}_starts[i]"), Statement(f"_stop_i = {x}_starts[i + 1]")]

    def _entries(self, tensor) -> str:
        return f"{tensor.name}_values, {tensor.name}_columns, _start_i, _stop_i"

    def dot_input(self, weight: str, tensor) -> str:
        if tensor.role != "data":
            return super().dot_input(weight, tensor)
        return f"_csr_dot({weight}, {self._entries(tensor)})"

    def axpy_input(self, alpha: str, tensor, target: str) -> str:
        if tensor.role != "data":
            return super().axpy_input(alpha, tensor, target)
        return f"_csr_axpy({alpha}, {self._entries(tensor)}, {target})"



class CsrBlasEmitter(CsrInput, BlasEmitter):
    """The blas layout's batch kernels with the first layer's two products over the
    non-zero entries: the weight W is transposed once per call, so that each x_ij adds the
    row Wᵀ_j into z_i, and x_ij·δ_i into the row j of ∂J/∂Wᵀ (blas.py, `sparse_step`)."""

    SUFFIX = "_csr"

    def csr_step(self) -> Affine | None:
        return self.sparse_step()

    def loss_and_gradient_kernel(self) -> list[str]:
        """Unweighted, the fused pass is the file's `loss_and_gradient_sparse` already (blas.py):
        this entry point hands it Wᵀ and turns the gradient it returns, ∂J/∂Wᵀ, back into ∂J/∂W,
        so the pass is written and compiled once. (The weighted pass has no sparse twin.)"""
        if self.weighted:
            return super().loss_and_gradient_kernel()
        step = self.csr_step()
        assert step is not None  # csr_kernels writes these only where there is a sparse step
        x, w = step.input.name, step.weight.name  # data_args() names x by its CSR arrays
        args = ([f"np.ascontiguousarray({w}.T)" if q is step.weight else q.name
                 for q in self.model.params] + self.data_args() + self.hyper_args())
        found = ["loss"] + [f"g_{q.name}" for q in self.model.params]
        returned = ["loss"] + [f"np.ascontiguousarray(g_{w}.T)" if q is step.weight else f"g_{q.name}"
                               for q in self.model.params]
        return [f'def loss_and_gradient_csr({self.signature()}):\n'
                f'    """(J, ∂J/∂p for every parameter p) over a batch of {x} by its non-zero '
                f'entries: loss_and_gradient_sparse with {w} transposed."""\n'
                f'    {", ".join(found)} = loss_and_gradient_sparse({", ".join(args)})\n'
                f'    return {", ".join(returned)}\n']


class CsrNumPyTierEmitter(CsrInput, NumPyTierEmitter):
    """The NumPy tier with a chunk's rows of x as a SciPy CSR matrix."""

    SUFFIX = "_csr_numpy"
    HOW = "in NumPy over the non-zero entries"

    def chunk_slices(self, with_label) -> list[str]:
        x = self.model.features
        width = self.dims[x.shape[0]]
        return [f"_{x.name} = _csr_rows({', '.join(self.input_args())}, _start, _stop, {width})"
                if line.startswith(f"_{x.name} = ") else line
                for line in super().chunk_slices(with_label)]

    def entry_names(self, kernel: str) -> str:
        return re.sub(r"\b(penalty|penalty_gradient)\(", r"\1.py_func(", super().entry_names(kernel))


def csr_kernels(model: Model, derived: Derived, layout: str, numpy_tier: bool) -> list[str]:
    """The kernels over CSR x of a model that can have them (`unsupported`), in the NumPy
    tier too when the file carries one (`numpy_tier`); weighted ones for a weighted
    `derived`."""
    if unsupported(model, derived, layout):
        return []
    compiled = CsrBlasEmitter(derived) if layout == "blas" else CsrRowsEmitter(derived)
    emitters = [compiled] + ([CsrNumPyTierEmitter(derived)] if numpy_tier else [])
    if derived.weighted:
        return [k for e in emitters for k in e.weighted_kernels()]
    return [k for e in emitters for k in e.kernels()]
