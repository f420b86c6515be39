"""Everything the language accepts is generated, or refused when it is written (issue 17, item 2).

Each model here was accepted by the language and then failed inside the generator or the
epoch loop with a traceback. Now it trains, or it is refused with a DerivationError that
names what is wrong, before any kernel is written. The models are derivation files written
into tmp_path and used through the public path a user takes.
"""

import numpy as np
import sympy as sp
import pytest

from symdl import cli, kernels, sources, train
from symdl.errors import DerivationError
from symdl.generate import files

HEAD = '''"""A model of this test's own."""
import sympy as sp
from symdl.functions import total
from symdl.model import Model, Training

derivation = Model("{name}", title="A test model", source="none", reduction="mean",
                   training=Training(dataset="floor_areas", learning_rate=1e-3, epochs=3))
x = derivation.data("x")
y = derivation.target("y")
'''

RNG = np.random.default_rng(0)
X = RNG.standard_normal(40)
Y = 2.0 * X + 1.0


def model_file(tmp_path, name, body):
    path = tmp_path / f"{name}.py"
    path.write_text(HEAD.replace("{name}", name) + body)
    return str(path)


def refused_on_the_command_line(path, capsys, command="train"):
    """`symdl COMMAND path` exits 1 with the message and no traceback; returns the message
    (`symdl check` reports it as a failed row of its table)."""
    assert cli.main([command, path]) == 1
    out, err = capsys.readouterr()
    if command == "check":
        assert "| the derivation and its kernels load | ERROR |" in out
        return out
    assert err.startswith("symdl: ") and "Traceback" not in err
    return err


# ---- steps: floor, sign, Heaviside get their derivative away from the jumps -----------------

STEPS = {"floor": "sp.floor(a * x) + b", "sign": "sp.sign(a * x) + b",
         "heaviside": "sp.Heaviside(a * x) + b", "ceiling": "sp.ceiling(a * x) + b"}


@pytest.mark.parametrize("step", list(STEPS))
def test_a_learned_step_trains_with_its_almost_everywhere_gradient(tmp_path, step):
    path = model_file(tmp_path, f"step_{step}", f'''a = derivation.param("a")
b = derivation.param("b")
y_hat = derivation.let("y_hat", {STEPS[step]})
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
''')
    module = kernels.load(path)
    loss, g_a, g_b = module.loss_and_gradient(0.7, 0.2, X, Y)
    assert g_a == 0.0  # flat between the jumps: the step's own parameter does not move
    assert g_b != 0.0 and np.isfinite(loss)
    result = train.fit(path, X, Y, learning_rate=0.1, epochs=200)  # from a = b = 0
    assert result.params["a"] == 0.0  # the step at a = 0 is 0 for every x: ŷ = b
    assert abs(result.params["b"] - Y.mean()) < 1e-6


def test_a_learned_step_passes_the_three_way_check(tmp_path, capsys):
    path = model_file(tmp_path, "floor_line", '''a = derivation.param("a")
b = derivation.param("b")
y_hat = derivation.let("y_hat", sp.floor(a * x) + b)
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
''')
    assert cli.main(["check", path]) == 0
    assert "0 failures" in capsys.readouterr().out


def test_a_function_without_definition_is_refused_naming_it(tmp_path, capsys):
    path = model_file(tmp_path, "unknown_function", '''a = derivation.param("a")
mystery = sp.Function("mystery")
y_hat = derivation.let("y_hat", mystery(a * x))
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
''')
    err = refused_on_the_command_line(path, capsys)
    assert "mystery(a*x), a SymPy Function with no definition" in err


# ---- a Piecewise with no otherwise branch is refused when it is written ---------------------

ONE_SIDED = '''a = derivation.param("a")
y_hat = derivation.let("y_hat", a * x)
r = y - y_hat
derivation.loss(sp.Piecewise((r**2, r > 0){otherwise}))
derivation.output(y_hat)
'''


