"""The language a derivation file is written in.

A file in `derivations/` builds one `Derivation`: a titled, cited sequence of steps a teacher
would put on a slide, plus the claims the document makes. A trainable model is a `Model`, a
Derivation that also declares its tensors (data, target, parameters), its named intermediates
(affine maps and element-wise expressions, the way 001 writes z, p and a), and its loss.
SymPy then derives the gradient through those intermediates (symdl.derive) and the generator
turns the result into kernels (symdl.generate).

This module imports nothing of symdl above the language layer. How a derivation prints, in a
notebook too, is symdl.render's business: render gives `Derivation` its `_repr_latex_`, and
in a running notebook `import symdl` hands IPython the same display, so a Model built in a
cell shows step by step like a loaded one.

Example — 003 §3.3 logistic regression::

    model = Model("logistic_regression", title=..., source=...)
    x = model.data("x", ("n",))
    y = model.target("y", kind="binary")
    theta = model.param("theta", ("n",))
    z = model.affine("z", theta, x)
    h = model.let("h", sigmoid(z))
    model.loss(-y * sp.log(h) - (1 - y) * sp.log(1 - h))

Every tensor is represented in expressions by one SymPy symbol standing for a typical
element (θ_j, x_j, a_k), so expressions are written exactly as the documents write them.

Long because `Model` is the whole language a user writes a model in: each declaration
(`data`, `target`, `param`, `affine`, `let`, `loss`, `penalty`, `output`, ...) checks what it
is given and says what is wrong, and a newcomer reads the language in one class.
"""

from __future__ import annotations

import builtins
import keyword
from dataclasses import dataclass, field
from typing import Callable

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.core.symbol import Str

from symdl.errors import DerivationError

INDEX_LETTERS = ("j", "k", "l", "c", "r", "s", "p", "q", "t", "u", "v")
SEVERITIES = {
    "error": "an error in a result",
    "typo": "a typo or notation slip; the intended reading is right",
    "assumption": "holds only under an unstated assumption",
}
"""How bad a document's claim is when symdl disagrees with it (`Derivation.claim(severity=)`)."""
RESERVED_NAMES = {"m", "n", "i", "chunk", "chunks", "total", "scale", "lse", "lse_rows", "out",
                  "hess", "parts", "g", "math", "np", "numba", "SPEC", "CHUNK", "FASTMATH",
                  # further names the generated files use: constants, buffers, the kernels
                  "BLOCK", "CHUNKS", "ROWS_PER_CHUNK", "LN2_HIGH", "LN2_LOW", "LOG2_E",
                  "SQRT_HALF", "DERIVATION_SHA256", "GENERATOR_SHA256", "BODY_SHA256",
                  "loss_parts", "loss", "gradient", "loss_and_gradient",
                  "loss_and_gradient_sparse", "predict", "hessian", "penalty",
                  "penalty_gradient", "closed_form", "sample_weight", "penalty_hessian"}
"""Names a tensor may not have: the generated kernels use them for their own variables,
constants and functions, and a tensor of that name would shadow them there."""
PYTHON_NAMES = set(keyword.kwlist) | set(dir(builtins))
"""Python's keywords and builtins: a tensor is a variable of the generated Python, so a
keyword (lambda) would not compile and a builtin (min, max, abs) would shadow the one the
kernels call."""


@dataclass(frozen=True)
class Tensor:
    """A named quantity of a model: data, target, parameter or intermediate."""

    name: str
    role: str  # "data", "target", "param", "hyper" or "intermediate"
    shape: tuple  # () for a scalar; dimension names such as ("H", "n") otherwise
    symbol: sp.Symbol  # stands for a typical element in expressions
    latex: str
    kind: str = "real"  # targets: "real", "binary" or "class"

    @property
    def is_scalar(self):
        return self.shape == ()


@dataclass(frozen=True)
class Affine:
    """out = W·x + b: a matrix (or, for a scalar out, a vector) times a vector plus a bias."""

    out: Tensor
    weight: Tensor
    input: Tensor
    bias: Tensor | None


@dataclass(frozen=True)
class Let:
    """out = expr, element by element: a named intermediate such as a = σ(z)."""

    out: Tensor
    expr: sp.Expr


