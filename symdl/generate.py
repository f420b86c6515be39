"""Emits Numba kernels from a derivation into `generated/NAME.py`.

Like SymPy's own printers, code generation is a printer class with a method per node:

* `NumbaPrinter` prints one SymPy expression as Numba-compatible Python (σ, softplus,
  ReLU and log-sum-exp become the stable helpers of `templates/helpers.py.txt`, which
  every generated file carries, so a kernel's cache never depends on another file).
* `RowsEmitter` writes the per-sample kernels: one parallel pass over the rows of the data,
  forward and backward fused, gradients reduced into per-chunk buffers (no shared-array
  races, ENGINEERING-NOTES.md) and combined after the loop.
* `BlasEmitter` writes batch kernels for wide layers: affine maps become matrix products
  (BLAS), element-wise steps become loops; no `prange`, so Numba's threads never fight
  BLAS's.

Kernel skeletons are templates (`KERNEL_*` below); the emitters supply the statements.
Output is deterministic, so regenerating is byte-identical and Numba's cache stays valid.
"""

from __future__ import annotations

import hashlib
import re
import importlib
import pkgutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from string import Template

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from symdl.derive import LSE, ONEHOT, Derived, adjoint_symbol, closed_form, simplify_gradient
from symdl.errors import DerivationError
from symdl.model import Affine, Derivation, Let, Model

TEMPLATES = Path(__file__).with_name("templates")
GENERATOR_FILES = ("model.py", "functions.py", "derive.py", "generate.py",
                   "templates/helpers.py.txt")


# ---- printing expressions ---------------------------------------------------------------

class NumbaPrinter(PythonCodePrinter):
    """Prints one expression as Numba code; symbols are looked up in `names`."""

    def __init__(self, names: dict[sp.Symbol, str]):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self.names = names

    def _print_Symbol(self, expr):
        return self.names.get(expr, expr.name)

    def _print_sigmoid(self, expr):
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        return f"_softplus({self._print(expr.args[0])})"

    def _print_relu(self, expr):
        return f"max({self._print(expr.args[0])}, 0.0)"

    def _print_Heaviside(self, expr):
        return f"(1.0 if {self._print(expr.args[0])} > 0.0 else 0.0)"

    def _print_sign(self, expr):
        return f"np.sign({self._print(expr.args[0])})"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_exp(self, expr):
        return f"math.exp({self._print(expr.args[0])})"

    def _print_log(self, expr):
        return f"math.log({self._print(expr.args[0])})"

    def _print_Rational(self, expr):
        return f"{expr.p}.0/{expr.q}.0" if expr.q != 1 else f"{expr.p}.0"

    def _print_Integer(self, expr):
        return f"{int(expr)}.0"

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent == 2:
            b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Mul"])
            return f"{b}*{b}"
        if exponent == -1:
            return f"1.0/{self.parenthesize(base, sp.printing.precedence.PRECEDENCE['Mul'])}"
        return super()._print_Pow(expr, rational)


# ---- one generated file -----------------------------------------------------------------

@dataclass
class Statement:
    """A line of kernel code, optionally inside a loop over a dimension."""

    code: str
    loop: str | None = None  # dimension name the statement runs over, or None


class Emitter:
    """Shared by both layouts: names, dimensions and expression printing."""

    def __init__(self, derived: Derived):
        self.derived = derived
        self.model: Model = derived.model
        self.dims = self._dimension_sources()

    def _dimension_sources(self) -> dict[str, str]:
        """Code for the size of each dimension, read off a parameter's shape."""
        sources = {}
        for tensor in self.model.params + ([self.model.features] if self.model.features else []):
            for axis, dim in enumerate(tensor.shape):
                if tensor.role == "data":
                    axis += 1
                sources.setdefault(dim, f"{tensor.name}.shape[{axis}]")
        return sources

    def index(self, dim):
        return self.model.index(dim)

    def print(self, expr, names) -> str:
        return NumbaPrinter(names).doprint(expr)

    def param_args(self):
        return [p.name for p in self.model.params]

    def data_args(self):
        args = []
        if self.model.features:
            args.append(self.model.features.name)
        if self.model.label:
            args.append(self.model.label.name)
        return args


    def signature(self):
        return ", ".join(self.param_args() + self.data_args())

    def gradient_kernel(self) -> str:
        return KERNEL_GRADIENT.substitute(args=self.signature())

    def _dtype(self):
        return f"{self.model.features.name}.dtype" if self.model.features else "np.float64"

    def _rows(self):
        return f"{self.model.features.name}.shape[0]"

    def _scale(self):
        return "1.0 / m" if self.model.reduction == "mean" else "1.0"

    @staticmethod
    def _indent(lines, width):
        return "\n".join(" " * width + line for line in lines)