def test_a_piecewise_without_otherwise_is_refused_naming_the_missing_branch(tmp_path, capsys):
    path = model_file(tmp_path, "one_sided", ONE_SIDED.replace("{otherwise}", ""))
    with pytest.raises(DerivationError, match=r"Piecewise in the loss has no otherwise branch.*"
                                              r"undefined where not \(.*> 0\).*\(value, True\)"):
        sources.load_derivation(path)
    refused_on_the_command_line(path, capsys)
    assert not (tmp_path / "generated" / "one_sided.py").exists()


def test_the_same_piecewise_with_its_otherwise_branch_trains(tmp_path):
    path = model_file(tmp_path, "two_sided", ONE_SIDED.replace("{otherwise}", ", (-r, True)"))
    result = train.fit(path, X, Y, learning_rate=0.05, epochs=50)
    assert np.isfinite(result.history[-1][1])


def test_a_piecewise_without_otherwise_in_an_intermediate_is_refused(tmp_path):
    path = model_file(tmp_path, "half_relu", '''a = derivation.param("a")
y_hat = derivation.let("y_hat", sp.Piecewise((a * x, x > 0)))
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
''')
    with pytest.raises(DerivationError, match="Piecewise in y_hat has no otherwise branch"):
        sources.load_derivation(path)


# ---- a parameter the cost does not read is refused, by every command ------------------------

UNUSED = '''a = derivation.param("a")
b = derivation.param("b")
y_hat = derivation.let("y_hat", a * x)
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
'''


@pytest.mark.parametrize("command", ["train", "derive", "generate", "check"])
def test_an_unused_parameter_is_refused_naming_it(tmp_path, capsys, command):
    path = model_file(tmp_path, "unused_b", UNUSED)
    err = refused_on_the_command_line(path, capsys, command)
    assert "does not depend on the parameter(s) b" in err
    assert not (tmp_path / "generated" / "unused_b.py").exists()


def test_a_parameter_read_only_by_the_penalty_is_used(tmp_path):
    path = model_file(tmp_path, "penalised_b", UNUSED + "derivation.penalty(b**2)\n")
    result = train.fit(path, X, Y, learning_rate=0.05, epochs=20)
    assert np.isfinite(result.history[-1][1])


# ---- names the generated Python cannot use are refused when they are declared ---------------

@pytest.mark.parametrize("name, what", [("lambda", "keyword"), ("min", "builtin"),
                                        ("max", "builtin"), ("abs", "builtin"),
                                        ("BLOCK", "generated kernels use"),
                                        ("loss", "generated kernels use")])
def test_a_name_the_generated_code_cannot_use_is_refused(tmp_path, capsys, name, what):
    path = model_file(tmp_path, f"named_{name.lower()}", f'''a = derivation.param("{name}")
y_hat = derivation.let("y_hat", a * x)
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
''')
    with pytest.raises(DerivationError, match=f"'{name}' is .*{what}"):
        sources.load_derivation(path)
    refused_on_the_command_line(path, capsys)
    assert not (tmp_path / "generated").exists()


def test_a_name_with_latex_for_lambda_trains(tmp_path):
    path = model_file(tmp_path, "named_lambda_", '''a = derivation.param("lambda_", latex=r"\\lambda")
y_hat = derivation.let("y_hat", a * x)
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
''')
    result = train.fit(path, X, Y, learning_rate=0.1, epochs=50)
    assert abs(result.params["lambda_"] - 2.0) < 0.5


def test_parameters_fixed_only_together_train_without_a_closed_form(tmp_path):
    """(a + b)·x: ∇J = 0 on a whole line, so there is no one closed form (was a KeyError)."""
    path = model_file(tmp_path, "sum_of_two", UNUSED.replace("a * x", "(a + b) * x"))
    module = kernels.load(path)
    assert module.SPEC["closed_form"] is False
    result = train.fit(path, X, Y, learning_rate=0.05, epochs=300)
    assert abs(result.params["a"] + result.params["b"] - 2.0) < 0.1


def test_a_generated_file_that_does_not_compile_is_never_written(tmp_path, monkeypatch):
    path = model_file(tmp_path, "does_not_compile", UNUSED.replace("a * x", "(a + b) * x"))
    real = files.render_module
    monkeypatch.setattr(files, "render_module",
                        lambda model, source: real(model, source) + "\ndef broken(lambda):\n")
    with pytest.raises(DerivationError, match="do not compile.*nothing was written"):
        files.write([path])
    assert not (tmp_path / "generated" / "does_not_compile.py").exists()


