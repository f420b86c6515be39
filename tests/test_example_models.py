"""The models of examples/models/, none of them from the documents, through every command.

They are the models a new user writes from the README (issue 7): a deep network declared in
a loop, Huber and log-cosh regression, two-input regression, softmax regression, a deep ReLU
network in the blas layout, Poisson regression. Each is derived (text and LaTeX), generated
into a folder of its own, and checked three ways: kernel, SymPy, finite differences.
"""

from pathlib import Path

import pytest
import sympy as sp

from symdl import check, sources
from symdl.derive import Derived, chain_rule
from symdl.functions import relu, sigmoid, softplus
from symdl.generate import files
from symdl.render import render

EXAMPLES = Path(__file__).parent.parent / "examples" / "models"
MODELS = sorted(p.stem for p in EXAMPLES.glob("*.py"))


@pytest.fixture
def folder(example_models):
    """A copy of the examples outside the repository, kernels generated beside them."""
    return example_models


@pytest.mark.parametrize("name", MODELS)
def test_example_derives_generates_and_checks(folder, name):
    derivation = sources.load_derivation(folder / f"{name}.py")
    text = render(derivation)
    assert "∂ℓ" in text and ("The chain rule for" in text or "The derivative with respect to" in text)
    assert r"\begin{align*}" in render(derivation, latex=True)
    assert files.stale([folder / f"{name}.py"]) == []
    rows = check.check_model(derivation)
    assert rows and all(r.verdict == "passes" for r in rows), [(r.claim, r.evidence) for r in rows]


def test_every_example_has_a_docstring_and_training():
    for name in MODELS:
        text = (EXAMPLES / f"{name}.py").read_text()
        assert text.startswith('"""') and "Training(" in text, name


@pytest.mark.parametrize("function", [sigmoid, softplus, relu])
def test_latex_of_powers_of_symdl_functions(function):
    t = sp.Symbol("t", real=True)
    assert sp.latex(function(t) ** 2).endswith("}^{2}")
    assert "^{3}" in sp.latex(function(function(t)) ** 3)


def test_a_parameter_reached_by_two_routes_prints_each_route_and_their_sum(tmp_path):
    path = tmp_path / "shared_weight.py"
    path.write_text('''import sympy as sp
from symdl.model import Model
derivation = Model("shared_weight", title="w used twice", source="a test")
x = derivation.data("x")
y = derivation.target("y")
w = derivation.param("w")
h = derivation.let("h", sp.tanh(w * x))
y_hat = derivation.let("y_hat", w * h)
derivation.loss((y - y_hat) ** 2)
''')
    model = sources.load_derivation(path)
    text = render(model)
    assert "route 1 of 2" in text and "route 2 of 2" in text
    assert "w is reached by 2 routes; ∂ℓ/∂w is their sum:" in text
    derived = Derived(model)
    w, x = model.tensor("w").symbol, model.tensor("x").symbol
    h, y_hat = model.tensor("h").symbol, model.tensor("y_hat").symbol
    routes = [sp.Mul(*[f.value for f in route]) for route in chain_rule(derived, model.tensor("w"))]
    total = sum(routes).subs(y_hat, w * h).subs(h, sp.tanh(w * x))
    assert sp.simplify(total - sp.diff(derived.fully_composed_loss, w)) == 0
    assert "route 2 of 2" in render(model, latex=True)