@dataclass(frozen=True)
class Claim:
    """Something a document states, held against what symdl derives.

    `stated` is transcribed from the document as printed; `derived` is a zero-argument
    function computing symdl's own result, so the verdict is decided when the check runs,
    never written down in advance. `compare` says how: "symbolic" (the difference
    simplifies to zero), "numeric" (agree within `tolerance`, relative) or "text" (a
    statement whose truth `derived` returns as a bool). `correction` states the correct
    version, shown only when the two disagree.

    `severity` says how bad the claim is should it disagree (a key of SEVERITIES), decided
    from the document's text: "error" (the result is wrong), "typo" (a slip in the writing;
    the intended reading is right) or "assumption" (it holds only under the `assumption`
    stated there). `between` names another document the claim contradicts, or the later
    edition that repeats it, and says how. `follows` is the statement of another claim (of
    this derivation or another) whose slip this one only repeats: 001's ∂J/∂θ⁽²⁾ is wrong
    because its ∂J/∂p is, so the errata list it under that cause, not beside it.
    """

    source: str
    statement: str
    stated: object
    derived: Callable[[], object]
    compare: str = "symbolic"
    tolerance: float = 0.0
    correction: str = ""
    severity: str = ""
    assumption: str = ""
    between: str = ""
    follows: str = ""


@dataclass
class Step:
    """One line of a derivation: `lhs = rhs`, with a sentence saying what happens."""

    text: str
    lhs: object = None
    rhs: object = None
    source: str = ""


@dataclass
class Derivation:
    """A titled, cited derivation: steps to print and claims to check."""

    name: str
    title: str
    source: str
    summary: str = ""
    steps: list[Step] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    origin: object = field(default=None, repr=False)  # the sources.Source it was loaded from

    def show(self, text, lhs=None, rhs=None, source=""):
        """Add a line to the printed derivation."""
        self.steps.append(Step(text, lhs, rhs, source))

    def claim(self, statement, stated, derived, *, source=None, compare="symbolic",
              tolerance=0.0, correction="", severity="", assumption="", between="", follows=""):
        """Record what the document states, how symdl checks it, and how bad it is if wrong."""
        if compare not in ("symbolic", "numeric", "text"):
            raise DerivationError(f"unknown comparison {compare!r} in claim {statement!r}")
        if severity and severity not in SEVERITIES:
            raise DerivationError(f"unknown severity {severity!r} in claim {statement!r}: "
                                  f"use one of {', '.join(SEVERITIES)}")
        if (severity == "assumption") != bool(assumption):
            raise DerivationError(f"claim {statement!r}: severity='assumption' needs the "
                                  f"assumption stated (assumption='...'), and only it takes one")
        self.claims.append(Claim(source or self.source, statement, stated, derived,
                                 compare, tolerance, correction, severity, assumption, between,
                                 follows))


@dataclass
class Training:
    """How `symdl train NAME` trains a model: the settings, and its built-in data if any."""

    dataset: str | None = None  # a name in symdl.datasets.BUILTIN; None: the user's data only
    optimizer: str = "gd"  # "gd" (full batch), "sgd" (mini-batch) or "rmsprop"
    learning_rate: float = 0.1
    epochs: int = 100
    batch_size: int | None = None
    initial: dict = field(default_factory=dict)  # parameter name -> starting value
    init_scale: float = 0.0  # weights drawn as N(0, init_scale²/fan_in); 0 means zeros
    init: str = "normal"  # or "glorot_uniform": U(±sqrt(6/(fan_in + fan_out))), Keras' default
    sizes: dict = field(default_factory=dict)  # hidden dimensions, e.g. {"H": 16}
    seed: int = 0
    hyper: dict = field(default_factory=dict)  # hyperparameter name -> value, e.g. {"lam": 0.1}
    tol: float | None = None  # stop at max |∂J/∂p| ≤ tol (full batch) or J flat to tol (mini-batch)


