"""The NumPy tier: the block layout's kernels as NumPy array code, with nothing to compile.

Numba compiles a model's kernels the first time they run: seconds per kernel, before the
first epoch (docs/engineering.md, 'Where a cold start goes'). A small job is over long before
that. So the file of every model the block layout can express, whatever layout its Numba
kernels are in (`files.has_numpy_tier`), also carries the kernels written with NumPy, from the
same derivation and the same statements as the Numba ones, and `symdl.training.tiers` picks
the NumPy ones for a job that NumPy finishes sooner than Numba would compile.

The block layout's statements run each step of the derivation over a block of rows; here the
block is the whole chunk of rows, and each statement is one array expression:

* a per-sample scalar is a column, shape (rows, 1); a per-sample vector is (rows, units); a
  parameter vector (units,) broadcasts against both, so `w[k]·δ[r]` is `w*d_z` unchanged;
* an affine map is a matrix product (`x @ Wᵀ + b`, Wᵀ made contiguous: BLAS multiplies
  (rows, inputs) by (inputs, units) up to twice as fast so), its transpose product `δ @ W`,
  and a weight's gradient `δᵀ @ x`;
* a sum over units is `_over_units`; a sum over rows (J, the gradients) is `_over_rows`,
  which also counts a term that does not depend on the row once per row. Both add with a
  matrix-vector product of ones, several times faster than NumPy's sums along a short axis
  for the (rows, units) arrays of small models.

The entry points keep the Numba kernels' names with `_numpy` appended, and their arguments:
`loss`, `loss_and_gradient`, `gradient`, `predict`, their weighted forms, `hessian` for every
curvature kind (derive.Curvature), `closed_form` where the model has one, and a network's
exact `hessian_vector` (generate.directional's R-pass).

Long because that R-pass is written here too, as array expressions beside the gradient's.
"""

from __future__ import annotations

import re
from functools import cached_property

import sympy as sp

from symdl.derive import LSE, ONEHOT, SAMPLE_WEIGHT, adjoint_symbol
from symdl.functions import stable_logs, total
from symdl.generate.block import BlockEmitter
from symdl.generate.emitter import Statement, assigned, prune, renamed_entries, statistic_name
from symdl.generate.printer import ArrayPrinter
from symdl.generate.templates import KERNEL_HESSIAN, KERNEL_NUMPY_CHUNK, KERNEL_PREDICT
from symdl.model import Affine

SOFTMAX = sp.Symbol("_softmax", real=True)  # a name no tensor has: theirs never start with _
"""e^(z − lse) in a softmax cross-entropy's ∂ℓ/∂z, which the loss's statements computed
already (`_logsumexp_and_softmax`): printed as their `_softmax`, not a second exponential."""


class NumPyTierPrinter(ArrayPrinter):
    """One expression over whole arrays: the stable functions as NumPy ufunc expressions."""

    def _print_sigmoid(self, expr):
        return f"_sigmoid_numpy({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        return f"np.logaddexp(0.0, {self._print(expr.args[0])})"

    def _print_logcosh(self, expr):
        return f"_logcosh_numpy({self._print(expr.args[0])})"

    def _print_relu(self, expr):
        return f"np.maximum({self._print(expr.args[0])}, 0.0)"

    def _print_Heaviside(self, expr):
        return f"np.heaviside({self._print(expr.args[0])}, 0.0)"  # 0 at 0, as the Numba kernels

    def _print_Max(self, expr):
        return self._pairwise("np.maximum", expr.args)

    def _print_Min(self, expr):
        return self._pairwise("np.minimum", expr.args)

    def _pairwise(self, function, args):
        printed = self._print(args[0])
        for arg in args[1:]:
            printed = f"{function}({printed}, {self._print(arg)})"
        return printed


