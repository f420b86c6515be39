"""The block layout: kernels that vectorise across samples.

The long axis of these models is the sample axis, so the kernels take BLOCK samples at a
time and run each step of the derivation over the whole block before the next:

* an affine map is a small helper over the block's rows: θᵀx row by row (SIMD over the
  inputs), or, for a vector output, column-wise with the weights held as (inputs, units),
  so x₀·w₀[k] + x₁·w₁[k] + b[k] runs over a contiguous k (SIMD over the units);
* element-wise steps (activations, the loss, their derivatives) are one loop over the
  block's samples (and units), which LLVM vectorises: the transcendentals are polynomials;
* weight gradients accumulate per block into per-chunk buffers, with weights of vector
  affine maps accumulated as (inputs, units) too, and are combined once after the loop.

A kernel splits the rows into a fixed number of chunks, decided by m alone (so the sums are
added in an order that does not depend on the thread count), each chunk a call of a serial,
compiled helper, from a serial loop over the chunks or, for data of several chunks, a
`prange` loop (`_chunked`). Every loop sits in a helper (docs/engineering.md,
'Vectorisation', 'Blocks of rows', 'Threads and prange').

Long because a network's exact Hessian-vector product (generate.directional's R-pass) is
written here too, block by block, beside the gradient whose statements it differentiates.
"""

from __future__ import annotations

import re
from functools import cached_property

from sympy.core.symbol import Str

from symdl.derive import LSE, ONEHOT, SAMPLE_WEIGHT, adjoint_symbol
from symdl.errors import DerivationError
from symdl.functions import REDUCTIONS, logsumexp_total
from symdl.generate.directional import r_symbol
from symdl.generate.emitter import Emitter, Statement, assigned, prune, referenced
from symdl.generate.rows import RowsEmitter
from symdl.generate.templates import KERNEL_BLOCK_CHUNK, KERNEL_PREDICT
from symdl.model import Affine, Let, Model


def unsupported(model: Model) -> str:
    """Why the block layout cannot express `model` ("" when it can)."""
    if model.features is None:
        return "it has no data to split into blocks"
    if model.loss_kind not in ("expression", "softmax_cross_entropy"):
        return "its loss is not an element-wise expression"
    exprs = [e for e in [model.loss_expr] if e is not None]
    exprs += [s.expr for s in model.steps_of_model if isinstance(s, Let)]
    for reduction in (r for e in exprs for r in e.atoms(*REDUCTIONS)):
        if reduction.free is not None:
            return f"{reduction} sums over the rows of a matrix, one sum per {reduction.free}"
    for step in model.steps_of_model:
        if isinstance(step, Affine):
            if step.input.role == "data" and len(step.input.shape) != 1:
                return f"{step.input.name} is not a vector"
            if len(step.out.shape) > 1:
                return f"{step.out.name} is not a scalar or a vector"
        elif isinstance(step, Let):
            if len(step.out.shape) > 1:
                return f"{step.out.name} is not a scalar or a vector"
            for symbol in step.expr.free_symbols:
                tensor = model.tensors[symbol.name]
                if tensor.role == "param" and len(tensor.shape) > 1:
                    return f"{step.out.name} uses the matrix {tensor.name} element-wise"
    return ""


