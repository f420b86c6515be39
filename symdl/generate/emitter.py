"""What every layout's emitter shares: statements, names, dimensions, printing.

An emitter turns one `Derived` model into the text of its kernels. The layouts differ in how
they walk the samples (rows.py: one fused pass per sample; block.py: each step over a block
of samples; blas.py: matrix products over a batch); they share this base and the small text
utilities below.

Long because what the layouts share is written once, here: names and printing, the per-sample
sums, the loops over chunks, the entry points with their calling convention (parameters, data,
the weights of the weighted kernels, hyperparameters by keyword) and the penalty kernels; a
layout module holds only how it walks the samples.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from symdl.derive import SAMPLE_WEIGHT, Derived, adjoint_symbol
from symdl.functions import REDUCTIONS, relu, stable_logs, total
from symdl.generate.directional import R_LSE, r_symbol
from symdl.generate.printer import ArrayPrinter, NumbaPrinter
from symdl.generate.templates import (KERNEL_CHUNKS, KERNEL_GRADIENT, KERNEL_HESSIAN_VECTOR,
                                      KERNEL_LOSS, KERNEL_LOSS_AND_GRADIENT, KERNEL_PLAIN,
                                      NJIT_PARALLEL)
from symdl.model import Let, Model


CHEAP_CALLS = (sp.Abs, sp.sign, sp.Heaviside, sp.floor, sp.ceiling, sp.Max, sp.Min, relu)
"""Calls cheaper to repeat than to keep in a variable."""


@dataclass
class Statement:
    """A line of kernel code, optionally inside a loop over a dimension."""

    code: str
    loop: str | None = None  # dimension name the statement runs over, or None
    alone: bool = False  # a sum over `loop`: its loop holds nothing else (what follows reads it)
    inner: str | None = None  # a second loop, inside `loop` (a matrix's row: C[k, j] over j)


class Emitter:
    """Shared by both layouts: names, dimensions and expression printing."""

    SUFFIX = ""  # appended to the name of every function a tier writes (the NumPy tier's "_numpy")
    COMPILED = True  # whether its functions over rows and over chunks are Numba's
    HOW = "in one pass"  # how its kernels walk the samples, for their docstrings

    def __init__(self, derived: Derived):
        self.computed: set = set()  # the shared calls the statements so far compute
        self.derived = derived
        self.model: Model = derived.model
        # the weighted kernels (Derived(model, weighted=True)): `loss_weighted(..., y,
        # sample_weight)`, J = Σ_i w_i ℓ⁽ⁱ⁾ (÷ Σ_i w_i for a mean), beside the plain ones
        self.weighted = derived.weighted
        self.suffix = ("_weighted" if self.weighted else "") + self.SUFFIX
        self.dims = self._dimension_sources()
        self.sum_names: dict = {}  # reduction -> the variable its value is summed into
        self.sum_arrays: dict = {}  # a sum's variable -> the dimension it holds one sum per

    def _dimension_sources(self) -> dict[str, str]:
        """Code for the size of each dimension, read off a parameter's shape."""
        sources: dict[str, str] = {}
        data = self.model.inputs + ([self.model.label] if self.model.label else [])
        for tensor in self.model.params + data:
            for axis, dim in enumerate(tensor.shape):
                if tensor.role in ("data", "target"):
                    axis += 1
                sources.setdefault(dim, f"{tensor.name}.shape[{axis}]")
        return sources

    def index(self, dim):
        return self.model.index(dim)

    def print(self, expr, names) -> str:
        return NumbaPrinter(names).doprint(stable_logs(expr))

    def spell_sum(self, name: str) -> str:
        """How a per-sample sum's variable is written (the block layout keeps one per row)."""
        return name

    # -- function values several statements of a sample read: computed once --
    @cached_property
    def shared_calls(self) -> dict:
        """σ, tanh, e^t, log, softplus... of per-sample numbers that the statements of a
        sample read more than once, each with the name it is computed into once (`_f0 =
        _tanh(0.1*x_i)`, in the block layout a per-row buffer `_f0[_r]`): forward, loss and
        backward read one value, and the inlined polynomial is compiled once, not at every
        place it is read. Each kernel's statements start with `forward`, which empties
        `computed`."""
        exprs = [s.expr for s in self.derived.steps if isinstance(s, Let)]
        exprs += [self.derived.named_loss] if self.model.loss_kind == "expression" else []
        exprs += [a.local for a in self.derived.adjoints] + [g.local for g in self.derived.gradients]
        counts: Counter = Counter()
        for expr in exprs:
            counts.update(node for node in sp.preorder_traversal(stable_logs(expr))
                          if self._shareable(node))
        shared = sorted((call for call, count in counts.items() if count > 1),
                        key=lambda call: (sp.count_ops(call), sp.default_sort_key(call)))
        return {call: sp.Symbol(f"_f{i}") for i, call in enumerate(shared)}

    def _shareable(self, node) -> bool:
        """A call worth computing once: not a reduction, not a sign or a step, and of per-sample
        numbers only (scalars), so one value per sample holds it."""
        if not isinstance(node, sp.Function) or isinstance(node, REDUCTIONS + CHEAP_CALLS):
            return False
        tensors = self.model.tensors
        return all(s.name in tensors and tensors[s.name].is_scalar for s in node.free_symbols)

    def reduced(self, expr, names) -> tuple[list[Statement], str]:
        """expr printed, after the shared calls it reads (where not computed yet) and its
        reductions (`reduce_sums`)."""
        expr = stable_logs(expr)
        names = {**names, **{s: self.spell_sum(s.name) for s in self.shared_calls.values()}}
        temps = self._computed_first(expr, names)
        statements, value = self.reduce_sums(expr.xreplace(self.shared_calls), names)
        return temps + statements, value

    def _computed_first(self, expr, names) -> list[Statement]:
        statements = []
        for call, symbol in self.shared_calls.items():  # the smallest first: inner calls first
            if symbol.name in self.computed or not expr.has(call):
                continue
            self.computed.add(symbol.name)
            inner = {c: s for c, s in self.shared_calls.items() if c != call}
            statements.append(Statement(f"{self.spell_sum(symbol.name)} = "
                                        f"{self.print(call.xreplace(inner), names)}"))
        return statements

    def reduce_sums(self, expr, names) -> tuple[list[Statement], str]:
        """expr printed, after the statements that compute each of its reductions once.

        Σ_k u_k becomes `_sumN = 0.0` and `_sumN += u[k]` in a loop of its own over k, innermost
        reductions first, so a sum inside an element-wise loop is not recomputed per element;
        log Σ_k e^{a_k} is computed with the maximum subtracted (finite for any finite a).
        A sum over a matrix's rows (Σ_j (x_j − C_kj)², one per k) fills an array over k,
        `_sumN[k]`, element by element (`sum_arrays` names it for the kernel to allocate).
        `expr` comes from `reduced`, its logs already stable.
        """
        names = dict(names)
        statements: list[Statement] = []
        while innermost_reductions(expr):
            for reduction in innermost_reductions(expr):
                name = self.sum_names.setdefault(reduction, f"_sum{len(self.sum_names)}")
                found, names[sp.Symbol(name)] = self.sum_statements(
                    reduction, name, self.print(reduction.args[0], names))
                statements += found
                expr = expr.xreplace({reduction: sp.Symbol(name)})
        return statements, self.print(expr, names)

    def sum_statements(self, reduction, name, summand) -> tuple[list[Statement], str]:
        """The statements that compute one reduction of `summand` into `name`, and how the
        statements after them read it."""
        spelled = self.spell_sum(name)
        if reduction.free is not None:  # Σ_j (x_j − C_kj)²: one sum per k, an array
            self.sum_arrays[name] = reduction.free
            spelled = f"{spelled}[{self.index(reduction.free)}]"
            return [Statement(f"{spelled} = 0.0", reduction.free),
                    Statement(f"{spelled} += {summand}", reduction.free, inner=reduction.dim)], spelled
        if isinstance(reduction, total):
            return [Statement(f"{spelled} = 0.0"),
                    Statement(f"{spelled} += {summand}", reduction.dim, alone=True)], spelled
        exps = self.spell_sum(name + "_exp")
        return [Statement(f"{spelled} = -np.inf"),
                Statement(f"{spelled} = max({spelled}, {summand})", reduction.dim, alone=True),
                Statement(f"{exps} = 0.0"),
                Statement(f"{exps} += _exp({summand} - {spelled})", reduction.dim, alone=True),
                Statement(f"{spelled} += _log({exps})")], spelled

    def param_args(self):
        """The names every compiled function of a kernel takes first: the parameters, then
        the hyperparameters (scalars, so one compiled version serves every value)."""
        return [p.name for p in self.model.params] + self.hyper_args()

    def hyper_args(self):
        return [h.name for h in self.model.hypers]

    def entry_args(self, data, params=True) -> str:
        """An entry point's parameters: the model's parameters (unless not `params`), `data`,
        then each hyperparameter as a keyword with its default (training.inputs, the calling
        convention)."""
        defaults = [f"{h.name}={self.model.hyper_defaults[h.name]!r}" for h in self.model.hypers]
        names = [p.name for p in self.model.params] if params else []
        return ", ".join(names + list(data) + defaults)

    def entry_call(self, data) -> str:
        """How one entry point passes its own arguments on to another."""
        return ", ".join([p.name for p in self.model.params] + list(data) + self.hyper_args())

    def input_args(self):
        """Every data tensor, in declaration order: what predict reads besides the parameters."""
        return [t.name for t in self.model.inputs]

    def data_args(self):
        """The data arguments of loss and gradient kernels: every data tensor, then the target
        (then, in the weighted kernels, the samples' weights)."""
        return (self.input_args() + ([self.model.label.name] if self.model.label else [])
                + (["sample_weight"] if self.weighted else []))

    @property
    def names(self) -> dict:
        """How each symbol is spelled in this layout's kernels."""
        raise NotImplementedError

    def loss_kernel(self) -> list[str]:
        """The loss kernel's parts, as this layout writes them."""
        raise NotImplementedError

    def loss_and_gradient_kernel(self) -> list[str]:
        """The fused kernel's parts, as this layout writes them."""
        raise NotImplementedError

    def weighted_loss(self, value: str) -> str:
        """One sample's loss as it enters J: times the sample's weight in the weighted kernels."""
        return f"{self.names[SAMPLE_WEIGHT]} * ({value})" if self.weighted else value

    def weighted_kernels(self) -> list[str]:
        """The kernels over weighted samples (an emitter of Derived(model, weighted=True))."""
        return [*self.loss_kernel(), *self.loss_and_gradient_kernel(), self.gradient_kernel(),
                *self.weighted_curvature()]

    def weighted_curvature(self) -> list[str]:
        """The weighted Hessian kernel where this layout writes one (none by default)."""
        return []

    def signature(self):
        """The parameters of an entry point over data and targets (loss, loss_and_gradient)."""
        return self.entry_args(self.data_args())

    # -- the flat parameter vector (SPEC order) that Hessians and Newton's method work on --
    def offsets(self) -> dict[str, str]:
        """Code for where each parameter starts in the flat vector (SPEC order)."""
        found: dict[str, str] = {}
        sizes: list[str] = []
        for p in self.model.params:
            found[p.name] = " + ".join(sizes) or "0"
            sizes.append(flat_size(p))
        return found

    def flat_size(self) -> str:
        """Code for the number of flat parameters, P."""
        return " + ".join(flat_size(p) for p in self.model.params)

    def flat_shape(self) -> str:
        size = self.flat_size()
        return f"({size}, {size})"

    # -- a penalty R(θ): two small kernels, added once to J and ∂J/∂p --
    @property
    def has_penalty(self) -> bool:
        return self.model.penalty_expr != 0

    def penalty_call(self) -> str:
        return f" + penalty({', '.join(self.param_args())})" if self.has_penalty else ""

    def penalty_gradient_term(self, position: int) -> str:
        if not self.has_penalty:
            return ""
        return f" + penalty_gradient({', '.join(self.param_args())})[{position}]"

    def penalty_kernels(self) -> list[str]:
        if not self.has_penalty:
            return []
        names = {p.symbol: p.name for p in self.model.params}
        args = ", ".join(self.param_args())
        gradients = []
        for p in self.model.params:
            value = ArrayPrinter(names).doprint(self.derived.penalty_gradients[p.name])
            if not p.is_scalar and p.symbol not in self.derived.penalty_gradients[p.name].free_symbols:
                value = f"np.zeros_like({p.name}) + {value}"
            gradients.append(value)
        return [
            KERNEL_PLAIN.substitute(
                name="penalty", args=args, body="",
                result=ArrayPrinter(names).doprint(self.model.penalty_expr),
                doc="R, the term of the cost that depends on the parameters only (added once to J)."),
            KERNEL_PLAIN.substitute(
                name="penalty_gradient", args=args, body="",
                result=", ".join(gradients) + ("," if len(gradients) == 1 else ""),
                doc="∂R/∂p for every parameter p, as arrays shaped like p."),
        ] + self.kink_weight_function()

    def kink_weight_function(self) -> list[str]:
        """`kink_weight(hyperparameters)`, for a penalty with kinks (derive.without_kinks):
        plain Python, which the trainer asks before Newton's method."""
        curvature = self.derived.curvature
        if curvature is None or curvature.kink == 0:
            return []
        weight = ArrayPrinter({h.symbol: h.name for h in self.model.hypers}).doprint(curvature.kink)
        return [f'def kink_weight({self.entry_args([], params=False)}):\n'
                f'    """The weight of the penalty\'s kinks (|w_j| at w_j = 0): where it is 0, J is twice\n'
                f'    differentiable and `hessian` is its Hessian; elsewhere `hessian` is J\'s curvature\n'
                f'    away from the kinks, and Newton\'s method does not apply."""\n'
                f'    return float({weight})\n']

    def chunks_functions(self, name, rows_function, args, returned=(), buffers=(),
                         tail=()) -> tuple[list[str], str]:
        """The loops over the chunks of rows, and the code that runs them (`$run`): a serial
        loop in Python (it calls the compiled function over rows once a chunk, and compiling it
        cost a model's first run about a second: docs/engineering.md, 'Where a cold start
        goes'), and for compiled kernels a `prange` one for data of several chunks (`_chunked`).
        Each chunk's numbers go into the `returned` parts (NAME_parts[_chunk]), the arrays it
        adds into go to its own `buffers` parts, `tail` arguments pass as they are."""
        call = (f"{rows_function}({', '.join(args)}, _bounds[_chunk], _bounds[_chunk + 1]"
                + "".join(f", {b}_parts[_chunk]" for b in buffers)
                + "".join(f", {a}" for a in tail) + ")")
        if returned:
            call = ", ".join(f"{r}_parts[_chunk]" for r in returned) + " = " + call
        parts = [f"{r}_parts" for r in returned] + [f"{b}_parts" for b in buffers] + list(tail)

        def loop(suffix, decorator, kind, how):
            return KERNEL_CHUNKS.substitute(
                decorator=decorator, name=name + suffix, args=", ".join(args),
                parts="".join(f", {part}" for part in parts), rows_function=rows_function,
                call=call, loop=kind, how=how)
        serial = loop("", "", "range", ", one after another" * self.COMPILED)
        if not self.COMPILED:
            return [serial], name
        return ([serial, loop("_in_parallel", NJIT_PARALLEL, "numba.prange", ", side by side")],
                f"_chunked(_bounds, {name}, {name}_in_parallel)")

    def chunk_function(self, name, args, arrays, setup, statements, result, doc) -> str:
        """A kernel's function over one chunk's rows: each layout walks the rows its own way."""
        raise NotImplementedError

    def loss_kernels(self, args, arrays, statements, setup=()) -> list[str]:
        """The loss kernel's parts: over one chunk's rows (`chunk_function`), over the chunks,
        and the Python entry point; `setup` lines come first in it."""
        rows = f"_loss_of_rows{self.suffix}"
        chunk = self.chunk_function(rows, args + ["_start", "_stop"], arrays, ["total = 0.0"],
                                    statements, "total", f"Σ of the loss over rows start..stop, {self.HOW}.")
        chunks, run = self.chunks_functions(f"_loss_of_chunks{self.suffix}", rows, args,
                                            returned=["loss"])
        kernel = KERNEL_LOSS.substitute(
            run=run, args=self.signature(), rows=self._rows(), scale=self.scale_line(),
            transposed=self._indent(list(setup), 4), loss=self.scaled("_total(loss_parts)"),
            chunk_args=", ".join(args), penalty=self.penalty_call(),
            doc=f"J, the {self.model.reduction} of the loss over the samples, {self.HOW}.")
        return [chunk, *chunks, self.entry_names(kernel)]

    def fused_kernels(self, args, buffers, arrays, statements, **entry) -> list[str]:
        """The fused kernel's parts: over one chunk's rows (`chunk_function`), over the chunks,
        and the Python entry point (`loss_and_gradient_entry`, which takes `entry`)."""
        scalars = [f"g_{p.name}" for p in self.model.params if p.is_scalar]
        rows = f"_loss_and_gradient_of_rows{self.suffix}"
        chunk = self.chunk_function(
            rows, args + ["_start", "_stop"] + buffers, arrays,
            ["total = 0.0"] + [f"{g} = 0.0" for g in scalars], statements,
            ", ".join(["total"] + scalars),
            f"Σ over rows start..stop of the loss and of its gradient, {self.HOW}: the scalars' "
            f"returned, the others' added into the buffers given.")
        chunks, run = self.chunks_functions(
            f"_loss_and_gradient_of_chunks{self.suffix}", rows, args,
            returned=["loss"] + scalars, buffers=buffers)
        doc = f"(J, ∂J/∂p for every parameter p): forward and backward fused, {self.HOW}."
        return [chunk, *chunks,
                self.entry_names(self.loss_and_gradient_entry(args, buffers, run, doc, **entry))]

    def entry_names(self, kernel: str) -> str:
        """An entry point's text as this tier names it (the NumPy tier and the weighted
        kernels rename it)."""
        return renamed_entries(kernel, "_weighted") if self.weighted else kernel

    def loss_and_gradient_entry(self, chunk_args: list[str], buffers: list[str], run: str,
                                doc: str, transposed: frozenset = frozenset(), setup=()) -> str:
        """The Python half of the fused kernel: per-chunk parts for the loss, each scalar
        parameter's gradient and each array's gradient buffer (`buffers`, in the parameters'
        order; those in `transposed` held as (inputs, units), made by the `setup` lines), all
        added in chunk order."""
        params = self.model.params
        arrays = iter(buffers)
        allocate, results = [], []
        if self.has_penalty:  # ∂R/∂p once, not once per parameter
            allocate.append(f"_penalty_gradient = penalty_gradient({', '.join(self.param_args())})")

        def penalty_term(k):
            return f" + _penalty_gradient[{k}]" if self.has_penalty else ""
        for k, p in enumerate(params):
            if p.is_scalar:
                allocate.append(f"g_{p.name}_parts = np.zeros(len(_bounds) - 1)")
                results.append(self.scaled(f"_total(g_{p.name}_parts)") + penalty_term(k))
                continue
            buffer = next(arrays)
            shape = f"_{p.name}_t.shape" if p.name in transposed else f"{p.name}.shape"
            allocate.append(f"{buffer}_parts = np.zeros((len(_bounds) - 1,) + {shape})")
            combined = f"_combine({buffer}_parts)"
            if p.name in transposed:
                combined = f"_transposed({combined})"
            results.append(self.scaled(combined) + penalty_term(k))
        parts = [f"g_{p.name}_parts" for p in params if p.is_scalar] + [f"{b}_parts" for b in buffers]
        return KERNEL_LOSS_AND_GRADIENT.substitute(
            args=self.signature(), rows=self._rows(), scale=self.scale_line(),
            transposed=self._indent(list(setup), 4),
            loss=self.scaled("_total(loss_parts)"), allocate=self._indent(allocate, 4),
            chunk_args=", ".join(chunk_args), parts="".join(f", {part}" for part in parts), run=run,
            results=", ".join(results), penalty=self.penalty_call(), doc=doc)

    def gradient_kernel(self) -> str:
        return self.entry_names(KERNEL_GRADIENT.substitute(
            args=self.signature(), call=self.entry_call(self.data_args())))

    def _dtype(self):
        return f"{self.model.features.name}.dtype" if self.model.features else "np.float64"

    def _rows(self):
        return f"{self.model.features.name}.shape[0]"

    @property
    def scales(self) -> bool:
        """Whether J and ∂J/∂p are multiplied by 1/m (a mean); a sum is left as it is."""
        return self.model.reduction == "mean"

    def scale_line(self, width=4) -> str:
        """`scale = 1.0 / m` for a mean (1/Σ w_i over weighted samples, so that integer weights
        mean repeated rows), nothing for a sum (whose kernels never read a scale)."""
        if not self.scales:
            return ""
        return " " * width + ("scale = 1.0 / np.sum(sample_weight)" if self.weighted
                              else "scale = 1.0 / m")

    def scaled(self, value: str) -> str:
        """value · scale, or value itself when there is no scale."""
        return f"{value} * scale" if self.scales else value

    def directional_names_with(self, element) -> dict:
        """`names` and the R-pass's (generate.directional): R_t and R_d_t for an intermediate
        t and its adjoint, v's block _v_p for a parameter p, each followed by `element(t)`,
        how this layout indexes one element of t (`[k]`, `[_r, k]` or nothing)."""
        names = dict(self.names)
        for tensor in self.model.tensors.values():
            unit = element(tensor)
            if tensor.role == "param":
                names[r_symbol(tensor.symbol)] = f"_v_{tensor.name}{unit}"
            elif tensor.role == "intermediate":
                names[r_symbol(tensor.symbol)] = f"R_{tensor.name}{unit}"
                names[r_symbol(adjoint_symbol(tensor))] = f"R_d_{tensor.name}{unit}"
        names[R_LSE] = "R_lse"
        return names

    # -- H·v's flat vector v, a parameter's block of it, and the entry point --
    VECTOR = "_v"
    """The name of the vector the product kernels take, after the parameters."""

    def block_of(self, flat: str, param, shaped=True) -> str:
        """Code for a parameter's block of the flat vector `flat`: an element for a number,
        a slice for a vector, and for a matrix (when `shaped`) a slice reshaped like it."""
        start = self.offsets()[param.name]
        if param.is_scalar:
            return f"{flat}[{start}]"
        stop = f"{param.name}.size" if start == "0" else f"{start} + {param.name}.size"
        reshape = f".reshape({param.name}.shape)" if shaped and len(param.shape) > 1 else ""
        return f"{flat}[{start}:{stop}]{reshape}"

    def hessian_vector_entry(self, lines: list[Statement], arrays: list[str], args=None,
                             transposed=(), setup=()) -> list[str]:
        """The kernel `hessian_vector` around one sample's statements `lines` that add its
        (∂²ℓ/∂p∂q)·v into hv: over the chunks of rows, then the entry point. `args`: what
        the function over rows takes (by default the parameters, v, the data and the
        hyperparameters); `transposed`: lines of the entry point that make some of them;
        `setup`: lines that function runs before its rows."""
        v = self.VECTOR
        if args is None:
            args = [p.name for p in self.model.params] + [v] + self.data_args() + self.hyper_args()
        rows = f"_hessian_vector_of_rows{self.suffix}"
        chunk = self.chunk_function(
            rows, args + ["_start", "_stop", "hv"], arrays, list(setup), lines,
            "hv", "Σ over rows start..stop of (∂²ℓ/∂p∂q)·v, added into hv.")
        chunks, run = self.chunks_functions(f"_hessian_vector_of_chunks{self.suffix}", rows,
                                            args, buffers=["_hv"])
        penalty_args = [p.name for p in self.model.params] + [v] + self.hyper_args()
        penalty = (f" + penalty_hessian_vector({', '.join(penalty_args)})"
                   if self.has_penalty else "")
        kernel = KERNEL_HESSIAN_VECTOR.substitute(
            run=run, args=self.entry_args([v] + self.data_args()), chunk_args=", ".join(args),
            rows=self._rows(), scale=self.scale_line(), size=self.flat_size(),
            transposed=self._indent(list(transposed), 4),
            result=self.scaled("_combine(_hv_parts)") + penalty,
            doc="H·v, H = ∂²J/∂p∂q over the flat parameters, without forming H.")
        return [chunk, *chunks, self.entry_names(kernel)]

    @staticmethod
    def _indent(lines, width):
        return "\n".join(" " * width + line for line in lines)


