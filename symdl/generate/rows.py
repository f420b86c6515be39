"""The rows layout: per-sample kernels, one fused pass over the data.

Each kernel is a compiled function over a range of rows, which for one sample runs the
forward pass, the loss and the backward pass back to back, loops over the chunks of rows
(the `prange` one only for data of several chunks), and a plain Python function that adds
the chunks' parts. Gradients are reduced into per-chunk buffers combined after the chunks,
in chunk order: `out[k] +=` on one shared array from several threads races
(docs/engineering.md, 'Shared arrays in prange', 'Threads and prange').

Long because the rows layout also writes every model's Hessian and closed form (the block
layout borrows them): each kind of curvature (scalar parameters, θᵀx, an affine map with a
bias, scalars and a penalty) is a short method of its own here.
"""

from __future__ import annotations

import re
from functools import cached_property

import sympy as sp

from symdl.derive import LSE, ONEHOT, SAMPLE_WEIGHT, adjoint_symbol
from symdl.errors import DerivationError
from symdl.generate.directional import Directional, direction_symbol, directional, r_symbol
from symdl.generate.emitter import Emitter, Statement, prune, referenced, statistic_name
from symdl.generate.printer import ArrayPrinter
from symdl.generate.templates import KERNEL_HESSIAN, KERNEL_PLAIN, KERNEL_PREDICT, KERNEL_ROWS_CHUNK
from symdl.model import Affine, Let