class BlockEmitter(Emitter):
    """Kernels over blocks of samples: per-step loops across the block, per-chunk sums."""

    HOW = "block by block"

    def __init__(self, derived):
        super().__init__(derived)
        reason = unsupported(self.model)
        if reason:
            raise DerivationError(f"{self.model.name}: the block layout cannot express this "
                                  f"model: {reason}; use layout='rows'")

    # -- names inside the block loops: r runs over the block's samples --
    @cached_property
    def names(self) -> dict:
        names = {}
        for tensor in self.model.tensors.values():
            unit = "" if tensor.is_scalar else f", {self.index(tensor.shape[0])}"
            if tensor.role in ("data", "target"):
                names[tensor.symbol] = f"_{tensor.name}[_r{unit}]"
            elif tensor.role in ("param", "hyper"):
                names[tensor.symbol] = (tensor.name if tensor.is_scalar
                                        else f"{tensor.name}[{self.index(tensor.shape[0])}]")
            else:
                names[tensor.symbol] = f"{tensor.name}[_r{unit}]"
            names[adjoint_symbol(tensor)] = f"d_{tensor.name}[_r{unit}]"
        names[SAMPLE_WEIGHT] = "_sample_weight[_r]"
        if self.model.loss_kind == "softmax_cross_entropy":
            c = self.index(self.model.loss_input.shape[0])
            names[LSE] = "lse[_r]"
            names[ONEHOT] = f"(1.0 if {c} == _{self.model.label.name}[_r] else 0.0)"
        return names

    def spell_sum(self, name: str) -> str:
        return f"{name}[_r]"  # one sum per row of the block

    def _rows_of(self, tensor) -> str:
        """The block's rows of a vector tensor, as the helpers take them."""
        return f"_{tensor.name}" if tensor.role == "data" else tensor.name

    def _weight(self, step: Affine) -> str:
        """A vector map's weights as (inputs, units), transposed once per kernel call."""
        return f"_{step.weight.name}_t"

    # -- the steps over one block --
    def forward(self) -> list[Statement]:
        self.computed = set()  # a kernel's statements start here: no shared call computed yet
        lines = []
        for step in self.derived.steps:
            if isinstance(step, Affine):
                lines.extend(self.forward_affine(step))
            else:
                unit = None if step.out.is_scalar else step.out.shape[0]
                sums, value = self.reduced(step.expr, self.names)
                lines += sums + [Statement(f"{self.names[step.out.symbol]} = {value}", unit)]
        return lines

    def forward_affine(self, step: Affine) -> list[Statement]:
        x = self._rows_of(step.input)
        if step.out.is_scalar:
            lines = [Statement(f"_rows_dot({x}, {step.weight.name}, {step.out.name}, _size)", "call")]
            if step.bias is not None:
                lines.append(Statement(f"{step.out.name}[_r] += {step.bias.name}"))
            return lines
        bias = step.bias.name if step.bias is not None else "None"
        return [Statement(f"_rows_affine({x}, {self._weight(step)}, {bias}, {step.out.name}, _size)",
                          "call")]

    def loss_statements(self) -> list[Statement]:
        if self.model.loss_kind == "softmax_cross_entropy":
            z = self.model.loss_input
            sums, lse = self.reduced(logsumexp_total(z.symbol, Str(z.shape[0])), self.names)
            picked = f"lse[_r] - {z.name}[_r, _{self.model.label.name}[_r]]"
            return sums + [Statement(f"lse[_r] = {lse}"),
                           Statement(f"total += {self.weighted_loss(picked)}")]
        sums, value = self.reduced(self.derived.named_loss, self.names)
        return sums + [Statement(f"total += {self.weighted_loss(value)}")]

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
            unit = None if tensor.is_scalar else tensor.shape[0]
            target = self.names[adjoint_symbol(tensor)]
            sums, local = self.reduced(adjoint.local, self.names)
            lines += sums
            terms = [] if adjoint.local == 0 else [local]
            products = []
            for step in adjoint.through:
                if step.out.is_scalar:
                    terms.append(f"{step.weight.name}[{self.index(tensor.shape[0])}]*d_{step.out.name}[_r]")
                else:
                    products.append(Statement(
                        f"_rows_transpose_add(d_{step.out.name}, {step.weight.name}, d_{tensor.name}, _size)",
                        "call"))
            lines.append(Statement(f"{target} = {' + '.join(terms) or '0.0'}", unit))
            lines.extend(products)
        return lines

    def accumulate(self, gradient) -> list[Statement]:
        param = gradient.param
        lines = []
        if gradient.local != 0:
            unit = None if param.is_scalar else param.shape[0]
            target = f"g_{param.name}" if param.is_scalar else f"g_{param.name}[{self.index(param.shape[0])}]"
            sums, local = self.reduced(gradient.local, self.names)
            lines += sums + [Statement(f"{target} += {local}", unit)]
        for step in gradient.as_weight:
            x = self._rows_of(step.input)
            if step.out.is_scalar:
                lines.append(Statement(f"_rows_scaled_add({x}, d_{step.out.name}, g_{param.name}, _size)", "call"))
            else:
                lines.append(Statement(
                    f"_rows_outer_add({x}, d_{step.out.name}, _g_{param.name}_t, _size)", "call"))
        lines += [self.bias_added(f"d_{step.out.name}", step, f"g_{param.name}") for step in gradient.as_bias]
        return lines

    @staticmethod
    def bias_added(adjoint: str, step: Affine, target: str) -> Statement:
        """target += Σ_r of the block's rows of `adjoint` (δ of the map's output, or its R):
        a bias's gradient, row by row for a number, by `_rows_add` for a vector."""
        if step.out.is_scalar:
            return Statement(f"{target} += {adjoint}[_r]")
        return Statement(f"_rows_add({adjoint}, {target}, _size)", "call")

    def loops(self, statements: list[Statement], indent: int) -> list[str]:
        """Consecutive statements of one kind in one loop over the block's samples _r.

        "call" statements are block-level helper calls; the others run per sample (loop None)
        or per sample and unit (loop = the unit's dimension).
        """
        out: list[str] = []
        pad = " " * indent
        groups: list[tuple[str | None, list[str], bool]] = []
        for statement in statements:
            if (groups and groups[-1][0] == statement.loop and statement.loop != "call"
                    and not statement.alone and not groups[-1][2]):
                groups[-1][1].append(statement.code)
            else:
                groups.append((statement.loop, [statement.code], statement.alone))
        for loop, codes, _ in groups:
            if loop == "call":
                out.extend(pad + code for code in codes)
                continue
            out.append(f"{pad}for _r in range(_size):")
            if loop is None:
                out.extend(f"{pad}    {code}" for code in codes)
            else:
                out.append(f"{pad}    for {self.index(loop)} in range({self.dims[loop]}):")
                out.extend(f"{pad}        {code}" for code in codes)
        return out

    # -- what a chunk function takes and keeps --
    def vector_affines(self) -> list[Affine]:
        return [s for s in self.derived.steps if isinstance(s, Affine) and not s.out.is_scalar]

    def transposed(self) -> list[str]:
        """Weights of vector affine maps, passed to the helpers as (inputs, units) too."""
        return list(dict.fromkeys(s.weight.name for s in self.vector_affines()))

    def block_arrays(self, with_adjoints: bool) -> list[str]:
        """The block's buffers: BLOCK rows of every intermediate (and adjoint)."""
        tensors = [(s.out.name, s.out) for s in self.derived.steps]
        if with_adjoints:
            tensors += [(f"d_{a.tensor.name}", a.tensor) for a in self.derived.adjoints]
        dtype = self._dtype()
        lse = (["lse = np.empty(BLOCK, np.float64)"]
               if self.model.loss_kind == "softmax_cross_entropy" else [])
        return lse + [f"{name} = np.empty({'BLOCK' if t.is_scalar else f'(BLOCK, {self.dims[t.shape[0]]})'}, {dtype})"
                      for name, t in tensors]

    def block_slices(self, with_label=True) -> list[str]:
        sliced = self.data_args() if with_label else self.input_args()
        return [f"_{name} = {name}[_begin:_begin + _size]" for name in sliced]

    def transposed_weights(self) -> list[str]:
        return [f"_{name}_t = _transposed({name})" for name in self.transposed()]

    def chunk_args(self, with_label=True) -> list[str]:
        data = self.data_args() if with_label else self.input_args()
        return self.param_args() + [f"_{name}_t" for name in self.transposed()] + data

    # -- whole kernels --
    def kernels(self) -> list[str]:
        return (self.penalty_kernels() + [*self.loss_kernel(), *self.loss_and_gradient_kernel(),
                                          self.gradient_kernel(), *self.predict_kernel()]
                + self.curvature_kernels())

    def weighted_curvature(self) -> list[str]:
        found = self.rows.directional
        if found is None or found.reads_lse:
            return self.rows.weighted_curvature()
        return self.directional_kernel()

    # -- H·v of a model whose Hessian has no closed form: the R-pass, block by block --
    @cached_property
    def rows(self) -> RowsEmitter:
        """The rows layout of the same model: the Hessians of the curvature kinds, the
        penalty's part of H·v and, for a softmax, the whole R-pass are written there."""
        return RowsEmitter(self.derived)

    def curvature_kernels(self) -> list[str]:
        found = self.rows.directional
        if found is None or found.reads_lse:
            return self.rows.curvature_kernels()
        return self.rows.directional_penalty_kernel() + self.directional_kernel()

    @cached_property
    def directional_names(self) -> dict:
        """R_t[_r, k] and R_d_t[_r, k], one row per sample of the block, and v's block _v_p[k]."""
        def element(t):
            unit = "" if t.is_scalar else self.index(t.shape[0])
            if t.role == "param":
                return f"[{unit}]" if unit else ""
            return f"[_r, {unit}]" if unit else "[_r]"
        return self.directional_names_with(element)

    def directional_kernel(self) -> list[str]:
        """`hessian_vector` by the R-pass (`RowsEmitter.directional_kernel`) over blocks of
        rows: the affine maps' R through the block helpers, R{W}·x with v's block of W
        transposed once per call like W."""
        found = self.rows.directional
        names = self.directional_names
        lines = self.forward() + self.adjoint_statements()
        for step, value in found.forward:
            if isinstance(step, Affine):
                lines += self.directional_affine(step)
            else:
                unit = None if step.out.is_scalar else step.out.shape[0]
                sums, printed = self.reduced(value, names)
                lines += sums + [Statement(f"{names[r_symbol(step.out.symbol)]} = {printed}", unit)]
        lines += self.directional_backward(found, names)
        for gradient, value in found.gradients:
            lines += self.directional_accumulate(gradient, value, names)
        v = self.VECTOR
        directions = [f"_v_{name}_t" for name in self.transposed()]
        args = ([p.name for p in self.model.params] + [v] + self.hyper_args()
                + [f"_{name}_t" for name in self.transposed()] + directions + self.data_args())
        made = self.transposed_weights() + [
            f"_v_{p.name}_t = _transposed({self.block_of(v, p)})"
            for p in self.model.params if f"_v_{p.name}_t" in directions]
        return self.hessian_vector_entry(lines, self.directional_arrays(), args, made)

    def directional_arrays(self) -> list[str]:
        arrays = self.block_arrays(True)
        arrays += [f"R_{line}" for line in arrays if not line.startswith("lse")]
        for p in self.model.params:
            arrays.append(f"_v_{p.name} = {self.block_of(self.VECTOR, p)}")
            if not p.is_scalar:
                arrays.append(f"_hv_{p.name} = {self.block_of('hv', p)}")
        return arrays

    def directional_affine(self, step: Affine) -> list[Statement]:
        """R{W·x + b} = R{W}·x + W·R{x} + R{b} over the block, R{x} = 0 for data."""
        x, out = self._rows_of(step.input), step.out.name
        if step.out.is_scalar:
            lines = [Statement(f"_rows_dot({x}, _v_{step.weight.name}, R_{out}, _size)", "call")]
            if step.bias is not None:
                lines.append(Statement(f"R_{out}[_r] += _v_{step.bias.name}"))
            if step.input.role != "data":
                k = self.index(step.input.shape[0])
                lines.append(Statement(f"R_{out}[_r] += {step.weight.name}[{k}]*R_{step.input.name}[_r, {k}]",
                                       step.input.shape[0], alone=True))
            return lines
        bias = f"_v_{step.bias.name}" if step.bias is not None else "None"
        lines = [Statement(f"_rows_affine({x}, _v_{step.weight.name}_t, {bias}, R_{out}, _size)", "call")]
        if step.input.role != "data":
            lines.append(Statement(f"_rows_transpose_add(R_{step.input.name}, _{step.weight.name}_t, "
                                   f"R_{out}, _size)", "call"))
        return lines

    def directional_backward(self, found, names) -> list[Statement]:
        """R of every adjoint, latest first: R{Wᵀ·δout} = R{W}ᵀ·δout + Wᵀ·R{δout}."""
        lines = []
        for adjoint, value in found.adjoints:
            tensor = adjoint.tensor
            sums, local = self.reduced(value, names)
            terms, products = ([] if value == 0 else [local]), []
            for step in adjoint.through:
                w, out = step.weight.name, step.out.name
                if step.out.is_scalar:
                    k = self.index(tensor.shape[0])
                    terms += [f"_v_{w}[{k}]*d_{out}[_r]", f"{w}[{k}]*R_d_{out}[_r]"]
                else:
                    products += [Statement(f"_rows_transpose_add(d_{out}, _v_{w}, R_d_{tensor.name}, _size)", "call"),
                                 Statement(f"_rows_transpose_add(R_d_{out}, {w}, R_d_{tensor.name}, _size)", "call")]
            unit = None if tensor.is_scalar else tensor.shape[0]
            target = names[r_symbol(adjoint_symbol(tensor))]
            lines += sums + [Statement(f"{target} = {' + '.join(terms) or '0.0'}", unit)] + products
        return lines

    def directional_accumulate(self, gradient, value, names) -> list[Statement]:
        """R{∂ℓ/∂p} over the block, added into p's block of hv (`RowsEmitter.directional_accumulate`)."""
        param = gradient.param
        block = self.block_of("hv", param) if param.is_scalar else f"_hv_{param.name}"
        lines = []
        if value != 0:
            unit = None if param.is_scalar else param.shape[0]
            element = "" if param.is_scalar else f"[{self.index(param.shape[0])}]"
            sums, local = self.reduced(value, names)
            lines += sums + [Statement(f"{block}{element} += {local}", unit)]
        for step in gradient.as_weight:
            x, out = self._rows_of(step.input), step.out.name
            helper = "_rows_scaled_add" if step.out.is_scalar else "_rows_outer_add_units"
            lines.append(Statement(f"{helper}({x}, R_d_{out}, {block}, _size)", "call"))
            if step.input.role != "data":
                lines.append(Statement(f"{helper}(R_{step.input.name}, d_{out}, {block}, _size)", "call"))
        lines += [self.bias_added(f"R_d_{step.out.name}", step, block) for step in gradient.as_bias]
        return lines

    def chunk_function(self, name, args, arrays, setup, statements, result, doc,
                       with_label=True) -> str:
        statements = prune(statements, written)
        sums = sorted(set(re.findall(r"\b_(?:sum\d+(?:_exp)?|f\d+)\b", " ".join(s.code for s in statements))))
        arrays = arrays + [f"{sum_name} = np.empty(BLOCK, {self._dtype()})" for sum_name in sums]
        body = self.loops(statements, 8)
        return KERNEL_BLOCK_CHUNK.substitute(
            name=name, args=", ".join(args), doc=doc,
            arrays=self._indent(referenced(arrays, body), 4), setup=self._indent(setup, 4),
            slices=self._indent(self.block_slices(with_label), 8), body="\n".join(body),
            result=result)

    def loss_kernel(self) -> list[str]:
        return self.loss_kernels(self.chunk_args(), self.block_arrays(False),
                                 self.forward() + self.loss_statements(),
                                 setup=self.transposed_weights())

    def loss_and_gradient_kernel(self) -> list[str]:
        transposed = frozenset(self.transposed())
        buffers = [f"_g_{p.name}_t" if p.name in transposed else f"g_{p.name}"
                   for p in self.model.params if not p.is_scalar]
        return self.fused_kernels(
            self.chunk_args(), buffers, self.block_arrays(True),
            self.forward() + self.loss_statements() + self.backward(),
            transposed=transposed, setup=self.transposed_weights())

    def predict_kernel(self) -> list[str]:
        out = self.model.output_tensor
        if out is None:
            return []
        label = self.model.label
        statements = [s for s in self.forward() if label is None or f"_{label.name}[" not in s.code]
        if out.is_scalar:
            allocate, store = "np.empty(m)", Statement(f"out[_begin + _r] = {out.name}[_r]")
        else:
            k = self.index(out.shape[0])
            allocate = f"np.empty((m, {self.dims[out.shape[0]]}))"
            store = Statement(f"out[_begin + _r, {k}] = {out.name}[_r, {k}]", out.shape[0])
        args = self.chunk_args(with_label=False)
        chunk = self.chunk_function(
            "_predict_rows", args + ["_start", "_stop", "out"], self.block_arrays(False), [],
            statements + [store], "out", f"{out.name} for rows start..stop, into out.",
            with_label=False)
        chunks, run = self.chunks_functions("_predict_of_chunks", "_predict_rows", args, tail=["out"])
        kernel = KERNEL_PREDICT.substitute(
            run=run, args=self.entry_args(self.input_args()), rows=self._rows(),
            allocate=allocate, transposed=self._indent(self.transposed_weights(), 4),
            chunk_args=", ".join(args),
            doc=f"The model's output {out.name} for every sample, block by block.")
        return [chunk, *chunks, kernel]


def written(statement: Statement) -> str | None:
    """The buffer a statement writes: a helper call's output argument, or what it assigns."""
    if statement.loop == "call":
        return re.split(r"[(),]\s*", statement.code)[-3].strip()
    return assigned(statement)