# ---- many scalar parameters: generation stays quick -----------------------------------------

def many_parameters(tmp_path, count):
    """ŷ = Σᵢ wᵢ·tanh(x + i/10): quadratic in w, with tanh features (no closed form)."""
    params = "".join(f'w{i} = derivation.param("w{i}")\n' for i in range(count))
    terms = " + ".join(f"w{i} * sp.tanh(x + sp.Rational({i}, 10))" for i in range(count))
    return model_file(tmp_path, f"many_{count}", params + f'''y_hat = derivation.let("y_hat", {terms})
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
''')


def test_a_hundred_scalar_parameters_generate_in_seconds(tmp_path, capsys):
    """It took 174 s for 40 parameters, nearly all in simplify() on each Hessian entry."""
    import time
    path = many_parameters(tmp_path, 100)
    start = time.perf_counter()
    assert cli.main(["generate", path]) == 0
    elapsed = time.perf_counter() - start
    assert elapsed < 60  # about 4 s on an idle 2-core machine; the margin is for a busy one
    text = (tmp_path / "generated" / "many_100.py").read_text()
    assert "'hessian': True" in text and "hess[99, 99] +=" in text


def test_the_hessian_through_intermediates_is_the_hessian(tmp_path):
    """Beyond HESSIAN_TIDY_PARAMS the entries are derived through ŷ: the same numbers."""
    import sympy as sp
    from symdl.derive import HESSIAN_TIDY_PARAMS, Derived, hessian_entries
    count = HESSIAN_TIDY_PARAMS + 2
    derived = Derived(sources.load_derivation(many_parameters(tmp_path, count)))
    symbols = [p.symbol for p in derived.model.params]
    named = derived.curvature.entries
    exact = hessian_entries(derived.fully_composed_loss, symbols)
    rng = np.random.default_rng(0)
    point = {s: sp.Float(rng.standard_normal()) for s in symbols}
    point.update({derived.model.tensor("x").symbol: sp.Float(0.3),
                  derived.model.tensor("y").symbol: sp.Float(-1.2)})
    for row_named, row_exact in zip(named, exact):
        for entry, expected in zip(row_named, row_exact):
            assert float(derived.composed(entry).xreplace(point)) == pytest.approx(
                float(expected.xreplace(point)), rel=1e-12, abs=1e-12)


# ---- issue 17, pass 3: gradients checked against finite differences of NumPy models ---------

def numeric_gradient(cost, params, step=1e-6):
    """Central differences of cost(params) for every element of every parameter (NumPy only)."""
    found = []
    for position, value in enumerate(params):
        value = np.asarray(value, dtype=float)
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            moved = []
            for sign in (1, -1):
                trial = value.copy()
                trial[index] += sign * step
                moved.append(cost([trial if k == position else p for k, p in enumerate(params)]))
            grad[index] = (moved[0] - moved[1]) / (2 * step)
        found.append(grad)
    return found


def assert_gradient(module, params, data, cost):
    """The kernel's ∂J/∂p against central differences of the NumPy cost, to ~1e-6 relative."""
    loss, *grads = module.loss_and_gradient(*params, *data)
    assert loss == pytest.approx(cost(params), rel=1e-10)
    for got, expected in zip(grads, numeric_gradient(cost, params)):
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


def assert_trains(path, x, y, **settings):
    result = train.fit(path, x, y, **settings)
    losses = [loss for _, loss in result.history]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    return result


NETWORK_HEAD = '''"""A model of this test's own."""
import sympy as sp
from symdl.functions import total, sigmoid
from symdl.model import Model, Training

derivation = Model("{name}", title="A test model", source="none", reduction="mean",
                   training=Training(sizes={sizes}))
x = derivation.data("x", ("n",))
'''


def network_file(tmp_path, name, sizes, body):
    path = tmp_path / f"{name}.py"
    path.write_text(NETWORK_HEAD.replace("{name}", name).replace("{sizes}", repr(sizes)) + body)
    return str(path)


