"""The blas layout: batch kernels for wide layers.

The batch is the unit of work: z = X·Wᵀ + b is one BLAS call, each element-wise step a loop
over rows and units (a sum inside it, such as ‖a‖² of u = a/‖a‖ or a softmax's denominator,
is computed once per row before the loop over units that reads it), and the backward pass
the transposed products of backprop. There is no
`prange`, so Numba's threads never compete with BLAS's (docs/engineering.md, 'Threading
layer and BLAS').

When the data feeds an affine map (z = W·x + b, as a network's first layer does), a second
fused kernel, `loss_and_gradient_sparse`, takes x by its non-zero entries (CSR rows) and W
transposed, so that layer's two products visit only the non-zero inputs: z_i = b + Σ x_ij·Wᵀ_j
over the j where x_ij ≠ 0, and ∂J/∂Wᵀ_j += x_ij·∂J/∂z_i likewise. 81% of the MNIST pixels
are 0; the trainer chooses this kernel from the data's density (`sparse_pays`). The same
first layer over sparse x the user gives (SciPy CSR) is in the kernels over CSR rows
(csr.py, `CsrBlasEmitter`): there W is passed as it is and transposed once per call.
"""

from __future__ import annotations

from functools import cached_property

from symdl.derive import LSE, ONEHOT, SAMPLE_WEIGHT, adjoint_symbol, simplify_gradient
from symdl.errors import DerivationError
from symdl.generate.emitter import Emitter, Statement
from symdl.generate.templates import KERNEL_BLAS
from symdl.model import Affine


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
            if tensor.role in ("param", "hyper"):
                index = ", ".join(self.index(d) for d in tensor.shape)
                names[tensor.symbol] = tensor.name if tensor.is_scalar else f"{tensor.name}[{index}]"
            elif tensor.role == "target":
                names[tensor.symbol] = f"{tensor.name}[i]"
            else:
                index = "".join(f", {self.index(d)}" for d in tensor.shape)
                names[tensor.symbol] = f"{tensor.name}[i{index}]"
                names[adjoint_symbol(tensor)] = f"d_{tensor.name}[i{index}]"
        names[LSE] = "lse_rows[i]"
        names[SAMPLE_WEIGHT] = "sample_weight[i]"
        if self.model.loss_kind == "softmax_cross_entropy":
            c = self.index(self.model.loss_input.shape[0])
            names[ONEHOT] = f"(1.0 if {c} == {self.model.label.name}[i] else 0.0)"
        return names

    def sparse_step(self) -> Affine | None:
        """The affine map the data feeds, when its weight is used nowhere else (else None).

        A model with several data tensors gets no sparse kernel: the trainer gathers its
        mini-batches densely. A penalty R(θ) is added once per call, outside the rows, with
        its gradient transposed for the weight held transposed (`sparse_kernel`).
        """
        features = self.model.features
        if len(self.model.inputs) > 1:
            return None
        for g in self.derived.gradients:
            for step in g.as_weight:
                if (step.input is features and len(g.as_weight) == 1 and not g.as_bias
                        and len(step.weight.shape) == 2):
                    return step
        return None

    def batch_forward(self, sparse: Affine | None = None) -> list[str]:
        lines, names = [], self.names
        for step in self.derived.steps:
            if step.out.is_scalar:
                raise DerivationError(f"{self.model.name}: the blas layout needs vector intermediates")
            out, k = step.out.name, self.index(step.out.shape[0])
            if step is sparse:
                x, w = step.input.name, step.weight.name
                start = f"{step.bias.name}[{k}]" if step.bias is not None else "0.0"
                lines += [f"{out} = np.empty((m, {w}_t.shape[1]), {w}_t.dtype)",
                          "for i in range(m):", f"    for {k} in range({out}.shape[1]):",
                          f"        {out}[i, {k}] = {start}",
                          f"    for e in range({x}_starts[i], {x}_starts[i + 1]):",
                          f"        _axpy({x}_values[e], {w}_t[{x}_columns[e]], {out}[i])"]
            elif isinstance(step, Affine):
                lines.append(f"{out} = np.dot({step.input.name}, {step.weight.name}.T)")
                if step.bias is not None:
                    lines += ["for i in range(m):", f"    for {k} in range({out}.shape[1]):",
                              f"        {out}[i, {k}] += {step.bias.name}[{k}]"]
            else:
                sums, value = self.reduced(step.expr, names)
                lines += [f"{out} = np.empty((m, {self.dims[step.out.shape[0]]}), {self._dtype()})",
                          "for i in range(m):", *self.row_loops(sums),
                          f"    for {k} in range({out}.shape[1]):",
                          f"        {names[step.out.symbol]} = {value}"]
        return lines

    def row_loops(self, statements) -> list[str]:
        """The statements of one row i (a sum over a dimension: a loop over it), indented for
        the body of `for i in range(m)`: Σ_k a[i, k]² is summed before the loop that reads it."""
        lines = []
        for statement in statements:
            if statement.loop is None:
                lines.append(f"    {statement.code}")
            else:
                lines += [f"    for {self.index(statement.loop)} in range({self.dims[statement.loop]}):",
                          f"        {statement.code}"]
        return lines

    def batch_loss(self) -> list[str]:
        if self.model.loss_kind != "softmax_cross_entropy":
            raise DerivationError(f"{self.model.name}: the blas layout supports softmax cross-entropy")
        z, label = self.model.loss_input.name, self.model.label.name
        return ["lse_rows = np.empty(m)", "total = 0.0", "for i in range(m):",
                f"    lse_rows[i] = _logsumexp({z}[i])",
                f"    total += {self.weighted_loss(f'lse_rows[i] - {z}[i, {label}[i]]')}"]

    def batch_backward(self, sparse: Affine | None = None) -> list[str]:
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
                sums: list[Statement] = []
                terms: list[str] = []
                if through_adjoints != 0:
                    found, term = self.reduced(through_adjoints, names)
                    sums, terms = sums + found, terms + [term]
                if from_loss != 0:
                    found, term = self.reduced(from_loss, names)
                    sums, terms = sums + found, terms + [f"({term}) * scale" if self.scales else term]
                assign = "+=" if products else "="
                lines += ["for i in range(m):", *self.row_loops(sums),
                          f"    for {k} in range(d_{t.name}.shape[1]):",
                          f"        d_{t.name}[i, {k}] {assign} {' + '.join(terms)}"]
        for g in self.derived.gradients:
            if sparse is not None and g.as_weight == [sparse]:
                x, w = sparse.input.name, sparse.weight.name
                lines += [f"g_{w}_t = np.zeros({w}_t.shape, {w}_t.dtype)", "for i in range(m):",
                          f"    for e in range({x}_starts[i], {x}_starts[i + 1]):",
                          f"        _axpy({x}_values[e], d_{sparse.out.name}[i], g_{w}_t[{x}_columns[e]])"]
                continue
            terms = ([f"np.dot(d_{s.out.name}.T, {s.input.name})" for s in g.as_weight]
                     + [f"d_{s.out.name}.sum(axis=0)" for s in g.as_bias])
            lines.append(f"g_{g.param.name} = {' + '.join(terms)}")
        return lines

    def kernels(self) -> list[str]:
        if any(g.local != 0 for g in self.derived.gradients):
            raise DerivationError(f"{self.model.name}: the blas layout needs parameters in affine maps only")
        return (self.penalty_kernels() + self.weighted_kernels()
                + [self.sparse_kernel(), *self.predict_kernel()])

    def csr_step(self) -> Affine | None:
        """The affine map that reads x by its non-zero entries in every kernel (None here: the
        kernels over CSR rows name it, generate/csr.py)."""
        return None

    def transposed_weight(self) -> list[str]:
        """The first lines of a kernel whose `csr_step` reads its weight W transposed: Wᵀ made
        once per call, contiguous, so that each non-zero x_ij adds the row Wᵀ_j."""
        step = self.csr_step()
        return [] if step is None else [f"{step.weight.name}_t = np.ascontiguousarray({step.weight.name}.T)"]

    def gradient_untransposed(self) -> list[str]:
        """∂J/∂W from the ∂J/∂Wᵀ the `csr_step`'s backward pass adds up (none without one)."""
        step = self.csr_step()
        if step is None:
            return []
        w = step.weight.name
        return [f"g_{w} = np.ascontiguousarray(g_{w}_t.T)"]

    def loss_kernel(self) -> list[str]:
        return [self.entry_names(KERNEL_BLAS.substitute(
            name="loss", args=self.signature(), rows=self._rows(), scale=self.scale_line(),
            body=self._indent(self.transposed_weight() + self.batch_forward(self.csr_step())
                              + self.batch_loss(), 4),
            result=self.scaled("total") + self.penalty_call(),
            doc="J over a batch: affine maps as matrix products, the rest as loops."))]

    def loss_and_gradient_kernel(self) -> list[str]:
        step = self.csr_step()
        results = ", ".join([self.scaled("total") + self.penalty_call()]
                            + [f"g_{p.name}{self.penalty_gradient_term(k)}"
                               for k, p in enumerate(self.model.params)])
        body = (self.transposed_weight() + self.batch_forward(step) + self.batch_loss()
                + self.batch_backward(step) + self.gradient_untransposed())
        return [self.entry_names(KERNEL_BLAS.substitute(
            name="loss_and_gradient", args=self.signature(), rows=self._rows(),
            scale=self.scale_line(), body=self._indent(body, 4), result=results,
            doc="(J, ∂J/∂p for every parameter p) over a batch."))]

    def predict_kernel(self) -> list[str]:
        out = self.model.output_tensor
        return [self.entry_names(KERNEL_BLAS.substitute(
            name="predict", args=self.entry_args(self.input_args()), rows=self._rows(), scale="",
            body=self._indent(self.transposed_weight() + self.batch_forward(self.csr_step()), 4),
            result=out.name, doc=f"The model's output {out.name} for every sample."))]

    def sparse_kernel(self) -> str:
        """loss_and_gradient with x as CSR rows and the first layer's weight transposed."""
        step = self.sparse_step()
        if step is None:
            return ""
        x, w = step.input.name, step.weight.name
        args = [f"{w}_t" if p is step.weight else p.name for p in self.model.params]
        args += [f"{x}_values", f"{x}_columns", f"{x}_starts"] + [a for a in self.data_args() if a != x]
        args += self.hyper_args()
        results = ", ".join([self.scaled("total") + self.penalty_call()] + [
            f"g_{w}_t{self.penalty_gradient_term(k)}.T" if p is step.weight and self.has_penalty
            else f"g_{w}_t" if p is step.weight else f"g_{p.name}{self.penalty_gradient_term(k)}"
            for k, p in enumerate(self.model.params)])
        # Dimensions are read off the parameters' shapes: name the transposed weight's view.
        body = [f"{w} = {w}_t.T"] + self.batch_forward(step) + self.batch_loss() + self.batch_backward(step)
        return KERNEL_BLAS.substitute(
            name="loss_and_gradient_sparse", args=", ".join(args), rows=f"{x}_starts.shape[0] - 1",
            scale=self.scale_line(), body=self._indent(body, 4).replace(f"{x}.dtype", f"{x}_values.dtype"),
            result=results,
            doc=(f"(J, ∂J/∂p) over a batch of {x} given by its non-zero entries (CSR rows), "
                 f"with {w} passed as {w}_t = {w}ᵀ and its gradient returned transposed."))