class RowsEmitter(Emitter):
    """Per-sample kernels: one fused, parallel pass over the data."""

    @cached_property
    def names(self) -> dict:
        """How each symbol is spelled inside the per-sample body (and inside a loop)."""
        names = {}
        for tensor in self.model.tensors.values():
            symbol = tensor.symbol
            if tensor.role in ("data", "target"):
                names[symbol] = f"{tensor.name}_i" if tensor.is_scalar else f"{tensor.name}_i[{self.index(tensor.shape[0])}]"
            elif tensor.is_scalar:
                names[symbol] = tensor.name
            else:
                names[symbol] = f"{tensor.name}[{', '.join(self.index(d) for d in tensor.shape)}]"
            adjoint = adjoint_symbol(tensor)
            names[adjoint] = (f"d_{tensor.name}" if tensor.is_scalar
                              else f"d_{tensor.name}[{self.index(tensor.shape[0])}]")
        names[LSE] = "lse"
        if self.model.loss_kind == "softmax_cross_entropy":
            c = self.index(self.model.loss_input.shape[0])
            names[ONEHOT] = f"(1.0 if {c} == {self.model.label.name}_i else 0.0)"
        return names

    # -- node methods: forward --
    def forward(self) -> list[Statement]:
        lines = []
        if self.model.features:
            f = self.model.features
            lines.append(Statement(f"{f.name}_i = {f.name}[i]"))
        if self.model.label:
            t = self.model.label
            lines.append(Statement(f"{t.name}_i = {t.name}[i]"))
        for step in self.derived.steps:
            lines.extend(getattr(self, f"forward_{type(step).__name__}")(step))
        return lines

    def forward_Affine(self, step: Affine) -> list[Statement]:
        x = self._vector(step.input)
        bias = ""
        if step.out.is_scalar:
            if step.bias is not None:
                bias = f"{step.bias.name} + "
            return [Statement(f"{step.out.name} = {bias}_dot({step.weight.name}, {x})")]
        k = self.index(step.out.shape[0])
        if step.bias is not None:
            bias = f"{step.bias.name}[{k}] + "
        return [Statement(f"{step.out.name}[{k}] = {bias}_dot({step.weight.name}[{k}], {x})",
                          step.out.shape[0])]

    def forward_Let(self, step: Let) -> list[Statement]:
        names = self.names
        target = names[step.out.symbol]
        loop = None if step.out.is_scalar else step.out.shape[0]
        return [Statement(f"{target} = {self.print(step.expr, names)}", loop)]

    def loss_statements(self, accumulator="total") -> list[Statement]:
        names = self.names
        if self.model.loss_kind == "softmax_cross_entropy":
            z = self.model.loss_input.name
            label = f"{self.model.label.name}_i"
            return [Statement(f"lse = _logsumexp({z})"),
                    Statement(f"{accumulator} += lse - {z}[{label}]")]
        return [Statement(f"{accumulator} += {self.print(self.derived.stable_loss, names)}")]

    # -- node methods: backward --
    def backward(self) -> list[Statement]:
        lines = []
        names = self.names
        for adjoint in self.derived.adjoints:
            tensor = adjoint.tensor
            target = names[adjoint_symbol(tensor)]
            terms = [] if adjoint.local == 0 else [self.print(adjoint.local, names)]
            for step in adjoint.through:
                terms.append(self._transpose_product(step))
            loop = None if tensor.is_scalar else tensor.shape[0]
            lines.append(Statement(f"{target} = {' + '.join(terms) or '0.0'}", loop))
        for gradient in self.derived.gradients:
            lines.extend(self.accumulate(gradient, names))
        return lines

    def _transpose_product(self, step: Affine) -> str:
        """(Wᵀ·δout)_k for the input of an affine map."""
        k = self.index(step.input.shape[0])
        if step.out.is_scalar:
            return f"{step.weight.name}[{k}]*d_{step.out.name}"
        return f"_dot_column({step.weight.name}, {k}, d_{step.out.name})"

    def accumulate(self, gradient, names) -> list[Statement]:
        param = gradient.param
        lines = []
        if gradient.local != 0:
            loop = None if param.is_scalar else param.shape[0]
            target = f"g_{param.name}" if param.is_scalar else f"g_{param.name}[{self.index(param.shape[0])}]"
            lines.append(Statement(f"{target} += {self.print(gradient.local, names)}", loop))
        for step in gradient.as_weight:
            x = self._vector(step.input)
            if step.out.is_scalar:
                lines.append(Statement(f"_axpy(d_{step.out.name}, {x}, g_{param.name})"))
            else:
                k = self.index(step.out.shape[0])
                lines.append(Statement(f"_axpy(d_{step.out.name}[{k}], {x}, g_{param.name}[{k}])",
                                       step.out.shape[0]))
        for step in gradient.as_bias:
            if step.out.is_scalar:
                lines.append(Statement(f"g_{param.name} += d_{step.out.name}"))
            else:
                k = self.index(step.out.shape[0])
                lines.append(Statement(f"g_{param.name}[{k}] += d_{step.out.name}[{k}]",
                                       step.out.shape[0]))
        return lines

    def _vector(self, tensor):
        return f"{tensor.name}_i" if tensor.role == "data" else tensor.name

    # -- assembling kernels --
    def local_arrays(self, with_adjoints: bool) -> list[str]:
        """Per-chunk work arrays for vector intermediates (and their adjoints)."""
        lines = []
        dtype = self._dtype()
        for step in self.derived.steps:
            if not step.out.is_scalar:
                size = self.dims[step.out.shape[0]]
                lines.append(f"{step.out.name} = np.empty({size}, {dtype})")
        if with_adjoints:
            for adjoint in self.derived.adjoints:
                if not adjoint.tensor.is_scalar:
                    size = self.dims[adjoint.tensor.shape[0]]
                    lines.append(f"d_{adjoint.tensor.name} = np.empty({size}, {dtype})")
        return lines

    def block(self, statements: list[Statement], indent: int) -> list[str]:
        """Statements with consecutive ones over the same dimension fused into one loop.

        A statement that calls a vector helper (_dot, _axpy) gets a loop of its own: the
        element-wise loops around it then have straight-line bodies that LLVM vectorises.
        """
        out, pad = [], " " * indent
        current, body = None, []
        calls_helper = re.compile(r"\b_(dot|dot_column|axpy)\(")

        def flush():
            if current is None:
                out.extend(pad + s for s in body)
            else:
                out.append(f"{pad}for {self.index(current)} in range({self.dims[current]}):")
                out.extend(pad + "    " + s for s in body)

        previous_calls = False
        for statement in statements:
            calls = statement.loop is not None and bool(calls_helper.search(statement.code))
            if statement.loop != current or calls or previous_calls:
                flush()
                current, body = statement.loop, []
            body.append(statement.code)
            previous_calls = calls
        flush()
        return out

    # -- whole kernels --
    def kernels(self) -> list[str]:
        if self.model.features is None:
            return [self.kernel_without_data("loss"), self.kernel_without_data("loss_and_gradient"),
                    self.gradient_kernel()] + self.curvature_kernels()
        return [self.loss_kernel(), self.loss_and_gradient_kernel(), self.gradient_kernel(),
                self.predict_kernel()] + self.curvature_kernels()

    def loss_kernel(self) -> str:
        body = self.block(prune(self.forward() + self.loss_statements()), 12)
        return KERNEL_ROWS_LOSS.substitute(
            args=self.signature(), rows=self._rows(), scale=self._scale(),
            arrays=self._indent(self.local_arrays(False), 8), body="\n".join(body),
            doc=f"J, the {self.model.reduction} of the loss over the samples, in one parallel pass.")

    def loss_and_gradient_kernel(self) -> str:
        params = self.model.params
        parts = [f"g_{p.name}_parts = np.zeros(chunks)" if p.is_scalar
                 else f"g_{p.name}_parts = np.zeros((chunks,) + {p.name}.shape)" for p in params]
        setup = self.local_arrays(True) + [
            f"g_{p.name} = 0.0" if p.is_scalar else f"g_{p.name} = g_{p.name}_parts[chunk]"
            for p in params]
        store = [f"g_{p.name}_parts[chunk] = g_{p.name}" for p in params if p.is_scalar]
        results = [f"g_{p.name}_parts.sum() * scale" if p.is_scalar
                   else f"_combine(g_{p.name}_parts) * scale" for p in params]
        body = self.block(self.forward() + self.loss_statements() + self.backward(), 12)
        return KERNEL_ROWS_LOSS_AND_GRADIENT.substitute(
            args=self.signature(), rows=self._rows(), scale=self._scale(),
            parts=self._indent(parts, 4), setup=self._indent(setup, 8),
            store=self._indent(store, 8), body="\n".join(body), results=", ".join(results),
            doc="(J, ∂J/∂p for every parameter p): forward and backward fused in one pass.")

    def predict_kernel(self) -> str:
        out = self.model.output_tensor
        if out is None:
            return ""
        label = self.model.label
        forward = [s for s in self.forward()
                   if label is None or not s.code.startswith(f"{label.name}_i =")]
        if out.is_scalar:
            allocate, store = "np.empty(m)", f"out[i] = {out.name}"
        else:
            allocate = f"np.empty((m, {self.dims[out.shape[0]]}))"
            store = f"out[i, :] = {out.name}"
        body = self.block(prune(forward + [Statement(store)]), 12)
        args = ", ".join(self.param_args() + [self.model.features.name])
        return KERNEL_ROWS_PREDICT.substitute(
            args=args, rows=self._rows(), allocate=allocate,
            arrays=self._indent(self.local_arrays(False), 8), body="\n".join(body),
            doc=f"The model's output {out.name} for every sample.")

    def kernel_without_data(self, which) -> str:
        names = self.names
        lines = [f"total = {self.print(self.derived.stable_loss, names)}"]
        results = ["total"]
        if which == "loss_and_gradient":
            for g in self.derived.gradients:
                lines.append(f"g_{g.param.name} = {self.print(g.local, names)}")
                results.append(f"g_{g.param.name}")
        return KERNEL_PLAIN.substitute(
            name=which, args=self.signature(), body=self._indent(lines, 4),
            result=", ".join(results),
            doc="J and its gradient." if results[1:] else "J itself (there is no data to sum over).")

    def curvature_kernels(self) -> list[str]:
        curvature = self.derived.curvature
        if curvature is None:
            return []
        kernels = [self.hessian_kernel(curvature)]
        if curvature.quadratic:
            kernels.append(self.closed_form_kernel(curvature))
        return kernels

    def hessian_kernel(self, curvature) -> str:
        names = self.names
        if curvature.kind == "scalar":
            size = len(curvature.params)
            lines = prune(self.forward() + [
                Statement(f"hess[{a}, {b}] += {self.print(entry, names)}")
                for a, row in enumerate(curvature.entries) for b, entry in enumerate(row)])
            shape = f"({size}, {size})"
        else:
            x = curvature.affine.input.name
            lines = self.forward() + [
                Statement(f"_outer_add({self.print(curvature.second, names)}, {x}_i, hess)")]
            size = self.dims[curvature.params[0].shape[0]]
            shape = f"({size}, {size})"
        if self.model.features is None:
            body = ["hess = np.zeros(" + shape + ")"] + [s.code for s in lines]
            return KERNEL_PLAIN.substitute(
                name="hessian", args=self.signature(), body=self._indent(body, 4),
                result="hess", doc="∂²J/∂p∂q (J has no data, so this is J's own Hessian).")
        return KERNEL_ROWS_HESSIAN.substitute(
            args=self.signature(), rows=self._rows(), scale=self._scale(), shape=shape,
            arrays=self._indent(self.local_arrays(False), 8),
            body="\n".join(self.block(lines, 12)),
            doc="The Hessian ∂²J/∂p∂q, summed over the samples in one parallel pass.")

    def closed_form_kernel(self, curvature) -> str:
        if curvature.kind == "linear":
            return self._normal_equation_kernel(curvature)
        form = closed_form(self.derived)
        names = {t.symbol: f"{t.name}[i]" for t in self.model.tensors.values()
                 if t.role in ("data", "target")}
        names.update({s: statistic_name(s) for s in form.statistics})
        lines = []
        if self.model.features is not None:
            sums = [s for s in form.statistics if statistic_name(s) != "m"]
            lines.append(f"m = {self.model.features.name}.shape[0]")
            lines += [f"{statistic_name(s)} = 0.0" for s in sums]
            lines.append("for i in range(m):")
            lines += [f"    {statistic_name(s)} += {self.print(form.statistics[s], names)}" for s in sums]
        for p in self.model.params:
            lines.append(f"{p.name} = {self.print(form.solution[p.symbol], names)}")
        return KERNEL_PLAIN.substitute(
            name="closed_form", args=", ".join(self.data_args()), body=self._indent(lines, 4),
            result=", ".join(p.name for p in self.model.params),
            doc="The minimiser from ∇J = 0, written with the data sums S (as 003 §3.1 (1)).")

    def _normal_equation_kernel(self, curvature) -> str:
        z = curvature.affine.out.symbol
        first_at_zero = sp.diff(self.derived.loss, z).subs(z, 0)
        names = self.names
        x, theta = curvature.affine.input.name, curvature.params[0].name
        lines = [f"m, n = {x}.shape", "hess = np.zeros((n, n))", "g = np.zeros(n)",
                 "for i in range(m):", f"    {x}_i = {x}[i]"]
        if self.model.label:
            lines.append(f"    {self.model.label.name}_i = {self.model.label.name}[i]")
        lines += [f"    _outer_add({self.print(curvature.second, names)}, {x}_i, hess)",
                  f"    _axpy({self.print(first_at_zero, names)}, {x}_i, g)",
                  f"{theta} = np.linalg.solve(hess, -g)"]
        return KERNEL_PLAIN.substitute(
            name="closed_form", args=", ".join(self.data_args()), body=self._indent(lines, 4),
            result=theta, doc="The stationary point: solve H·θ = −∇J(0), the normal equation (003 §3.2).")