# item 1: a sum read after a sum over hidden units (u = a/‖a‖ fed to a second layer, whose
# units are summed again): `symdl derive` raised "cannot print the chain rule through u"
SUM_AFTER_SUM = '''y = derivation.target("y")
W = derivation.param("W", ("H", "n"))
V = derivation.param("V", ("K", "H"))
w = derivation.param("w", ("K",))
z = derivation.affine("z", W, x)
a = derivation.let("a", sp.tanh(z))
u = derivation.let("u", a / sp.sqrt(total(a**2)))
z2 = derivation.affine("z2", V, u)
h = derivation.let("h", sp.tanh(z2))
r = derivation.let("r", total(h**2))
y_hat = derivation.let("y_hat", total(w * h) + r)
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
'''


def sum_after_sum_numpy(params, x, y):
    """(J, ∂ℓ/∂a per sample) of SUM_AFTER_SUM, in NumPy."""
    W, V, w = params
    a = np.tanh(x @ W.T)
    u = a / np.linalg.norm(a, axis=1, keepdims=True)
    h = np.tanh(u @ V.T)
    y_hat = h @ w + np.sum(h**2, axis=1)
    return np.mean((y - y_hat) ** 2)


def test_a_sum_read_after_a_sum_over_hidden_units_derives_generates_and_trains(tmp_path, capsys):
    path = network_file(tmp_path, "sum_after_sum", {"H": 4, "K": 3}, SUM_AFTER_SUM)
    assert cli.main(["derive", path]) == 0
    out = " ".join(capsys.readouterr().out.split())  # lines wrap at 100 columns
    assert "route 1 of 2 (through ℓ → y_hat → r → h → z2 → u → a → z → W)" in out
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((30, 3)), rng.standard_normal(30)
    params = [rng.standard_normal((4, 3)), rng.standard_normal((3, 4)), rng.standard_normal(3)]
    assert_gradient(kernels.load(path), params, (x, y),
                    lambda p: sum_after_sum_numpy(p, x, y))
    assert_trains(path, x, y, learning_rate=0.02, epochs=20, init_scale=1.0, sizes={"H": 4, "K": 3})


def test_the_printed_chain_rule_after_a_sum_over_units_is_the_true_derivative(tmp_path):
    """∂ℓ/∂a_k as the folded factors of both routes print it, written out for H = 4, K = 3,
    against central differences of the NumPy loss in a."""
    import sympy as sp
    from symdl.derive import Derived, chain_rule, written_out_reductions
    model = sources.load_derivation(network_file(tmp_path, "sum_after_sum", {"H": 4, "K": 3},
                                                 SUM_AFTER_SUM))
    folded = [route[0] for route in chain_rule(Derived(model), model.tensor("W"))]
    assert all(f.numerator is None and f.denominator.name == "a" for f in folded)
    rng = np.random.default_rng(2)
    a, V, w, y = (np.tanh(rng.standard_normal(4)), rng.standard_normal((3, 4)),
                  rng.standard_normal(3), 0.3)

    def forward(at):
        u = at / np.linalg.norm(at)
        h = np.tanh(V @ u)
        return u, h, h @ w + np.sum(h**2)

    u, h, y_hat = forward(a)
    values = {"a": sp.Array(list(a)), "u": sp.Array(list(u)), "h": sp.Array(list(h)),
              "w": sp.Array(list(w)), "V": sp.Array(V.tolist())}
    scalars = {model.tensor("y").symbol: y, model.tensor("y_hat").symbol: y_hat,
               model.tensor("r").symbol: float(np.sum(h**2))}
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6
        numeric = ((y - forward(a + step)[2]) ** 2 - (y - forward(a - step)[2]) ** 2) / 2e-6
        printed = 0.0
        for factor in folded:
            # element k of ∂ℓ/∂a: a_k, u_k and V's column k wherever the unit index is k
            printed += float(written_out_reductions(model, factor.value, values, {"H": k})
                             .xreplace(scalars))
        assert printed == pytest.approx(numeric, rel=1e-6)


# item 2: an inner sum gets its own index letter, distinct from the free and the outer ones

