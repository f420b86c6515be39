"""A deep loop of layers: n → 16 softplus, then five more 16 → 16 softplus, → 1 sigmoid.

Every hidden layer shares the dimension H. Written first with one dimension per layer
(H1 … H6, as examples/models/deep_tanh_classifier.py names its two), the file was refused:
symdl names each dimension's index with a letter of model.INDEX_LETTERS (j, k, l, c, r, s,
less any tensor's name: c is the target here), and after n and H1 … H4 none was left for
H5 ("deep_loop.py is broken: IndexError at line 16: list index out of range").
"""

import sympy as sp

from symdl.functions import sigmoid, softplus
from symdl.model import Model, Training

DEPTH = 6

derivation = Model("deep_loop", title="Six softplus layers in a loop", source="W8 zoo",
                   reduction="mean", training=Training(sizes={"H": 16}))
x = derivation.data("x", ("n",))
c = derivation.target("c", kind="binary")
h, previous = x, "n"
for i in range(1, DEPTH + 1):
    W = derivation.param(f"W{i}", ("H", previous))
    b = derivation.param(f"b{i}", ("H",))
    h, previous = derivation.let(f"h{i}", softplus(derivation.affine(f"z{i}", W, h, b))), "H"
w_out = derivation.param("w_out", ("H",))
b_out = derivation.param("b_out")
p = derivation.let("p", sigmoid(derivation.affine("z_out", w_out, h, b_out)))
derivation.loss(-c * sp.log(p) - (1 - c) * sp.log(1 - p))
derivation.output(p)