class BlasEmitter(Emitter):
    """Batch kernels for wide layers: matrix products for affine maps, loops for the rest.

    The batch is the unit of work: z = X·Wᵀ + b is one BLAS call, each element-wise step a
    loop over rows and units, and the backward pass the transposed products of backprop.
    """

    @cached_property
    def names(self) -> dict:
        """How symbols are spelled inside a loop over rows i and one unit index."""
        names = {}
        for tensor in self.model.tensors.values():
            if tensor.role == "param":
                index = ", ".join(self.index(d) for d in tensor.shape)
                names[tensor.symbol] = tensor.name if tensor.is_scalar else f"{tensor.name}[{index}]"
            elif tensor.role == "target":
                names[tensor.symbol] = f"{tensor.name}[i]"
            else:
                index = "".join(f", {self.index(d)}" for d in tensor.shape)
                names[tensor.symbol] = f"{tensor.name}[i{index}]"
                names[adjoint_symbol(tensor)] = f"d_{tensor.name}[i{index}]"
        names[LSE] = "lse_rows[i]"
        if self.model.loss_kind == "softmax_cross_entropy":
            c = self.index(self.model.loss_input.shape[0])
            names[ONEHOT] = f"(1.0 if {c} == {self.model.label.name}[i] else 0.0)"
        return names

    def batch_forward(self) -> list[str]:
        lines, names = [], self.names
        for step in self.derived.steps:
            if step.out.is_scalar:
                raise DerivationError(f"{self.model.name}: the blas layout needs vector intermediates")
            out, k = step.out.name, self.index(step.out.shape[0])
            if isinstance(step, Affine):
                lines.append(f"{out} = np.dot({step.input.name}, {step.weight.name}.T)")
                if step.bias is not None:
                    lines += ["for i in range(m):", f"    for {k} in range({out}.shape[1]):",
                              f"        {out}[i, {k}] += {step.bias.name}[{k}]"]
            else:
                lines += [f"{out} = np.empty((m, {self.dims[step.out.shape[0]]}), {self._dtype()})",
                          "for i in range(m):", f"    for {k} in range({out}.shape[1]):",
                          f"        {names[step.out.symbol]} = {self.print(step.expr, names)}"]
        return lines

    def batch_loss(self) -> list[str]:
        if self.model.loss_kind != "softmax_cross_entropy":
            raise DerivationError(f"{self.model.name}: the blas layout supports softmax cross-entropy")
        z, label = self.model.loss_input.name, self.model.label.name
        return ["lse_rows = np.empty(m)", "total = 0.0", "for i in range(m):",
                f"    lse_rows[i] = _logsumexp({z}[i])",
                f"    total += lse_rows[i] - {z}[i, {label}[i]]"]

    def batch_backward(self) -> list[str]:
        lines, names = [], self.names
        for adjoint in self.derived.adjoints:
            t = adjoint.tensor
            k = self.index(t.shape[0])
            products = [f"np.dot(d_{s.out.name}, {s.weight.name})" for s in adjoint.through]
            if products:
                lines.append(f"d_{t.name} = {' + '.join(products)}")
            else:
                lines.append(f"d_{t.name} = np.empty((m, {self.dims[t.shape[0]]}), {self._dtype()})")
            if adjoint.local != 0:
                # Terms read off the loss take the 1/m of the mean here; terms through other
                # adjoints already carry it.
                adjoints = {adjoint_symbol(s) for s in self.model.tensors.values()}
                from_loss = adjoint.local.xreplace({a: 0 for a in adjoints})
                through_adjoints = simplify_gradient(adjoint.local - from_loss)
                terms = ([self.print(through_adjoints, names)] if through_adjoints != 0 else []) + (
                    [f"({self.print(from_loss, names)}) * scale"] if from_loss != 0 else [])
                assign = "+=" if products else "="
                lines += ["for i in range(m):", f"    for {k} in range(d_{t.name}.shape[1]):",
                          f"        d_{t.name}[i, {k}] {assign} {' + '.join(terms)}"]
        for g in self.derived.gradients:
            terms = ([f"np.dot(d_{s.out.name}.T, {s.input.name})" for s in g.as_weight]
                     + [f"d_{s.out.name}.sum(axis=0)" for s in g.as_bias])
            lines.append(f"g_{g.param.name} = {' + '.join(terms)}")
        return lines

    def kernels(self) -> list[str]:
        if any(g.local != 0 for g in self.derived.gradients):
            raise DerivationError(f"{self.model.name}: the blas layout needs parameters in affine maps only")
        forward, rows = self.batch_forward(), self._rows()
        results = ", ".join(["total * scale"] + [f"g_{p.name}" for p in self.model.params])
        out = self.model.output_tensor
        return [
            KERNEL_BLAS.substitute(
                name="loss", args=self.signature(), rows=rows, scale=self._scale(),
                body=self._indent(forward + self.batch_loss(), 4), result="total * scale",
                doc="J over a batch: affine maps as matrix products, the rest as loops."),
            KERNEL_BLAS.substitute(
                name="loss_and_gradient", args=self.signature(), rows=rows, scale=self._scale(),
                body=self._indent(forward + self.batch_loss() + self.batch_backward(), 4),
                result=results, doc="(J, ∂J/∂p for every parameter p) over a batch."),
            self.gradient_kernel(),
            KERNEL_BLAS.substitute(
                name="predict", args=", ".join(self.param_args() + [self.model.features.name]),
                rows=rows, scale="1.0", body=self._indent(forward, 4), result=out.name,
                doc=f"The model's output {out.name} for every sample."),
        ]