def test_printed_nested_sums_each_get_their_own_index(tmp_path, capsys):
    from symdl import render
    path = network_file(tmp_path, "nested_sums", {"H": 4, "K": 3}, SUM_AFTER_SUM)
    model = sources.load_derivation(path)

    def check(expr, enclosing):
        if isinstance(expr, render.IndexSum):
            assert str(expr.args[0]) not in enclosing, (expr, enclosing)
            enclosing = enclosing | {str(expr.args[0])}
        for arg in getattr(expr, "args", ()):
            check(arg, enclosing)

    for line in render.derivation_lines(model):
        for side in [line.lhs] + (line.rhs or []):
            if isinstance(side, sp.Basic):
                check(side, frozenset())
    latex = render.render(model, latex=True)
    # δz_k: Σ_p over the units beside the free k, ‖a‖² inside it over q, δu and u bound to p
    assert (r"\sum_{p} - \frac{\delta {u}_{p} \cdot {u}_{p} \cdot \left(\sum_{q} {a}_{q}^{2}"
            r"\right)^{-1}}{2}" in latex)
    # V_lk inside a sum over the units bound to p takes p for its unit index
    assert r"{V}_{lp}" in latex
    assert cli.main(["derive", path]) == 0
    assert "δu_p⋅u_p" in capsys.readouterr().out


# item 4: a matrix parameter inside a per-sample sum (RBF centres C of shape (H, n)) ----------

RBF_NETWORK = '''y = derivation.target("y", kind="binary")
C = derivation.param("C", ("H", "n"))
w = derivation.param("w", ("H",))
b = derivation.param("b")
gamma = derivation.param("gamma", latex=r"\\gamma")
d = derivation.let("d", total((x - C) ** 2))          # d_k = Σ_j (x_j − C_kj)², one per unit
h = derivation.let("h", sp.exp(-gamma * d))
p = derivation.let("p", sigmoid(total(w * h) + b))
derivation.loss(-y * sp.log(p) - (1 - y) * sp.log(1 - p))
derivation.output(p)
'''


def rbf_numpy(params, x, y):
    C, w, b, gamma = params
    d = np.sum((x[:, None, :] - C[None, :, :]) ** 2, axis=2)
    p = 1 / (1 + np.exp(-(np.exp(-gamma * d) @ w + b)))
    return np.mean(-y * np.log(p) - (1 - y) * np.log(1 - p))


def test_a_matrix_parameter_inside_a_per_sample_sum_generates_and_trains(tmp_path, capsys):
    path = network_file(tmp_path, "rbf_network", {"H": 5}, RBF_NETWORK)
    model = sources.load_derivation(path)
    assert model.tensor("d").shape == ("H",)  # Σ over n of a row of C: one number per unit
    assert cli.main(["derive", path]) == 0
    assert "2⋅γ⋅hₖ⋅wₖ⋅(Cₖⱼ - xⱼ)⋅(y - p)" in capsys.readouterr().out
    module = kernels.load(path)
    assert module.SPEC["layout"] == "rows"  # the block layout cannot express it: chosen alone
    rng = np.random.default_rng(4)
    x = rng.standard_normal((40, 3))
    y = (np.sum(x**2, axis=1) < 2.5).astype(float)
    params = [rng.standard_normal((5, 3)), rng.standard_normal(5), 0.3, 0.7]
    assert_gradient(module, params, (x, y), lambda p: rbf_numpy(p, x, y))
    prediction = module.predict(*params, x)
    C, w, b, gamma = params
    expected = 1 / (1 + np.exp(-(np.exp(-gamma * np.sum((x[:, None] - C) ** 2, axis=2)) @ w + b)))
    np.testing.assert_allclose(prediction, expected, rtol=1e-12)
    assert_trains(path, x, y, optimizer="adam", learning_rate=0.05, epochs=30, init_scale=1.0,
                  initial={"gamma": 1.0}, sizes={"H": 5})


def test_a_sum_over_a_matrix_that_leaves_a_vector_in_the_loss_is_refused(tmp_path):
    path = network_file(tmp_path, "rbf_vector_loss", {"H": 5}, '''y = derivation.target("y")
C = derivation.param("C", ("H", "n"))
derivation.loss((y - total((x - C) ** 2)) ** 2)
''')
    with pytest.raises(DerivationError, match=r"the loss must be a number per sample; .* leaves "
                                              r"one number per H: reduce it with another total"):
        sources.load_derivation(path)