class NumPyTierEmitter(BlockEmitter):
    """The block layout's steps, each as one NumPy statement over a chunk's rows: its kernels
    are the block layout's, with names ending in _numpy and nothing compiled."""

    SUFFIX = "_numpy"
    COMPILED = False
    HOW = "in NumPy"

    def transposed(self) -> list[str]:
        return []  # matrix products read the weights as they are

    def print(self, expr, names) -> str:
        if self.model.loss_kind == "softmax_cross_entropy":  # e^(z − lse): the loss made it
            expr = sp.sympify(expr).xreplace({sp.exp(self.model.loss_input.symbol - LSE): SOFTMAX})
        return NumPyTierPrinter(names).doprint(stable_logs(expr))

    @cached_property
    def names(self) -> dict:
        names = {}
        for tensor in self.model.tensors.values():
            local = f"_{tensor.name}" if tensor.role in ("data", "target") else tensor.name
            names[tensor.symbol] = local
            names[adjoint_symbol(tensor)] = f"d_{tensor.name}"
        names[SAMPLE_WEIGHT] = "_sample_weight"
        if self.model.loss_kind == "softmax_cross_entropy":
            classes = self.dims[self.model.loss_input.shape[0]]
            names[LSE] = "lse"
            names[SOFTMAX] = "_softmax"
            names[ONEHOT] = f"_one_hot(_{self.model.label.name}, {classes})"
        return names

    def spell_sum(self, name: str) -> str:
        return name

    def sum_statements(self, reduction, name, summand) -> tuple[list[Statement], str]:
        """One statement per reduction over units: a column of per-row sums."""
        helper = "_over_units" if isinstance(reduction, total) else "_logsumexp_over_units"
        return [Statement(f"{name} = {helper}({summand})")], name

    # -- the steps over one chunk --
    def forward(self) -> list[Statement]:
        self.computed = set()
        lines = []
        for step in self.derived.steps:
            if isinstance(step, Affine):
                lines.extend(self.forward_affine(step))
            else:
                sums, value = self.reduced(step.expr, self.names)
                lines += sums + [Statement(f"{step.out.name} = {value}")]
        return lines

    def forward_affine(self, step: Affine) -> list[Statement]:
        x = self._rows_of(step.input)
        if step.out.is_scalar:
            value = f"({x} @ {step.weight.name})[:, None]"
        else:
            value = f"{x} @ np.ascontiguousarray({step.weight.name}.T)"
        if step.bias is not None:
            value += f" + {step.bias.name}"
        return [Statement(f"{step.out.name} = {value}")]

    def loss_statements(self) -> list[Statement]:
        if self.model.loss_kind == "softmax_cross_entropy":
            z, label = self.model.loss_input.name, self.model.label.name
            picked = self.weighted_loss(f"lse - _picked({z}, _{label})")
            return [Statement(f"lse, _softmax = _logsumexp_and_softmax({z})"),
                    Statement(f"total += _over_rows({picked}, _rows)")]
        sums, value = self.reduced(self.derived.named_loss, self.names)
        return sums + [Statement(f"total += _over_rows({self.weighted_loss(value)}, _rows)")]

    def backward(self) -> list[Statement]:
        lines = self.adjoint_statements()
        for gradient in self.derived.gradients:
            lines.extend(self.accumulate(gradient))
        return lines

    def adjoint_statements(self) -> list[Statement]:
        """δt for every junction, latest first (the backward pass without the gradients)."""
        lines = []
        for adjoint in self.derived.adjoints:
            tensor = adjoint.tensor
            sums, local = self.reduced(adjoint.local, self.names)
            lines += sums
            terms = [] if adjoint.local == 0 else [f"({local})"]
            for step in adjoint.through:
                if step.out.is_scalar:
                    terms.append(f"{step.weight.name}*d_{step.out.name}")
                else:
                    terms.append(f"d_{step.out.name} @ {step.weight.name}")
            shape = "(_rows, 1)" if tensor.is_scalar else f"(_rows, {self.dims[tensor.shape[0]]})"
            lines.append(Statement(f"d_{tensor.name} = {' + '.join(terms) or f'np.zeros({shape})'}"))
        return lines

    def accumulate(self, gradient) -> list[Statement]:
        param = gradient.param
        target = f"g_{param.name}"
        lines = []
        if gradient.local != 0:
            sums, local = self.reduced(gradient.local, self.names)
            shape = "" if param.is_scalar else f", {param.name}.shape"
            lines += sums + [Statement(f"{target} += _over_rows({local}, _rows{shape})")]
        for step in gradient.as_weight:
            x = self._rows_of(step.input)
            if step.out.is_scalar:
                lines.append(Statement(f"{target} += {x}.T @ d_{step.out.name}[:, 0]"))
            else:
                lines.append(Statement(f"{target} += d_{step.out.name}.T @ {x}"))
        for step in gradient.as_bias:
            total = f"d_{step.out.name}.sum()" if step.out.is_scalar else f"_sum_over_rows(d_{step.out.name})"
            lines.append(Statement(f"{target} += {total}"))
        return lines

    # -- whole kernels --
    def chunk_args(self, with_label=True) -> list[str]:
        return self.param_args() + (self.data_args() if with_label else self.input_args())

    def chunk_function(self, name, args, arrays, setup, statements, result, doc,
                       with_label=True) -> str:
        statements = prune(statements, numpy_written)
        return KERNEL_NUMPY_CHUNK.substitute(
            name=name, args=", ".join(args), doc=doc,
            slices=self._indent(self.chunk_slices(with_label) + setup, 4),
            body=self._indent([s.code for s in statements], 8), result=result)

    def chunk_slices(self, with_label) -> list[str]:
        """The chunk's rows of every data tensor: a per-sample scalar as a column."""
        tensors = list(self.model.inputs) + ([self.model.label] if with_label and self.model.label else [])
        lines = ["_rows = _stop - _start"]
        for t in tensors:
            column = ", None" if t.is_scalar else ""
            lines.append(f"_{t.name} = {t.name}[_start:_stop{column}]")
        if self.weighted and with_label:
            lines.append("_sample_weight = sample_weight[_start:_stop, None]")
        return lines

    def kernels(self) -> list[str]:
        return [*self.loss_kernel(), *self.loss_and_gradient_kernel(), self.gradient_kernel(),
                *self.predict_kernel(), *self.hessian_kernel(), *self.closed_form_kernel(),
                *self.directional_kernel()]

    # -- a network's exact H·v in NumPy: the R-pass (generate.directional) over a chunk --
    @cached_property
    def directional_names(self) -> dict:
        """R_t and R_d_t (arrays over the chunk's rows, like t) and v's block _v_p."""
        return self.directional_names_with(lambda t: "")

    def directional_kernel(self) -> list[str]:
        """`hessian_vector_numpy`: the R-pass of `RowsEmitter.directional_kernel` as matrix
        expressions over a chunk's rows, so a small job's Newton-CG and automatic step on a
        network compile nothing."""
        found = self.rows.directional
        if found is None:
            return []
        names, lines = self.directional_names, self.forward()
        if self.model.loss_kind == "softmax_cross_entropy":  # lse and e^(z − lse), as the loss
            z = self.model.loss_input.name
            lines.append(Statement(f"lse, _softmax = _logsumexp_and_softmax({z})"))
        lines += self.adjoint_statements()
        for step, value in found.forward:
            if isinstance(step, Affine):
                lines += self.directional_affine(step)
            else:
                sums, printed = self.reduced(value, names)
                lines += sums + [Statement(f"R_{step.out.name} = {printed}")]
        if found.reads_lse:  # R{log Σ_c e^{z_c}} = Σ_c softmax_c · R{z_c}
            z = self.model.loss_input.name
            lines.append(Statement(f"R_lse = _over_units(_softmax*R_{z})"))
        lines += self.directional_backward(found, names)
        for gradient, value in found.gradients:
            lines += self.directional_accumulate(gradient, value, names)
        views = [f"_v_{p.name} = {self.block_of(self.VECTOR, p)}" for p in self.model.params]
        views += [f"_hv_{p.name} = {self.block_of('hv', p)}" for p in self.model.params
                  if not p.is_scalar]
        return self.hessian_vector_entry(lines, [], setup=views)

    def directional_affine(self, step: Affine) -> list[Statement]:
        """R{W·x + b} = R{W}·x + W·R{x} + R{b}, R{x} = 0 for data."""
        x, w = self._rows_of(step.input), step.weight.name
        if step.out.is_scalar:
            terms = [f"({x} @ _v_{w})[:, None]"]
            if step.input.role != "data":
                terms.append(f"(R_{step.input.name} @ {w})[:, None]")
        else:
            terms = [f"{x} @ _v_{w}.T"]
            if step.input.role != "data":
                terms.append(f"R_{step.input.name} @ {w}.T")
        if step.bias is not None:
            terms.append(f"_v_{step.bias.name}")
        return [Statement(f"R_{step.out.name} = {' + '.join(terms)}")]

    def directional_backward(self, found, names) -> list[Statement]:
        """R of every adjoint, latest first: R{Wᵀ·δout} = R{W}ᵀ·δout + Wᵀ·R{δout}."""
        lines = []
        for adjoint, value in found.adjoints:
            tensor = adjoint.tensor
            sums, local = self.reduced(value, names)
            terms = [] if value == 0 else [f"({local})"]
            for step in adjoint.through:
                w, out = step.weight.name, step.out.name
                if step.out.is_scalar:
                    terms += [f"_v_{w}*d_{out}", f"{w}*R_d_{out}"]
                else:
                    terms += [f"d_{out} @ _v_{w}", f"R_d_{out} @ {w}"]
            shape = "(_rows, 1)" if tensor.is_scalar else f"(_rows, {self.dims[tensor.shape[0]]})"
            lines += sums + [Statement(f"R_d_{tensor.name} = "
                                       f"{' + '.join(terms) or f'np.zeros({shape})'}")]
        return lines

    def directional_accumulate(self, gradient, value, names) -> list[Statement]:
        """R{∂ℓ/∂p} summed over the chunk's rows into p's block of hv."""
        param = gradient.param
        target = self.block_of("hv", param) if param.is_scalar else f"_hv_{param.name}"
        lines = []
        if value != 0:
            sums, local = self.reduced(value, names)
            shape = "" if param.is_scalar else f", {param.name}.shape"
            lines += sums + [Statement(f"{target} += _over_rows({local}, _rows{shape})")]
        for step in gradient.as_weight:
            x, out = self._rows_of(step.input), step.out.name
            pairs = [(x, f"R_d_{out}")]
            if step.input.role != "data":
                pairs.append((f"R_{step.input.name}", f"d_{out}"))
            for rows, adjoint in pairs:
                lines.append(Statement(f"{target} += {rows}.T @ {adjoint}[:, 0]" if step.out.is_scalar
                                       else f"{target} += {adjoint}.T @ {rows}"))
        for step in gradient.as_bias:
            axis = "" if step.out.is_scalar else "axis=0"
            lines.append(Statement(f"{target} += R_d_{step.out.name}.sum({axis})"))
        return lines


    # -- the Hessian and the closed form, for the curvature kinds of the documents' small jobs --
    def hessian_kernel(self) -> list[str]:
        """hessian_numpy for scalar parameters ("scalar": each entry summed over the rows), for
        one vector θ through z = θᵀx ("linear": Σ ℓ''(z)·x xᵀ as one matrix product), for
        z = wᵀx + b with loose scalars ("affine": `affine_hessian`) and for a softmax
        regression ("softmax": a product per pair of classes), so a closed form, Newton
        or the automatic step of a small job compile nothing either, and the matrix products
        run at BLAS speed (the Numba kernel adds one row's outer product at a time)."""
        curvature = self.derived.curvature
        if curvature is None or curvature.kind not in ("scalar", "linear", "affine", "softmax"):
            return []
        size: int | str  # a number of parameters, or the code for a dimension's size
        lines: list[Statement]
        if curvature.kind == "affine":
            lines, size = self.affine_hessian(curvature), self.flat_size()
        elif curvature.kind == "softmax":
            step = curvature.affine
            bias = f"{step.weight.name}.size" if step.bias is not None else "-1"
            lines = [Statement(f"lse = _logsumexp_over_units({step.out.name})"),
                     Statement(f"_softmax_affine_hessian_numpy({step.out.name}, lse, "
                               f"{self._rows_of(step.input)}, hess, {bias})")]
            size = self.flat_size()
        elif curvature.kind == "scalar":
            size = len(curvature.params)
            lines = []
            for a, row in enumerate(curvature.entries):
                for b, entry in enumerate(row):
                    sums, value = self.reduced(entry, self.names)
                    lines += sums + [Statement(f"hess[{a}, {b}] += _over_rows({value}, _rows)")]
        else:
            x = self._rows_of(curvature.affine.input)
            sums, second = self.reduced(curvature.second, self.names)
            size = self.dims[curvature.params[0].shape[0]]
            lines = sums + [Statement(f"hess += ({x} * ({second})).T @ {x}")]
        args = self.chunk_args()
        chunk = self.chunk_function(
            "_hessian_of_rows_numpy", args + ["_start", "_stop", "hess"], [], [],
            self.forward() + lines, "hess",
            "Σ over rows start..stop of ∂²ℓ/∂p∂q, added into hess, in NumPy.")
        chunks, run = self.chunks_functions("_hessian_of_chunks_numpy", "_hessian_of_rows_numpy",
                                            args, buffers=["_hess"])
        penalty = (f" + penalty_hessian({', '.join(self.param_args())})"
                   if self.has_penalty else "")
        kernel = KERNEL_HESSIAN.substitute(
            run=run, args=self.signature(), chunk_args=", ".join(args), rows=self._rows(),
            scale=self.scale_line(), result=self.scaled("_combine(_hess_parts)") + penalty,
            shape=f"({size}, {size})", doc="The Hessian ∂²J/∂p∂q, in NumPy.")
        return [chunk, *chunks, numpy_names(kernel)]

    def affine_hessian(self, curvature) -> list[Statement]:
        """A chunk's ∂²ℓ over the flat (w, b, scalars) of kind "affine" (derive.Curvature):
        ℓ_zz·(x, 1)(x, 1)ᵀ as (x·ℓ_zz)ᵀx and its sums, the scalars' columns ℓ_zs·(x, 1), and
        their own entries ℓ_st, each summed over the rows."""
        at, step = self.offsets(), curvature.affine
        x, w = self._rows_of(step.input), at[step.weight.name]
        block = f"{w}:{w} + {step.weight.name}.size"
        bias = at[step.bias.name] if step.bias is not None else None
        sums, second = self.reduced(curvature.second, self.names)
        lines = sums + [Statement(f"_second = {second}"),  # a column, or one number for all rows
                        Statement(f"_x_second = {x} * _second"),
                        Statement(f"hess[{block}, {block}] += _x_second.T @ {x}")]
        if bias is not None:
            lines += [Statement("_column = _sum_over_rows(_x_second)"),
                      Statement(f"hess[{block}, {bias}] += _column"),
                      Statement(f"hess[{bias}, {block}] += _column"),
                      Statement(f"hess[{bias}, {bias}] += _over_rows(_second, _rows)")]
        for s, cross in zip(curvature.scalars, curvature.cross):
            if cross == 0:
                continue
            sums, value = self.reduced(cross, self.names)
            column = f"_sum_over_rows({x} * (({value}) * np.ones((_rows, 1))))"
            lines += sums + [Statement(f"hess[{block}, {at[s.name]}] += {column}"),
                             Statement(f"hess[{at[s.name]}, {block}] += {column}")]
            if bias is not None:
                lines += [Statement(f"hess[{bias}, {at[s.name]}] += _over_rows({value}, _rows)"),
                          Statement(f"hess[{at[s.name]}, {bias}] += _over_rows({value}, _rows)")]
        for s, row in zip(curvature.scalars, curvature.entries):
            for u, entry in zip(curvature.scalars, row):
                if entry != 0:
                    sums, value = self.reduced(entry, self.names)
                    lines += sums + [Statement(
                        f"hess[{at[s.name]}, {at[u.name]}] += _over_rows({value}, _rows)")]
        return lines

    def closed_form_kernel(self) -> list[str]:
        """closed_form_numpy: the data sums S of a quadratic J in scalar parameters, each one
        array expression, and the minimiser written with them; or, for one vector θ, the
        normal equation H·θ = −∇J(0) from two matrix products."""
        if not self.derived.has_closed_form:
            return []
        curvature = self.derived.curvature
        data = {t.symbol: t.name for t in self.model.tensors.values() if t.role in ("data", "target")}
        if curvature.kind == "linear":
            z = curvature.affine.out.symbol
            first_at_zero = sp.diff(self.derived.loss, z).subs(z, 0)
            x, theta = curvature.affine.input.name, curvature.params[0].name
            columns = {symbol: f"{name}[:, None]" if name != x else name
                       for symbol, name in data.items()}
            second = NumPyTierPrinter(columns).doprint(curvature.second)
            first = NumPyTierPrinter(columns).doprint(first_at_zero)
            lines = [f"hess = ({x} * ({second})).T @ {x}",
                     f"g = (({first}) * np.ones((len({x}), 1)) * {x}).sum(axis=0)",
                     f"{theta} = np.linalg.solve(hess, -g)"]
            result = theta
        else:
            form = self.derived.closed
            names = {**data, **{s: statistic_name(s) for s in form.statistics}}
            used = set().union(*(form.solution[p.symbol].free_symbols for p in self.model.params))
            lines = []
            if any(statistic_name(s) == "m" for s in used):
                lines.append(f"m = {self.model.features.name}.shape[0]")
            for symbol in form.statistics:
                if statistic_name(symbol) != "m" and symbol in used:
                    summand = NumPyTierPrinter(data).doprint(form.statistics[symbol])
                    lines.append(f"{statistic_name(symbol)} = float(np.sum({summand}))")
            for p in self.model.params:
                lines.append(f"{p.name} = {NumPyTierPrinter(names).doprint(form.solution[p.symbol])}")
            result = ", ".join(p.name for p in self.model.params)
        body = "\n".join("    " + line for line in lines)
        kernel = (f'def closed_form_numpy({self.entry_args(self.data_args(), params=False)}):\n'
                  f'    """The closed-form minimiser of closed_form, in NumPy."""\n'
                  f'{body}\n    return {result}\n')
        return [kernel]

    def weighted_curvature(self) -> list[str]:
        return []  # the Numba tier's weighted Hessian serves both

    def entry_names(self, kernel: str) -> str:
        if self.weighted:
            return numpy_names(renamed_entries(kernel, "_weighted_numpy"))
        return numpy_names(kernel)

    def predict_kernel(self) -> list[str]:
        out = self.model.output_tensor
        if out is None:
            return []
        label = self.model.label
        statements = [s for s in self.forward()
                      if label is None or not re.search(rf"\b_{label.name}\b", s.code)]
        if out.is_scalar:
            allocate = "np.empty(m)"
            store = f"out[_start:_stop] = np.broadcast_to({out.name}, (_rows, 1))[:, 0]"
        else:
            allocate = f"np.empty((m, {self.dims[out.shape[0]]}))"
            store = f"out[_start:_stop] = {out.name}"
        args = self.chunk_args(with_label=False)
        rows = f"_predict_rows{self.suffix}"
        chunk = self.chunk_function(
            rows, args + ["_start", "_stop", "out"], [], [],
            statements + [Statement(store)], "out",
            f"{out.name} for rows start..stop, into out, in NumPy.", with_label=False)
        chunks, run = self.chunks_functions(f"_predict_of_chunks{self.suffix}", rows, args,
                                            tail=["out"])
        kernel = KERNEL_PREDICT.substitute(
            run=run, args=self.entry_args(self.input_args()), rows=self._rows(),
            allocate=allocate, transposed="", chunk_args=", ".join(args),
            doc=f"The model's output {out.name} for every sample, in NumPy.")
        return [chunk, *chunks, self.entry_names(kernel)]


def numpy_written(statement: Statement) -> str | None:
    """What a NumPy statement writes; `out[...] = ` writes the result."""
    if statement.code.startswith("out["):
        return "out"
    return assigned(statement)


def numpy_names(kernel: str) -> str:
    """An entry point's text with the tier's names: its own, the chunk functions it calls, and
    the penalty kernels' plain Python (NumPy) functions, which need no compiling either."""
    kernel = re.sub(r"\b(loss_and_gradient|loss|gradient|predict|hessian_vector|hessian|"
                    r"_loss_of_chunks|_loss_and_gradient_of_chunks|_predict_of_chunks)\(",
                    r"\1_numpy(", kernel)
    return re.sub(r"\b(penalty|penalty_gradient|penalty_hessian_vector|penalty_hessian)\(",
                  r"\1.py_func(", kernel)