def prune(statements: list[Statement]) -> list[Statement]:
    """Drop assignments of scalars nothing later reads (a loss kernel needs no h = σ(z))."""
    kept = list(statements)
    changed = True
    while changed:
        changed = False
        for position, statement in enumerate(kept):
            target = statement.code.split(" = ")[0]
            if " = " not in statement.code or not target.isidentifier():
                continue
            later = " ".join(s.code for s in kept[position + 1:])
            if not re.search(rf"\b{target}\b", later):
                del kept[position]
                changed = True
                break
    return kept


def statistic_name(symbol: sp.Symbol) -> str:
    """S_{xy} -> S_xy, a valid Python name."""
    return symbol.name.replace("{", "").replace("}", "")


# ---- kernel templates --------------------------------------------------------------------

NJIT_PARALLEL = '@numba.njit(cache=True, parallel=True, fastmath=FASTMATH, error_model="numpy")'
NJIT = '@numba.njit(cache=True, fastmath=FASTMATH, error_model="numpy")'

KERNEL_ROWS_LOSS = Template(NJIT_PARALLEL + '''
def loss($args):
    """$doc"""
    m = $rows
    chunks = (m + CHUNK - 1) // CHUNK
    loss_parts = np.zeros(chunks)
    for chunk in numba.prange(chunks):
$arrays
        total = 0.0
        for i in range(chunk * CHUNK, min(m, (chunk + 1) * CHUNK)):
$body
        loss_parts[chunk] = total
    scale = $scale
    return loss_parts.sum() * scale
''')

