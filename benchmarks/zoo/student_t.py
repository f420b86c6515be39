"""Linear regression with a Student-t loss (ν = 3) and a learned log-scale."""

import sympy as sp

from symdl.model import Model

NU = 3

derivation = Model("student_t", title="Student-t regression, ν = 3", source="W8 zoo",
                   reduction="mean")
x = derivation.data("x", ("n",))
y = derivation.target("y")
w = derivation.param("w", ("n",))
b = derivation.param("b")
log_s = derivation.param("log_s")
y_hat = derivation.affine("y_hat", w, x, b)
r = derivation.let("r", (y - y_hat) * sp.exp(-log_s))
derivation.loss(log_s + sp.Rational(NU + 1, 2) * sp.log(1 + r**2 / NU))
derivation.output(y_hat)