RESULTS = ("total", "out", "hess", "hv")  # besides the gradient accumulators g_…: what a kernel returns


def assigned(statement: Statement) -> str | None:
    """What a statement assigns (x = …, x += …, x[k] = …): a name, or None for a call."""
    match = re.match(r"([A-Za-z_]\w*)(\[[^\]]*\])?\s*\+?=(?!=)", statement.code)
    return match.group(1) if match else None


def is_result(name: str) -> bool:
    """Whether a kernel returns what is written into `name`: the loss, a gradient, the output,
    a parameter's block of H·v (`_hv_p`, a view into hv)."""
    return name in RESULTS or name.startswith(("g_", "_g_", "_hv_"))


def prune(statements: list[Statement], written=assigned) -> list[Statement]:
    """The statements a kernel needs: those that feed its results, directly or not.

    Walking backwards, a statement is kept when it writes a result (`is_result`), when it
    writes a variable or buffer that a statement kept after it reads, or when `written` says
    it writes nothing (a call into a gradient accumulator). So a loss kernel computes no
    h = σ(z) it never uses, and no buffer is filled that nothing reads.
    """
    kept, reads = [], set()
    for statement in reversed(statements):
        target = written(statement)
        if target is None or is_result(target) or target in reads:
            kept.append(statement)
            reads |= set(re.findall(r"[A-Za-z_]\w*", statement.code))
    return kept[::-1]