KERNEL_ROWS_LOSS_AND_GRADIENT = Template(NJIT_PARALLEL + '''
def loss_and_gradient($args):
    """$doc"""
    m = $rows
    chunks = (m + CHUNK - 1) // CHUNK
    loss_parts = np.zeros(chunks)
$parts
    for chunk in numba.prange(chunks):
$setup
        total = 0.0
        for i in range(chunk * CHUNK, min(m, (chunk + 1) * CHUNK)):
$body
        loss_parts[chunk] = total
$store
    scale = $scale
    return loss_parts.sum() * scale, $results
''')

KERNEL_ROWS_PREDICT = Template(NJIT_PARALLEL + '''
def predict($args):
    """$doc"""
    m = $rows
    chunks = (m + CHUNK - 1) // CHUNK
    out = $allocate
    for chunk in numba.prange(chunks):
$arrays
        for i in range(chunk * CHUNK, min(m, (chunk + 1) * CHUNK)):
$body
    return out
''')

KERNEL_ROWS_HESSIAN = Template(NJIT_PARALLEL + '''
def hessian($args):
    """$doc"""
    m = $rows
    chunks = (m + CHUNK - 1) // CHUNK
    parts = np.zeros((chunks,) + $shape)
    for chunk in numba.prange(chunks):
$arrays
        hess = parts[chunk]
        for i in range(chunk * CHUNK, min(m, (chunk + 1) * CHUNK)):
$body
    scale = $scale
    return _combine(parts) * scale
''')

