"""A gated model of two inputs: ŷ = σ(v·u + c) · (w·x + b), squared error.

Two data tensors per sample, x of n features and u of d, in that order.
"""

from symdl.functions import sigmoid
from symdl.model import Model

derivation = Model("gated_two_inputs", title="A gate on a second input", source="W8 zoo",
                   reduction="mean")
x = derivation.data("x", ("n",))
u = derivation.data("u", ("d",))
y = derivation.target("y")
w = derivation.param("w", ("n",))
b = derivation.param("b")
v = derivation.param("v", ("d",))
c = derivation.param("c")
# named "gate", not "g": symdl refuses g ("'g' is a name the generated kernels use themselves")
gate = derivation.let("gate", sigmoid(derivation.affine("s", v, u, c)))
y_hat = derivation.let("y_hat", gate * derivation.affine("z", w, x, b))
derivation.loss((y - y_hat) ** 2)
derivation.output(y_hat)