def referenced(lines: list[str], code: list[str]) -> list[str]:
    """The allocations `name = …` among `lines` whose name the kernel's `code` mentions."""
    text = "\n".join(code)
    return [line for line in lines if re.search(rf"\b{line.split(' = ')[0]}\b", text)]


def renamed_entries(kernel: str, suffix: str) -> str:
    """A kernel's text with its entry points (loss, loss_and_gradient, gradient, hessian,
    hessian_vector), where defined and where called, named with `suffix`."""
    return re.sub(r"\b(loss_and_gradient|loss|gradient|hessian_vector|hessian)\(", rf"\1{suffix}(",
                  kernel)


def innermost_reductions(expr) -> list:
    """The sums (and log-sum-exps) of expr with no sum inside them, in a fixed order."""
    return sorted((r for r in expr.atoms(*REDUCTIONS) if not r.args[0].has(*REDUCTIONS)),
                  key=sp.default_sort_key)


def statistic_name(symbol: sp.Symbol) -> str:
    """S_{xy} -> S_xy, a valid Python name."""
    return symbol.name.replace("{", "").replace("}", "")


def flat_size(param) -> str:
    """Code for how many entries a parameter has in the flat vector (a scalar is a float)."""
    return "1" if param.is_scalar else f"{param.name}.size"