KERNEL_GRADIENT = Template('''
def gradient($args):
    """∂J/∂p for every parameter p: the fused kernel without its loss.

    A plain function, not a cached @njit one: a cached serial function that calls a
    parallel one crashes when loaded from Numba's cache (numba/numba#8578).
    """
    return loss_and_gradient($args)[1:]
''')

KERNEL_PLAIN = Template(NJIT + '''
def $name($args):
    """$doc"""
$body
    return $result
''')

KERNEL_BLAS = Template(NJIT + '''
def $name($args):
    """$doc"""
    m = $rows
    scale = $scale
$body
    return $result
''')

MODULE = Template('''"""$title

Generated by `symdl generate` from derivations/$name.py; do not edit by hand.
Regenerate with `symdl generate`; `symdl generate --check` tells when this file is stale.

Source document: $source
Derivation sha256: $source_hash    symdl generator sha256: $generator_hash
"""

import math

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba import types
from numba.extending import intrinsic

FASTMATH = {"arcp", "contract", "afn", "reassoc", "nsz"}
CHUNK = 4096

SPEC = $spec


$helpers


$kernels''')


# ---- files -------------------------------------------------------------------------------

def generator_hash() -> str:
    """A hash of the generator itself: a change to it makes every generated file stale."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for name in GENERATOR_FILES:
        digest.update((root / name).read_bytes())
    return digest.hexdigest()[:16]


def source_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def spec(model: Model, derived: Derived) -> dict:
    """What a trainer needs to know without SymPy: shapes, roles, kernels, training defaults."""
    training = model.training
    curvature = derived.curvature
    return {
        "name": model.name,
        "title": model.title,
        "source": model.source,
        "layout": model.layout,
        "reduction": model.reduction,
        "params": [(p.name, p.shape) for p in model.params],
        "features": (model.features.name, model.features.shape) if model.features else None,
        "target": (model.label.name, model.label.kind) if model.label else None,
        "classes": getattr(model, "classes", None),
        "output": model.output_tensor.name if model.output_tensor else None,
        "hessian": curvature is not None,
        "closed_form": bool(curvature and curvature.quadratic),
        "training": None if training is None else {
            "dataset": training.dataset, "optimizer": training.optimizer,
            "learning_rate": training.learning_rate, "epochs": training.epochs,
            "batch_size": training.batch_size, "initial": dict(training.initial),
            "init_scale": training.init_scale, "init": training.init,
            "sizes": dict(training.sizes), "seed": training.seed,
        },
    }


def without_blank_lines(kernel: str) -> str:
    """A kernel's text with the lines that empty template slots left behind removed."""
    return "\n".join(line for line in kernel.strip("\n").splitlines() if line.strip()) + "\n"