# item 5: the blas layout evaluates sums inside a sample's expressions -----------------------

NORMALISED_LAYER = '''y = derivation.target("y", kind="class", classes=3)
W = derivation.param("W", ("H", "n"))
b = derivation.param("b", ("H",))
V = derivation.param("V", ("c", "H"))
z = derivation.affine("z", W, x, b)
a = derivation.let("a", sp.tanh(z))
u = derivation.let("u", a / sp.sqrt(total(a**2)))   # the units scaled to length 1
q = derivation.let("q", sp.exp(u) / total(sp.exp(u)))  # then a softmax over them
o = derivation.affine("o", V, q)
derivation.softmax_cross_entropy(o, y)
derivation.output(o)
'''


def normalised_layer_numpy(params, x, y):
    W, b, V = params
    a = np.tanh(x @ W.T + b)
    u = a / np.linalg.norm(a, axis=1, keepdims=True)
    q = np.exp(u) / np.sum(np.exp(u), axis=1, keepdims=True)
    o = q @ V.T
    lse = np.log(np.sum(np.exp(o), axis=1))
    return np.mean(lse - o[np.arange(len(y)), y])


@pytest.mark.parametrize("layout", ["blas", "rows"])
def test_sums_in_a_layer_generate_in_the_blas_layout(tmp_path, layout):
    body = NORMALISED_LAYER
    path = tmp_path / f"normalised_{layout}.py"
    path.write_text(NETWORK_HEAD.replace("{name}", f"normalised_{layout}")
                    .replace("{sizes}", repr({"H": 4}))
                    .replace('reduction="mean",', f'reduction="mean", layout="{layout}",') + body)
    module = kernels.load(str(path))
    assert module.SPEC["layout"] == layout
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((40, 3)), rng.integers(0, 3, 40)
    params = [rng.standard_normal((4, 3)), rng.standard_normal(4), rng.standard_normal((3, 4))]
    assert_gradient(module, params, (x, y), lambda p: normalised_layer_numpy(p, x, y))
    assert_trains(str(path), x, y, learning_rate=0.5, epochs=20, init_scale=1.0,
                  sizes={"H": 4, "c": 3})


def test_a_wide_layer_with_sums_is_generated_in_the_blas_layout_when_the_layout_is_auto(tmp_path):
    from symdl.generate.files import layout_of
    model = sources.load_derivation(network_file(tmp_path, "wide_normalised", {"H": 256},
                                                 NORMALISED_LAYER))
    assert layout_of(model) == "blas"


# item 3: several data tensors with a vector target, in memory and chunk by chunk -------------

TWO_INPUTS = '''"""Two data tensors and a vector target: y_k = Σ_j A_kj·x_j + B_k·t."""
import sympy as sp
from symdl.functions import total
from symdl.model import Model

derivation = Model("two_inputs", title="A test model", source="none", reduction="mean")
x = derivation.data("x", ("n",))
t = derivation.data("t")
y = derivation.target("y", shape=("k",))
A = derivation.param("A", ("k", "n"))
B = derivation.param("B", ("k",))
z = derivation.affine("z", A, x)
y_hat = derivation.let("y_hat", z + B * sp.tanh(t))
derivation.loss(total((y - y_hat) ** 2))
derivation.output(y_hat)
'''


def two_inputs_numpy(params, x, t, y):
    A, B = params
    return np.mean(np.sum((y - (x @ A.T + np.tanh(t)[:, None] * B)) ** 2, axis=1))


def two_inputs_data(rows=60):
    rng = np.random.default_rng(6)
    x, t = rng.standard_normal((rows, 3)), rng.standard_normal(rows)
    y = x @ rng.standard_normal((3, 2)) + np.tanh(t)[:, None] * np.array([0.5, -1.0])
    return x, t, y