class Model(Derivation):
    """A Derivation with tensors, intermediates and a loss: something to train."""

    def __init__(self, name, *, title, source, summary="", reduction="sum",
                 layout="auto", training: Training | None = None, dims=None):
        super().__init__(name, title, source, summary)
        if reduction not in ("sum", "mean"):
            raise DerivationError(f"{name}: reduction must be 'sum' or 'mean', not {reduction!r}")
        if layout not in ("auto", "rows", "block", "blas"):
            raise DerivationError(f"{name}: layout must be 'auto', 'rows', 'block' or 'blas', "
                                  f"not {layout!r}")
        self.reduction = reduction
        self.layout = layout
        self.training = training
        self.tensors: dict[str, Tensor] = {}
        self.steps_of_model: list[Affine | Let] = []
        self.loss_expr: sp.Expr | None = None
        self.loss_kind: str | None = None  # "expression" or "softmax_cross_entropy"
        self.loss_input: Tensor | None = None
        self.output_tensor: Tensor | None = None
        self.penalty_expr = sp.Integer(0)
        self.index_of_dim: dict[str, str] = dict(dims or {})
        self.bias_column = False  # feature 0 is the constant x₀ = 1 (see `data`)
        self.hyper_defaults: dict[str, float] = {}  # hyperparameter name -> default, in order

    # ---- declaring tensors ---------------------------------------------------------
    def data(self, name, shape=(), latex=None, bias_column=False):
        """The features of one sample: a scalar, or a vector of length `shape[0]`.

        A model may read several data tensors per sample (a vector x and a scalar t): every
        kernel takes them as arguments in the order they are declared, then the target.

        `bias_column=True` says the vector is homogenised, its entry 0 the constant x₀ = 1
        that carries the intercept (003 §3.2, §3.3); the SPEC records it, and
        `symdl.sklearn`'s estimators add that column to the user's X themselves.
        """
        if bias_column and len(tuple(shape)) != 1:
            raise DerivationError(f"{self.name}: bias_column needs vector features, "
                                  f"not shape {tuple(shape)}")
        if bias_column and self.inputs:
            raise DerivationError(f"{self.name}: bias_column marks the first data tensor only; "
                                  f"declare {name} first")
        self.bias_column = self.bias_column or bool(bias_column)
        return self._declare(name, "data", shape, latex)

    def target(self, name, kind="real", latex=None, classes=None, shape=()):
        """The label of one sample: "real" (regression), "binary" (0/1) or "class" (integer).

        A real target may be a vector, `shape=("k",)`: k outputs per sample (multi-output
        regression), reduced to one loss with `total(...)`, e.g. `total((y - z)**2)`.
        """
        if kind not in ("real", "binary", "class"):
            raise DerivationError(f"{self.name}: unknown target kind {kind!r}")
        if len(tuple(shape)) > 1 or (tuple(shape) and kind != "real"):
            raise DerivationError(f"{self.name}: a target is a number per sample or, for kind "
                                  f"'real', a vector shape=('k',); not {kind!r} of shape {tuple(shape)}")
        symbol = self._declare(name, "target", shape, latex, kind=kind)
        self.classes = classes
        return symbol

    def param(self, name, shape=(), latex=None):
        """A learnable parameter: scalar, vector or matrix."""
        return self._declare(name, "param", shape, latex)

    def hyper(self, name, default, latex=None):
        r"""A named constant of the cost with a default, such as λ of weight decay: a symbol
        to use in `let`, `loss` and `penalty` like any scalar.

        `lam = model.hyper("lam", default=0.01, latex=r"\lambda")` keeps λ symbolic in the
        printed derivation; the generated kernels take it as a scalar argument after the data
        (`loss_and_gradient(theta, x, y, lam=0.01)`), so a new value needs no recompile, and
        training takes `hyper={"lam": 0.1}` (train.fit, Training, `--hyper lam=0.1`, the
        estimators' parameters). `symdl check` uses the default. Nothing differentiates with
        respect to it: it is not learned.
        """
        value = default
        if isinstance(value, bool) or not isinstance(value, (int, float, sp.Number)):
            raise DerivationError(f"{self.name}: the default of hyperparameter {name} must be a "
                                  f"number, not {value!r}")
        if not sp.Float(value).is_finite:
            raise DerivationError(f"{self.name}: the default of hyperparameter {name} must be "
                                  f"finite, not {value!r}")
        symbol = self._declare(name, "hyper", (), latex)
        self.hyper_defaults[name] = float(value)
        return symbol

    # ---- intermediates -------------------------------------------------------------
    def affine(self, name, weight, input, bias=None, latex=None):
        """out = W·x + b (000/002 "Y = W·X + B", 004 "h = W·x + b").

        A matrix W of shape (K, J) times a vector x of length J gives a vector of length K;
        a vector W times a vector x gives a scalar (θᵀx of 003).
        """
        w, x = self.tensor(weight), self.tensor(input)
        b = self.tensor(bias) if bias is not None else None
        if w.role != "param":
            raise DerivationError(f"{self.name}: the weight of {name} must be a parameter")
        if len(w.shape) == 2 and x.shape == w.shape[1:]:
            shape = w.shape[:1]
        elif len(w.shape) == 1 and x.shape == w.shape:
            shape = ()
        else:
            raise DerivationError(
                f"{self.name}: cannot multiply {w.name} of shape {w.shape} by "
                f"{x.name} of shape {x.shape}")
        if b is not None and (b.role != "param" or b.shape != shape):
            raise DerivationError(
                f"{self.name}: bias {b.name} must be a parameter of shape {shape}, got {b.shape}")
        out = self._declare(name, "intermediate", shape, latex)
        self.steps_of_model.append(Affine(self.tensor(out), w, x, b))
        return out

    def let(self, name, expr, latex=None):
        """A named element-wise intermediate, such as p = σ(z) or ŷ = w·x + b.

        It may reduce a vector to a number with `total(...)` (and norm, softmax): r = Σ_j
        (x_j − c_j)² is `let("r", total((x - c)**2))`, and u_k = z_k / ‖z‖ is
        `let("u", z / norm(z))`.
        """
        expr = self.bound_reductions(self.defined_everywhere(sp.sympify(expr), name), name)
        shapes = element_shapes(self, expr)
        vector_shapes = shapes - {()}
        if len(vector_shapes) > 1:
            raise DerivationError(f"{self.name}: {name} mixes shapes {sorted(vector_shapes)}")
        shape = vector_shapes.pop() if vector_shapes else ()
        for s in expr.free_symbols:
            t = self.tensors.get(s.name)
            if t is None:
                raise DerivationError(f"{self.name}: {name} uses {s}, which is not declared")
        out = self._declare(name, "intermediate", shape, latex)
        self.steps_of_model.append(Let(self.tensor(out), expr))
        return out

    # ---- the loss and the prediction ----------------------------------------------
    def loss(self, expr):
        """The per-sample loss, a scalar expression; the cost reduces it by sum or mean.

        A vector enters it through a reduction: `total((y - z)**2)` is Σ_k (y_k − z_k)².
        """
        expr = self.bound_reductions(self.defined_everywhere(sp.sympify(expr), "the loss"),
                                     "the loss")
        for reduction in outermost_of(expr):
            if reduction.free:
                raise DerivationError(f"{self.name}: the loss must be a number per sample; "
                                      f"{reduction} leaves one number per {reduction.free}: "
                                      f"reduce it with another total(...), or name it with let")
        for s in sorted(outside_reductions(expr).free_symbols, key=lambda s: s.name):
            t = self.tensors.get(s.name)
            if t is None or not t.is_scalar:
                raise DerivationError(f"{self.name}: the loss must be a number per sample; {s} "
                                      f"is {'not declared' if t is None else 'a vector'}: reduce "
                                      f"it with total(...) (functions.total, norm, softmax)")
        self.loss_expr, self.loss_kind = expr, "expression"

    def defined_everywhere(self, expr, where):
        """expr, refused when it is undefined somewhere: a Piecewise with no otherwise branch,
        or a function with no definition (sp.Function("f")).

        Piecewise((r**2, r > 0)) has no value where r ≤ 0, so neither has the loss nor its
        gradient there; the kernels could only make one up. A last branch (value, True)
        says what it is.
        """
        for applied in expr.atoms(AppliedUndef):
            raise DerivationError(
                f"{self.name}: {where} uses {applied}, a SymPy Function with no definition: "
                f"symdl can neither evaluate nor differentiate it; write it out with functions "
                f"SymPy knows (or those of symdl.functions)")
        for piecewise in expr.atoms(sp.Piecewise):
            if piecewise.args[-1].cond != sp.true:
                conditions = " or ".join(str(c.cond) for c in piecewise.args)
                raise DerivationError(
                    f"{self.name}: the Piecewise in {where} has no otherwise branch, so it is "
                    f"undefined where not ({conditions}); add a last branch (value, True) that "
                    f"says what it is there")
        return expr

    def bound_reductions(self, expr, where):
        """expr with every total(u) over per-sample vectors told the dimension it sums over.

        Each total must run over vectors of one dimension (scalars may appear beside them):
        total((y - z)**2) with y, z of shape ("k",) becomes total(..., Str("k")), Σ_k.
        """
        from symdl.functions import total

        def bind(reduction):
            if reduction.dim is not None:
                return reduction
            inner = reduction.args[0]
            for s in outside_reductions(inner).free_symbols:
                if s.name not in self.tensors:
                    raise DerivationError(f"{self.name}: {where} uses {s}, which is not declared")
            shapes = element_shapes(self, inner) - {()}
            vectors = {sh for sh in shapes if len(sh) == 1}
            matrices = shapes - vectors
            if len(vectors) == 1 and not matrices:
                return total(inner, Str(next(iter(vectors))[0]))
            # Σ_j (x_j − C_kj)²: vectors over j beside matrices with one other dimension k
            (dim,) = next(iter(vectors)) if len(vectors) == 1 else (None,)
            free = {d for sh in matrices if len(sh) == 2 and sh.count(dim) == 1
                    for d in sh if d != dim}
            if dim is not None and len(free) == 1 and all(dim in sh for sh in matrices):
                return total(inner, Str(dim), Str(free.pop()))
            found = ", ".join(str(sh) for sh in sorted(shapes)) or "scalars only"
            raise DerivationError(
                f"{self.name}: {reduction} in {where} must sum over vectors of one dimension, "
                f"beside matrices whose other dimension it leaves (found {found}); write one "
                f"total(...) per vector, e.g. total(a**2) + total(b**2), or total((x - C)**2) "
                f"with x over n and C of shape (H, n) for one sum over n per row of C")

        return expr.replace(lambda e: isinstance(e, total) and e.dim is None, bind)

    def penalty(self, expr):
        """A term of the cost that depends on the parameters only, added once to J.

        J = Σ ℓ (or its mean) + R(θ): weight decay λ‖θ‖² is `penalty(lam * total(theta**2))`,
        the lasso `penalty(lam * total(abs(theta)))`, elastic net both. A vector or matrix
        parameter appears inside `total(...)` (functions.total, norm), one per total.
        """
        from symdl.functions import total
        expr = self.defined_everywhere(sp.sympify(expr), "the penalty")
        for s in expr.free_symbols:
            t = self.tensors.get(s.name)
            if t is None or t.role not in ("param", "hyper"):
                raise DerivationError(f"{self.name}: a penalty depends on parameters only; "
                                      f"{s} is {'not declared' if t is None else 'a ' + t.role}"
                                      f" (hyperparameters may appear too)")
        outside = expr.replace(lambda e: isinstance(e, total), lambda e: sp.Integer(1))
        for s in outside.free_symbols:
            if not self.tensor(s).is_scalar:
                raise DerivationError(f"{self.name}: {s} is a vector in the penalty; reduce it "
                                      f"to a number with total(...) or norm(...)")
        for reduction in expr.atoms(total):
            inside = {self.tensor(s) for s in reduction.args[0].free_symbols}
            vectors = [t for t in inside if not t.is_scalar]
            if len(vectors) != 1 or len(inside) != 1:
                raise DerivationError(f"{self.name}: {reduction} must hold exactly one vector or "
                                      f"matrix parameter (write total(a**2) + total(b**2))")
        self.penalty_expr = self.penalty_expr + expr

    def softmax_cross_entropy(self, logits, label):
        """Sparse categorical cross-entropy of softmax(z) for an integer label (002 MNIST).

        J = −log softmax(z)_y = log Σ_c e^{z_c} − z_y; derive.py derives ∂J/∂z_c.
        """
        z, y = self.tensor(logits), self.tensor(label)
        if len(z.shape) != 1 or y.kind != "class":
            raise DerivationError(
                f"{self.name}: softmax cross-entropy needs vector logits and a class label")
        self.loss_kind, self.loss_input = "softmax_cross_entropy", z
        self.loss_expr = None

    def output(self, symbol):
        """What the model predicts (ŷ, the probability h, or the logits z)."""
        tensor = self.tensor(symbol)
        if self._reads_target(tensor):
            raise DerivationError(f"{self.name}: the output {tensor.name} depends on the target "
                                  f"{self.label.name}, which predict() does not have; output the "
                                  f"prediction itself (e.g. ŷ, not the residual y − ŷ)")
        self.output_tensor = tensor

    def _reads_target(self, tensor) -> bool:
        if tensor.role == "target":
            return True
        for step in self.steps_of_model:
            if step.out == tensor:
                inputs = ([step.weight, step.input] + ([step.bias] if step.bias else [])
                          if isinstance(step, Affine) else
                          [self.tensor(s) for s in step.expr.free_symbols])
                return any(self._reads_target(t) for t in inputs)
        return False

    # ---- lookups -------------------------------------------------------------------
    def tensor(self, symbol_or_name) -> Tensor:
        name = getattr(symbol_or_name, "name", symbol_or_name)
        try:
            return self.tensors[name]
        except KeyError:
            raise DerivationError(f"{self.name}: no tensor named {name!r}") from None

    def of_role(self, role):
        return [t for t in self.tensors.values() if t.role == role]

    @property
    def params(self):
        return self.of_role("param")

    @property
    def hypers(self) -> list[Tensor]:
        """The hyperparameters, in declaration order: every kernel takes them last."""
        return self.of_role("hyper")

    @property
    def features(self):
        """The first data tensor (the one affine maps and `bias_column` usually read), or None."""
        found = self.of_role("data")
        return found[0] if found else None

    @property
    def inputs(self) -> list[Tensor]:
        """Every data tensor, in declaration order: every kernel takes them in this order."""
        return self.of_role("data")

    @property
    def label(self):
        found = self.of_role("target")
        return found[0] if found else None

    def index(self, dim):
        """The index letter that runs over dimension `dim` (j over n, k over H, ...)."""
        if dim not in self.index_of_dim:
            unused = [c for c in INDEX_LETTERS
                      if c not in self.index_of_dim.values() and c not in self.tensors]
            if not unused:
                raise DerivationError(
                    f"{self.name}: dimension {dim} needs an index letter, and all "
                    f"{len(INDEX_LETTERS)} ({', '.join(INDEX_LETTERS)}) run over other dimensions "
                    f"or name tensors; let layers of one width share a dimension name")
            self.index_of_dim[dim] = unused[0]
        return self.index_of_dim[dim]

    def _declare(self, name, role, shape, latex, kind="real"):
        if not name.isidentifier():
            raise DerivationError(f"{self.name}: tensor name {name!r} is not an identifier")
        if name in self.tensors:
            raise DerivationError(f"{self.name}: {name} is declared twice")
        if name in PYTHON_NAMES:
            what, harm = (("keyword", "would not compile") if keyword.iskeyword(name) else
                          ("builtin", f"would hide Python's {name}, which kernels call"))
            raise DerivationError(
                f"{self.name}: {name!r} is a Python {what}: the generated kernels name each "
                f"tensor's variable after it, and that {harm}; choose another name (e.g. "
                f"{name}_) and keep how it prints with latex=...")
        if (name in RESERVED_NAMES or name in self.index_of_dim.values()
                or name.startswith(("_", "d_", "g_"))):
            raise DerivationError(f"{self.name}: {name!r} is a name the generated kernels use "
                                  f"themselves; choose another (e.g. {name}_value)")
        shape = tuple(shape)
        for dim in shape:
            self.index(dim)
        symbol = sp.Symbol(name, real=True)
        base = latex or sp.latex(sp.Symbol(name))
        indices = "".join(self.index(d) for d in shape)
        shown = f"{{{base}}}_{{{indices}}}" if indices else base
        self.tensors[name] = Tensor(name, role, shape, symbol, shown, kind)
        return symbol


def outermost_of(expr: sp.Expr) -> list:
    """The reductions of expr that no other reduction contains."""
    from symdl.functions import REDUCTIONS
    if isinstance(expr, REDUCTIONS):
        return [expr]
    return [r for arg in expr.args for r in outermost_of(arg)]


def element_shapes(model: Model, expr: sp.Expr) -> set:
    """The shapes of what expr reads element by element: its tensors outside reductions, and
    the dimension a sum over a matrix's rows leaves (Σ_j (x_j − C_kj)² is one per k)."""
    shapes = {model.tensor(s).shape for s in outside_reductions(expr).free_symbols
              if s.name in model.tensors}
    return shapes | {(r.free,) for r in outermost_of(expr) if r.free}


def outside_reductions(expr: sp.Expr) -> sp.Expr:
    """expr with every reduction (total, its log-sum-exp) replaced by 1: what is left per element."""
    from symdl.functions import REDUCTIONS
    return expr.replace(lambda e: isinstance(e, REDUCTIONS), lambda e: sp.Integer(1))