def pretty_literal(value, indent=0) -> str:
    """A deterministic, readable Python literal for the SPEC dictionary."""
    if isinstance(value, dict) and value:
        pad = " " * (indent + 4)
        items = [f"{pad}{k!r}: {pretty_literal(v, indent + 4)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    return repr(value)


def render_module(model: Model, source_path: Path) -> str:
    """The whole text of generated/NAME.py for one model."""
    derived = Derived(model)
    emitter = (BlasEmitter if model.layout == "blas" else RowsEmitter)(derived)
    kernels = [without_blank_lines(k) for k in emitter.kernels() if k]
    return MODULE.substitute(
        title=model.title, name=model.name, source=model.source,
        source_hash=source_hash(source_path), generator_hash=generator_hash(),
        spec=pretty_literal(spec(model, derived)),
        helpers=(TEMPLATES / "helpers.py.txt").read_text().rstrip(),
        kernels="\n\n".join(kernels))


# ---- discovering derivations and writing files ---------------------------------------------

def derivation_names() -> list[str]:
    """Every module in symdl.derivations, in sorted order."""
    import symdl.derivations as package
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__)
                  if not info.name.startswith("_"))


def load_derivation(name: str) -> tuple[Derivation, Path]:
    """Import derivations/NAME.py and return its `derivation` and the file's path."""
    if name not in derivation_names():
        raise DerivationError(f"no derivation named {name!r}; known: {', '.join(derivation_names())}")
    module = importlib.import_module(f"symdl.derivations.{name}")
    derivation = getattr(module, "derivation", None)
    if not isinstance(derivation, Derivation):
        raise DerivationError(f"derivations/{name}.py must define `derivation = Model(...)` "
                              f"or `derivation = Derivation(...)`")
    if derivation.name != name:
        raise DerivationError(f"derivations/{name}.py names its derivation {derivation.name!r}; "
                              f"the name must match the file name")
    return derivation, Path(module.__file__)


def generated_dir() -> Path:
    import symdl.generated as package
    return Path(package.__path__[0])


def expected_files(names=None) -> dict[Path, str]:
    """generated/NAME.py text for every model among the derivations."""
    files = {}
    for name in names or derivation_names():
        derivation, path = load_derivation(name)
        if isinstance(derivation, Model):
            files[generated_dir() / f"{name}.py"] = render_module(derivation, path)
    return files


def write(names=None) -> list[Path]:
    """Write generated files whose text changed; an untouched file keeps Numba's cache valid."""
    changed = []
    for path, text in expected_files(names).items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(path)
    return changed


def stale(names=None) -> list[str]:
    """Why generated/ does not match what the derivations generate now; [] when fresh."""
    problems = []
    expected = expected_files(names)
    for path, text in expected.items():
        if not path.exists():
            problems.append(f"{path.name} is missing")
        elif path.read_text() != text:
            problems.append(f"{path.name} differs from what derivations/{path.stem}.py generates")
    if names is None:
        for path in sorted(generated_dir().glob("*.py")):
            if path.name != "__init__.py" and path not in expected:
                problems.append(f"{path.name} has no derivation")
    return problems