def test_several_data_tensors_with_a_vector_target_train(tmp_path):
    path = tmp_path / "two_inputs.py"
    path.write_text(TWO_INPUTS)
    x, t, y = two_inputs_data()
    rng = np.random.default_rng(7)
    params = [rng.standard_normal((2, 3)), rng.standard_normal(2)]
    assert_gradient(kernels.load(str(path)), params, (x, t, y),
                    lambda p: two_inputs_numpy(p, x, t, y))
    result = assert_trains(str(path), {"x": x, "t": t}, y, learning_rate=0.1, epochs=20)
    assert train.predict(result, (x, t)).shape == (60, 2)


def test_several_data_tensors_with_a_vector_target_train_chunk_by_chunk(tmp_path):
    """Dask arrays give the in-memory history (the sums only reordered), full batch and in
    mini-batches; a scalar tensor may stay a NumPy array beside them."""
    da = pytest.importorskip("dask.array")
    path = tmp_path / "two_inputs.py"
    path.write_text(TWO_INPUTS)
    x, t, y = two_inputs_data()
    memory = train.fit(str(path), (x, t), y, learning_rate=0.1, epochs=5)
    chunks = (da.from_array(x, chunks=(25, 3)), da.from_array(t, chunks=25))
    chunked = train.fit(str(path), chunks, da.from_array(y, chunks=(25, 1)),
                        learning_rate=0.1, epochs=5)
    assert chunked.metrics["chunks"] == 3
    np.testing.assert_allclose([j for _, j in chunked.history], [j for _, j in memory.history],
                               rtol=1e-12)
    for name in ("A", "B"):
        np.testing.assert_allclose(chunked.params[name], memory.params[name], rtol=1e-12)
    batched = train.fit(str(path), {"x": chunks[0], "t": t}, y, optimizer="sgd", batch_size=10,
                        learning_rate=0.05, epochs=5, epoch_metrics=True)
    losses = [j for _, j in batched.history]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_several_data_tensors_with_a_vector_target_train_from_a_store(tmp_path, capsys):
    pytest.importorskip("dask.array")
    path = tmp_path / "two_inputs.py"
    path.write_text(TWO_INPUTS)
    x, t, y = two_inputs_data()
    store = tmp_path / "store"
    store.mkdir()
    for name, array in (("x", x), ("t", t), ("y", y)):
        np.save(store / f"{name}.npy", array)
    assert cli.main(["train", str(path), "--data", str(store), "--epochs", "5", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"chunks"' in out and "Traceback" not in out


def test_a_model_without_data_gets_the_gradient_of_every_element_of_a_vector(tmp_path):
    """J = Σ_j (w_j − 1)² + Σ_j w_j⁴ has no data: ∂J/∂w_j = 2(w_j − 1) + 4w_j³ for every j
    (the kernel used to return one number, the last element's, with no error)."""
    path = tmp_path / "vector_without_data.py"
    path.write_text('''"""A vector parameter and no data."""
from symdl.functions import total
from symdl.model import Model, Training
derivation = Model("vector_without_data", title="t", source="none",
                   training=Training(learning_rate=0.05, epochs=200))
w = derivation.param("w", ("k",))
derivation.loss(total((w - 1) ** 2) + total(w ** 4))
''')
    module = kernels.load(path)
    w = np.array([0.5, 2.0, -1.0])
    loss, g_w = module.loss_and_gradient(w)
    assert loss == np.sum((w - 1) ** 2) + np.sum(w ** 4)
    np.testing.assert_allclose(g_w, 2 * (w - 1) + 4 * w ** 3, rtol=1e-15)
    assert cli.main(["check", str(path)]) == 0


def test_seven_dimensions_get_letters_and_too_many_are_refused_by_name():
    """A deep loop of seven widths used to fail with IndexError (six index letters)."""
    from symdl.model import INDEX_LETTERS, Model
    model = Model("wide_loop", title="t", source="none")
    for i in range(7):
        model.param(f"w{i}", (f"H{i}",))
    assert len({model.index(f"H{i}") for i in range(7)}) == 7
    for i in range(7, len(INDEX_LETTERS)):
        model.param(f"w{i}", (f"H{i}",))
    with pytest.raises(DerivationError, match="needs an index letter.*share a dimension name"):
        model.param("w_last", ("H_last",))