class RowsEmitter(Emitter):
    """Per-sample kernels: one fused pass over each chunk of rows."""

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
        names[SAMPLE_WEIGHT] = "sample_weight[i]"
        if self.model.loss_kind == "softmax_cross_entropy":
            c = self.index(self.model.loss_input.shape[0])
            names[ONEHOT] = f"(1.0 if {c} == {self.model.label.name}_i else 0.0)"
        return names

    # -- node methods: forward --
    def forward(self) -> list[Statement]:
        self.computed = set()  # a kernel's statements start here: no shared call computed yet
        lines = self.input_rows()
        if self.model.label:
            t = self.model.label
            lines.append(Statement(f"{t.name}_i = {t.name}[i]"))
        for step in self.derived.steps:
            lines.extend(getattr(self, f"forward_{type(step).__name__}")(step))
        return lines

    def input_rows(self) -> list[Statement]:
        """Row i of every data tensor, as the statements that follow read it (`x_i`)."""
        return [Statement(f"{t.name}_i = {t.name}[i]") for t in self.model.inputs]

    def dot_input(self, weight: str, tensor) -> str:
        """w·x for a weight (or a weight's row) and the input of an affine map."""
        return f"_dot({weight}, {self._vector(tensor)})"

    def axpy_input(self, alpha: str, tensor, target: str) -> str:
        """target += alpha·x for the input x of an affine map (a weight's gradient)."""
        return f"_axpy({alpha}, {self._vector(tensor)}, {target})"

    def forward_Affine(self, step: Affine) -> list[Statement]:
        bias = ""
        if step.out.is_scalar:
            if step.bias is not None:
                bias = f"{step.bias.name} + "
            return [Statement(f"{step.out.name} = {bias}{self.dot_input(step.weight.name, step.input)}")]
        k = self.index(step.out.shape[0])
        if step.bias is not None:
            bias = f"{step.bias.name}[{k}] + "
        return [Statement(f"{step.out.name}[{k}] = {bias}"
                          f"{self.dot_input(f'{step.weight.name}[{k}]', step.input)}",
                          step.out.shape[0])]

    def forward_Let(self, step: Let) -> list[Statement]:
        names = self.names
        target = names[step.out.symbol]
        loop = None if step.out.is_scalar else step.out.shape[0]
        sums, value = self.reduced(step.expr, names)
        return sums + [Statement(f"{target} = {value}", loop)]

    def loss_statements(self, accumulator="total") -> list[Statement]:
        names = self.names
        if self.model.loss_kind == "softmax_cross_entropy":
            z = self.model.loss_input.name
            label = f"{self.model.label.name}_i"
            return [Statement(f"lse = _logsumexp({z})"),
                    Statement(f"{accumulator} += {self.weighted_loss(f'lse - {z}[{label}]')}")]
        sums, value = self.reduced(self.derived.named_loss, names)
        return sums + [Statement(f"{accumulator} += {self.weighted_loss(value)}")]

    # -- node methods: backward --
    def backward(self) -> list[Statement]:
        lines = self.adjoint_statements()
        for gradient in self.derived.gradients:
            lines.extend(self.accumulate(gradient, self.names))
        return lines

    def adjoint_statements(self) -> list[Statement]:
        """δt for every junction, latest first (the backward pass without the gradients)."""
        lines = []
        names = self.names
        for adjoint in self.derived.adjoints:
            tensor = adjoint.tensor
            target = names[adjoint_symbol(tensor)]
            sums, local = self.reduced(adjoint.local, names)
            terms = [] if adjoint.local == 0 else [local]
            for step in adjoint.through:
                terms.append(self._transpose_product(step))
            loop = None if tensor.is_scalar else tensor.shape[0]
            lines += sums + [Statement(f"{target} = {' + '.join(terms) or '0.0'}", loop)]
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
            inner = param.shape[1] if len(param.shape) == 2 else None  # a matrix: C[k, j]
            indices = ", ".join(self.index(d) for d in param.shape)
            target = f"g_{param.name}" if param.is_scalar else f"g_{param.name}[{indices}]"
            sums, local = self.reduced(gradient.local, names)
            lines += sums + [Statement(f"{target} += {local}", loop, inner=inner)]
        for step in gradient.as_weight:
            if step.out.is_scalar:
                lines.append(Statement(self.axpy_input(f"d_{step.out.name}", step.input,
                                                       f"g_{param.name}")))
            else:
                k = self.index(step.out.shape[0])
                lines.append(Statement(self.axpy_input(f"d_{step.out.name}[{k}]", step.input,
                                                       f"g_{param.name}[{k}]"),
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
        for name, dim in self.sum_arrays.items():  # sums over a matrix's rows, one per unit
            lines.append(f"{name} = np.empty({self.dims[dim]}, {dtype})")
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
        A statement with an `inner` dimension runs in a loop of its own inside the fused one.
        """
        out: list[str] = []
        pad = " " * indent
        current: str | None = None
        body: list[str] = []
        calls_helper = re.compile(r"\b_(dot|dot_column|axpy|csr_dot|csr_axpy)\(")

        def flush():
            if current is None:
                out.extend(pad + s for s in body)
            else:
                out.append(f"{pad}for {self.index(current)} in range({self.dims[current]}):")
                out.extend(pad + "    " + s for s in body)

        previous_calls = False
        for statement in statements:
            calls = statement.loop is not None and (statement.alone
                                                    or bool(calls_helper.search(statement.code)))
            if statement.loop != current or calls or previous_calls:
                flush()
                current, body = statement.loop, []
            if statement.inner is not None:
                body += [f"for {self.index(statement.inner)} in range({self.dims[statement.inner]}):",
                         "    " + statement.code]
            else:
                body.append(statement.code)
            previous_calls = calls
        flush()
        return out

    # -- whole kernels --
    def kernels(self) -> list[str]:
        if self.model.features is None:
            return self.penalty_kernels() + [self.kernel_without_data("loss"), self.kernel_without_data("loss_and_gradient"),
                    self.gradient_kernel()] + self.curvature_kernels()
        return self.penalty_kernels() + [
            *self.loss_kernel(), *self.loss_and_gradient_kernel(), self.gradient_kernel(),
            *self.predict_kernel()] + self.curvature_kernels()

    def chunk_function(self, name, args, arrays, setup, statements, result, doc) -> str:
        """The compiled half of a kernel: its statements for every row from _start to _stop."""
        body = self.block(statements, 8)
        return KERNEL_ROWS_CHUNK.substitute(
            name=name, args=", ".join(args), doc=doc,
            arrays=self._indent(referenced(arrays, body), 4), setup=self._indent(setup, 4),
            body="\n".join(body), result=result)

    def loss_kernel(self) -> list[str]:
        return self.loss_kernels(self.param_args() + self.data_args(), self.local_arrays(False),
                                 prune(self.forward() + self.loss_statements()))

    def loss_and_gradient_kernel(self) -> list[str]:
        buffers = [f"g_{p.name}" for p in self.model.params if not p.is_scalar]
        return self.fused_kernels(
            self.param_args() + self.data_args(), buffers, self.local_arrays(True),
            prune(self.forward() + self.loss_statements() + self.backward()))

    def predict_kernel(self) -> list[str]:
        out = self.model.output_tensor
        if out is None:
            return []
        label = self.model.label
        forward = [s for s in self.forward()
                   if label is None or not s.code.startswith(f"{label.name}_i =")]
        if out.is_scalar:
            allocate, store = "np.empty(m)", f"out[i] = {out.name}"
        else:
            allocate = f"np.empty((m, {self.dims[out.shape[0]]}))"
            store = f"out[i, :] = {out.name}"
        args = self.param_args() + self.input_args()
        rows = f"_predict_rows{self.suffix}"
        chunk = self.chunk_function(
            rows, args + ["_start", "_stop", "out"], self.local_arrays(False), [],
            prune(forward + [Statement(store)]), "out", f"{out.name} for rows start..stop, into out.")
        chunks, run = self.chunks_functions(f"_predict_of_chunks{self.suffix}", rows, args,
                                            tail=["out"])
        kernel = KERNEL_PREDICT.substitute(
            run=run, args=self.entry_args(self.input_args()), rows=self._rows(),
            allocate=allocate, transposed="",
            chunk_args=", ".join(args), doc=f"The model's output {out.name} for every sample.")
        return [chunk, *chunks, self.entry_names(kernel)]

    def kernel_without_data(self, which) -> str:
        self.computed = set()
        names = self.names
        sums, value = self.reduced(self.derived.stable_loss, names)
        lines = self.block(sums, 0) + [f"total = {value}{self.penalty_call()}"]
        results = ["total"]
        if which == "loss_and_gradient":
            for position, g in enumerate(self.derived.gradients):
                lines += self.gradient_without_data(g, position)
                results.append(f"g_{g.param.name}")
        return KERNEL_PLAIN.substitute(
            name=which, args=self.signature(), body=self._indent(lines, 4),
            result=", ".join(results),
            doc="J and its gradient." if results[1:] else "J itself (there is no data to sum over).")

    def gradient_without_data(self, gradient, position) -> list[str]:
        """∂J/∂p of a model without data: a number, or an array filled element by element."""
        param = gradient.param
        sums, value = self.reduced(gradient.local, self.names)
        if param.is_scalar:
            return self.block(sums, 0) + [f"g_{param.name} = {value}"
                                          f"{self.penalty_gradient_term(position)}"]
        if len(param.shape) > 1:  # the language sums a matrix only beside data (a row per sample)
            raise DerivationError(f"{self.model.name}: a model without data generates the "
                                  f"gradient of vectors and numbers, not of the matrix "
                                  f"{param.name}; write it as vectors, or give the model data")
        element = f"g_{param.name}[{self.index(param.shape[0])}] = {value}"
        body = self.block(sums + [Statement(element, param.shape[0])], 0)
        penalty = self.penalty_gradient_term(position)
        return ([f"g_{param.name} = np.empty({param.name}.shape)"] + body
                + ([f"g_{param.name} = g_{param.name}{penalty}"] if penalty else []))

    def curvature_kernels(self) -> list[str]:
        curvature = self.derived.curvature
        if curvature is None:
            return self.directional_penalty_kernel() + self.directional_kernel()
        kernels = self.penalty_hessian_kernel(curvature) + self.hessian_kernel(curvature)
        kernels += self.penalty_hessian_vector_kernel(curvature)
        kernels += self.hessian_vector_kernel(curvature)
        if self.derived.has_closed_form:
            kernels.append(self.closed_form_kernel(curvature))
        return kernels

    def hessian_kernel(self, curvature) -> list[str]:
        names = self.names
        size: int | str  # a number of parameters, or the code for a dimension's size
        if curvature.kind == "scalar":
            size = len(curvature.params)
            printed: dict = {}  # the matrix is symmetric: each entry is printed once
            for row in curvature.entries:
                for entry in row:
                    if entry not in printed:
                        printed[entry] = self.print(entry, names)
            lines = prune(self.forward() + [
                Statement(f"hess[{a}, {b}] += {self.weighted_loss(printed[entry])}")
                for a, row in enumerate(curvature.entries) for b, entry in enumerate(row)])
            shape = f"({size}, {size})"
        elif curvature.kind == "affine":
            lines, shape = prune(self.forward() + self.affine_hessian(curvature)), self.flat_shape()
        elif curvature.kind == "softmax":
            lines, shape = prune(self.forward() + self.softmax_hessian(curvature)), self.flat_shape()
        else:
            x = curvature.affine.input.name
            second = self.weighted_loss(self.print(curvature.second, names))
            lines = prune(self.forward() + [Statement(f"_outer_add({second}, {x}_i, hess)")])
            size = self.dims[curvature.params[0].shape[0]]
            shape = f"({size}, {size})"
        if self.model.features is None:
            body = ["hess = np.zeros(" + shape + ")"] + [s.code for s in lines]
            return [KERNEL_PLAIN.substitute(
                name="hessian", args=self.signature(), body=self._indent(body, 4),
                result="hess", doc="∂²J/∂p∂q (J has no data, so this is J's own Hessian).")]
        args = self.param_args() + self.data_args()
        rows = f"_hessian_of_rows{self.suffix}"
        chunk = self.chunk_function(
            rows, args + ["_start", "_stop", "hess"],
            self.local_arrays(False), [], lines, "hess",
            "Σ over rows start..stop of ∂²ℓ/∂p∂q, added into hess.")
        chunks, run = self.chunks_functions(f"_hessian_of_chunks{self.suffix}", rows, args,
                                            buffers=["_hess"])
        penalty = (f" + penalty_hessian({', '.join(self.param_args())})"
                   if self.has_penalty else "")
        kernel = KERNEL_HESSIAN.substitute(
            run=run, args=self.signature(), chunk_args=", ".join(args), rows=self._rows(),
            scale=self.scale_line(), result=self.scaled("_combine(_hess_parts)") + penalty,
            shape=shape, doc="The Hessian ∂²J/∂p∂q, summed over the samples chunk by chunk.")
        return [chunk, *chunks, self.entry_names(kernel)]

    def softmax_hessian(self, curvature) -> list[Statement]:
        """One sample's ∂²ℓ over the flat (W, b) of a softmax regression (`Curvature`)."""
        step = curvature.affine
        bias = f"{step.weight.name}.size" if step.bias is not None else "-1"
        weight = self.weighted_loss("1.0")
        return [Statement(f"lse = _logsumexp({step.out.name})"),
                Statement(f"_softmax_affine_add({weight}, {step.out.name}, lse, "
                          f"{step.input.name}_i, hess, {bias})")]

    def affine_hessian(self, curvature, product=False) -> list[Statement]:
        """One sample's ∂²ℓ over the flat parameters, added into hess (`Curvature`); with
        `product`, its H·v added into hv instead, through the `_*_hv_add` helpers."""
        names, at, step = self.names, self.offsets(), curvature.affine
        w, bias = at[step.weight.name], at[step.bias.name] if step.bias is not None else "-1"
        v = self.VECTOR
        into = f"{step.input.name}_i, {v}, hv" if product else f"{step.input.name}_i, hess"
        outer, cross_add = ("_affine_hv_add", "_affine_cross_hv_add") if product else (
            "_affine_outer_add", "_affine_cross_add")
        lines = [Statement(f"{outer}({self.weighted_loss(self.print(curvature.second, names))}, "
                           f"{into}, {w}, {bias})")]
        for s, cross in zip(curvature.scalars, curvature.cross):
            if cross != 0:
                lines.append(Statement(f"{cross_add}({self.weighted_loss(self.print(cross, names))}, "
                                       f"{into}, {w}, {bias}, {at[s.name]})"))
        for s, row in zip(curvature.scalars, curvature.entries):
            for t, entry in zip(curvature.scalars, row):
                if entry != 0:
                    value = self.weighted_loss(self.print(entry, names))
                    lines.append(Statement(f"hv[{at[s.name]}] += {value} * {v}[{at[t.name]}]"
                                           if product else
                                           f"hess[{at[s.name]}, {at[t.name]}] += {value}"))
        return lines

    def penalty_hessian_kernel(self, curvature) -> list[str]:
        """∂²R/∂p∂q over the flat parameters: w's diagonal, and b's and the scalars' block."""
        if not self.has_penalty or curvature.kind not in ("affine", "softmax"):
            return []
        if curvature.kind == "softmax":
            return self.diagonal_penalty_hessian(curvature)
        at, w = self.offsets(), curvature.affine.weight
        loose = ([curvature.affine.bias] if curvature.affine.bias is not None else []) + curvature.scalars
        names = {**{t.symbol: t.name for t in self.model.params + self.model.hypers},
                 w.symbol: f"{w.name}[j]"}
        body = [f"hess = np.zeros({self.flat_shape()})"]
        if curvature.penalty_diagonal != 0:
            body += [f"for j in range({w.name}.shape[0]):",
                     f"    hess[{at[w.name]} + j, {at[w.name]} + j] = "
                     f"{self.print(curvature.penalty_diagonal, names)}"]
        for s, row in zip(loose, curvature.penalty_entries):
            for t, entry in zip(loose, row):
                if entry != 0:
                    body.append(f"hess[{at[s.name]}, {at[t.name]}] = {self.print(entry, names)}")
        return [KERNEL_PLAIN.substitute(
            name="penalty_hessian", args=", ".join(self.param_args()),
            body=self._indent(body, 4), result="hess",
            doc="∂²R/∂p∂q over the flat parameters (R is a sum over w's entries: diagonal).")]

    def weighted_curvature(self) -> list[str]:
        """The weighted Hessian kernel, where a Hessian is derived (Σ_i w_i ∂²ℓ⁽ⁱ⁾/∂p∂q)."""
        curvature = self.derived.curvature
        if curvature is None:
            return self.directional_kernel()
        return self.hessian_kernel(curvature) + self.hessian_vector_kernel(curvature)

    # -- H·v without H: the Hessian-vector product of every curvature kind (Newton-CG) --
    def hessian_vector_kernel(self, curvature) -> list[str]:
        """`hessian_vector(params, _v, data)`: H·v over the flat parameters, summed over the
        samples chunk by chunk like `hessian`, each sample's term computed from its forward
        pass without forming its P × P matrix (the `_*_hv_add` helpers); a penalty adds
        `penalty_hessian_vector`. P numbers of memory where `hessian` takes P²."""
        if self.model.features is None:
            return []
        names, v = self.names, self.VECTOR
        if curvature.kind == "scalar":
            printed: dict = {}
            for row in curvature.entries:
                for entry in row:
                    if entry not in printed:
                        printed[entry] = self.print(entry, names)
            lines = self.forward() + [
                Statement(f"hv[{a}] += {self.weighted_loss(printed[entry])} * {v}[{b}]")
                for a, row in enumerate(curvature.entries) for b, entry in enumerate(row)
                if entry != 0]
        elif curvature.kind == "affine":
            lines = self.forward() + self.affine_hessian(curvature, product=True)
        elif curvature.kind == "softmax":
            step = curvature.affine
            bias = f"{step.weight.name}.size" if step.bias is not None else "-1"
            lines = self.forward() + [
                Statement(f"lse = _logsumexp({step.out.name})"),
                Statement(f"_softmax_affine_hv_add({self.weighted_loss('1.0')}, "
                          f"{step.out.name}, lse, {step.input.name}_i, {v}, hv, {bias})")]
        else:
            second = self.weighted_loss(self.print(curvature.second, names))
            lines = self.forward() + [Statement(
                f"_affine_hv_add({second}, {curvature.affine.input.name}_i, {v}, hv, 0, -1)")]
        return self.hessian_vector_entry(prune(lines), self.local_arrays(False))

    # -- H·v of a model whose Hessian has no closed form: the R-pass (generate.directional) --
    @cached_property
    def directional(self) -> Directional | None:
        return directional(self.derived)

    @cached_property
    def directional_names(self) -> dict:
        """R_t[k], R_d_t[k] and v's block _v_p[k] as the per-sample statements read them."""
        return self.directional_names_with(
            lambda t: "" if t.is_scalar else f"[{self.index(t.shape[0])}]")

    def directional_kernel(self) -> list[str]:
        """`hessian_vector(params, _v, data)` by Pearlmutter's R-pass: for each sample the
        forward pass and the adjoints, then R of each (`directional_forward`,
        `directional_backward`), then R of each gradient added into hv
        (`directional_accumulate`). Exact (each R-statement is SymPy's derivative of a
        statement of the gradient), with a ReLU's step taken as flat (δ = 0)."""
        found = self.directional
        if found is None:
            return []
        names = self.directional_names
        lines = self.forward()
        if self.model.loss_kind == "softmax_cross_entropy":
            lines.append(Statement(f"lse = _logsumexp({self.model.loss_input.name})"))
        lines += self.adjoint_statements() + self.directional_forward(found, names)
        lines += self.directional_backward(found, names)
        for gradient, value in found.gradients:
            lines += self.directional_accumulate(gradient, value, names)
        return self.hessian_vector_entry(prune(lines), self.directional_arrays())

    def directional_arrays(self) -> list[str]:
        """The work arrays of the R-pass (R_t and R_d_t beside t and d_t), and v's and hv's
        blocks as views shaped like their parameters."""
        arrays = self.local_arrays(True)
        arrays += [f"R_{line}" for line in arrays if " = np.empty(" in line]
        for p in self.model.params:
            arrays.append(f"_v_{p.name} = {self.block_of(self.VECTOR, p)}")
            if not p.is_scalar:
                arrays.append(f"_hv_{p.name} = {self.block_of('hv', p)}")
        return arrays

    def directional_forward(self, found: Directional, names) -> list[Statement]:
        """R of every step's output, in the forward pass's order."""
        lines = []
        for step, value in found.forward:
            if isinstance(step, Affine):
                lines.append(self.directional_affine(step))
                continue
            loop = None if step.out.is_scalar else step.out.shape[0]
            sums, printed = self.reduced(value, names)
            lines += sums + [Statement(f"{names[r_symbol(step.out.symbol)]} = {printed}", loop)]
        if found.reads_lse:  # R{log Σ_c e^{z_c}} = Σ_c softmax_c · R{z_c}
            z = self.model.loss_input
            c = self.index(z.shape[0])
            lines += [Statement("R_lse = 0.0"),
                      Statement(f"R_lse += _exp({z.name}[{c}] - lse)*R_{z.name}[{c}]", z.shape[0],
                                alone=True)]
        return lines

    def directional_affine(self, step: Affine) -> Statement:
        """R{W·x + b} = R{W}·x + W·R{x} + R{b}, where R{x} = 0 for data."""
        weight, direction = step.weight.name, f"_v_{step.weight.name}"
        out, loop, unit = f"R_{step.out.name}", None, ""
        if not step.out.is_scalar:
            k = self.index(step.out.shape[0])
            unit, loop = f"[{k}]", step.out.shape[0]
        terms = [f"_v_{step.bias.name}{unit}"] if step.bias is not None else []
        terms.append(self.dot_input(direction + unit, step.input))
        if step.input.role != "data":
            terms.append(f"_dot({weight}{unit}, R_{step.input.name})")
        return Statement(f"{out}{unit} = {' + '.join(terms)}", loop)

    def directional_backward(self, found: Directional, names) -> list[Statement]:
        """R of every adjoint, latest first: R of its element-wise part, and for each affine
        map that reads it R{Wᵀ·δout} = R{W}ᵀ·δout + Wᵀ·R{δout}."""
        lines = []
        for adjoint, value in found.adjoints:
            tensor = adjoint.tensor
            sums, local = self.reduced(value, names)
            terms = [] if value == 0 else [local]
            for step in adjoint.through:
                k, w, out = self.index(tensor.shape[0]), step.weight.name, step.out.name
                if step.out.is_scalar:
                    terms += [f"_v_{w}[{k}]*d_{out}", f"{w}[{k}]*R_d_{out}"]
                else:
                    terms += [f"_dot_column(_v_{w}, {k}, d_{out})", f"_dot_column({w}, {k}, R_d_{out})"]
            loop = None if tensor.is_scalar else tensor.shape[0]
            target = names[r_symbol(adjoint_symbol(tensor))]
            lines += sums + [Statement(f"{target} = {' + '.join(terms) or '0.0'}", loop)]
        return lines

    def directional_accumulate(self, gradient, value, names) -> list[Statement]:
        """R{∂ℓ/∂p}, p's block of one sample's H·v, added into hv: R of its element-wise part,
        and for each affine map p is the weight of, R{δout ⊗ x} = R{δout} ⊗ x + δout ⊗ R{x}
        (R{x} = 0 for data), or the bias of, R{δout}."""
        param = gradient.param
        block = f"hv[{self.offsets()[param.name]}]" if param.is_scalar else f"_hv_{param.name}"
        loop = None if param.is_scalar else param.shape[0]
        lines = []
        if value != 0:
            unit = "" if param.is_scalar else f"[{self.index(param.shape[0])}]"
            sums, local = self.reduced(value, names)
            lines += sums + [Statement(f"{block}{unit} += {local}", loop)]
        for step in gradient.as_weight:
            out, unit, dim = step.out.name, "", None
            if not step.out.is_scalar:
                unit, dim = f"[{self.index(step.out.shape[0])}]", step.out.shape[0]
            lines.append(Statement(self.axpy_input(f"R_d_{out}{unit}", step.input, block + unit), dim))
            if step.input.role != "data":
                lines.append(Statement(f"_axpy(d_{out}{unit}, R_{step.input.name}, {block}{unit})", dim))
        for step in gradient.as_bias:
            unit = "" if step.out.is_scalar else f"[{self.index(step.out.shape[0])}]"
            lines.append(Statement(f"{block}{unit} += R_d_{step.out.name}{unit}", loop))
        return lines

    def directional_penalty_kernel(self) -> list[str]:
        """`penalty_hessian_vector(params, _v)`: R{∂R/∂p} = Σ_q ∂²R/∂p∂q · v_q of the penalty,
        element-wise over each parameter's array (`Directional.penalty`)."""
        found = self.directional
        if found is None or not self.has_penalty:
            return []
        params, v = self.model.params, self.VECTOR
        names = {t.symbol: t.name for t in params + self.model.hypers}
        names.update({direction_symbol(p): f"_v_{p.name}" for p in params})
        arrays = {t.symbol for t in params if not t.is_scalar}
        arrays |= {direction_symbol(t) for t in params if not t.is_scalar}
        read = set().union(*(value.free_symbols for value in found.penalty.values()))
        body = [f"hv = np.zeros({self.flat_size()})"]
        body += [f"_v_{q.name} = {self.block_of(v, q)}" for q in params if direction_symbol(q) in read]
        for p in params:
            value = found.penalty[p.name]
            if value == 0:
                continue
            printed = ArrayPrinter(names).doprint(value)
            if value.free_symbols & arrays and not p.is_scalar:
                printed = f"({printed}).ravel()"
            body.append(f"{self.block_of('hv', p, shaped=False)} = {printed}")
        return [KERNEL_PLAIN.substitute(
            name="penalty_hessian_vector", args=", ".join([p.name for p in params] + [v] + self.hyper_args()),
            body=self._indent(body, 4), result="hv",
            doc="(∂²R/∂p∂q)·v over the flat parameters, element-wise in each array.")]

    def penalty_hessian_vector_kernel(self, curvature) -> list[str]:
        """(∂²R/∂p∂q)·v over the flat parameters: the diagonal `penalty_hessian` writes, times
        v's entries, and its block of b and the scalars times theirs; P numbers, no P × P."""
        if not self.has_penalty or curvature.kind not in ("affine", "softmax"):
            return []
        at, v = self.offsets(), self.VECTOR
        step = curvature.affine
        base = {t.symbol: t.name for t in self.model.params + self.model.hypers}
        body = [f"hv = np.zeros({self.flat_size()})"]
        diagonals = [(step.weight, curvature.penalty_diagonal)]
        if curvature.kind == "softmax":
            diagonals.append((step.bias, curvature.bias_diagonal))
        for p, diagonal in diagonals:
            if p is None or diagonal == 0:
                continue
            value = self.print(diagonal, {**base, p.symbol: f"_{p.name}_flat[j]"})
            body += ([f"_{p.name}_flat = {p.name}.ravel()"] if f"_{p.name}_flat" in value else [])
            body += [f"for j in range({p.name}.size):",
                     f"    hv[{at[p.name]} + j] = ({value}) * {v}[{at[p.name]} + j]"]
        if curvature.kind == "affine":
            loose = ([step.bias] if step.bias is not None else []) + curvature.scalars
            for s, row in zip(loose, curvature.penalty_entries):
                for t, entry in zip(loose, row):
                    if entry != 0:
                        body.append(f"hv[{at[s.name]}] += ({self.print(entry, base)}) * "
                                    f"{v}[{at[t.name]}]")
        args = [p.name for p in self.model.params] + [v] + self.hyper_args()
        return [KERNEL_PLAIN.substitute(
            name="penalty_hessian_vector", args=", ".join(args), body=self._indent(body, 4),
            result="hv", doc="(∂²R/∂p∂q)·v over the flat parameters (R's Hessian is diagonal "
                             "in w: a sum over its entries).")]

    def diagonal_penalty_hessian(self, curvature) -> list[str]:
        """∂²R over the flat (W, b) of a softmax regression: diagonal, each element's own."""
        at, body = self.offsets(), [f"hess = np.zeros({self.flat_shape()})"]
        step = curvature.affine
        for p, diagonal in ((step.weight, curvature.penalty_diagonal),
                            (step.bias, curvature.bias_diagonal)):
            if p is None or diagonal == 0:
                continue
            names = {**{t.symbol: t.name for t in self.model.params + self.model.hypers},
                     p.symbol: f"_{p.name}_flat[j]"}
            value = self.print(diagonal, names)
            body += ([f"_{p.name}_flat = {p.name}.ravel()"] if f"_{p.name}_flat" in value else [])
            body += [f"for j in range({p.name}.size):",
                     f"    hess[{at[p.name]} + j, {at[p.name]} + j] = {value}"]
        return [KERNEL_PLAIN.substitute(
            name="penalty_hessian", args=", ".join(self.param_args()),
            body=self._indent(body, 4), result="hess",
            doc="∂²R/∂p∂q over the flat parameters (R is a sum over the elements: diagonal).")]

    def closed_form_kernel(self, curvature) -> str:
        if curvature.kind == "linear":
            return self._normal_equation_kernel(curvature)
        form = self.derived.closed
        assert form is not None  # has_closed_form
        names = {t.symbol: f"{t.name}[i]" for t in self.model.tensors.values()
                 if t.role in ("data", "target")}
        names.update({s: statistic_name(s) for s in form.statistics})
        lines = []
        if self.model.features is not None:
            # only the sums the solution reads: Σy² is in J but not in its minimiser
            used = set().union(*(form.solution[p.symbol].free_symbols for p in self.model.params))
            sums = [s for s in form.statistics if statistic_name(s) != "m" and s in used]
            if sums or any(statistic_name(s) == "m" for s in used):
                lines.append(f"m = {self.model.features.name}.shape[0]")
            lines += [f"{statistic_name(s)} = 0.0" for s in sums]
            if sums:
                lines.append("for i in range(m):")
                lines += [f"    {statistic_name(s)} += {self.print(form.statistics[s], names)}"
                          for s in sums]
        for p in self.model.params:
            lines.append(f"{p.name} = {self.print(form.solution[p.symbol], names)}")
        return KERNEL_PLAIN.substitute(
            name="closed_form", args=self.entry_args(self.data_args(), params=False),
            body=self._indent(lines, 4),
            result=", ".join(p.name for p in self.model.params),
            doc="The minimiser from ∇J = 0, written with the data sums S (as 003 §3.1 (1)).")

    def _normal_equation_kernel(self, curvature) -> str:
        z = curvature.affine.out.symbol
        first_at_zero = sp.diff(self.derived.loss, z).subs(z, 0)
        names = self.names
        x, theta = curvature.affine.input.name, curvature.params[0].name
        lines = [f"m, n = {x}.shape", "hess = np.zeros((n, n))", "g = np.zeros(n)",
                 "for i in range(m):"] + [f"    {t}_i = {t}[i]" for t in self.input_args()]
        if self.model.label:
            lines.append(f"    {self.model.label.name}_i = {self.model.label.name}[i]")
        lines += [f"    _outer_add({self.print(curvature.second, names)}, {x}_i, hess)",
                  f"    _axpy({self.print(first_at_zero, names)}, {x}_i, g)",
                  f"{theta} = np.linalg.solve(hess, -g)"]
        return KERNEL_PLAIN.substitute(
            name="closed_form", args=self.entry_args(self.data_args(), params=False),
            body=self._indent(lines, 4),
            result=theta, doc="The stationary point: solve H·θ = −∇J(0), the normal equation (003 §3.2).")
