"""Every implementation of every workload: name -> factory. The one place to add one.

A factory is called with the workload's problem (problems.py) and returns a trainer
(interfaces.py). A factory that raises ImportError shows as "not installed" in the report;
any other exception is reported as a failure. The first entry, "numpy", is the reference
every other implementation is checked against and the baseline of every speed ratio.

symdl's entries are already here: they import ``symdl.generated.<module>`` when the workload
runs and read "not installed" until the generator has written that module. If the generator
picks other module names or signatures, change the lines marked SYMDL below; the expected
kernel signatures are in adapters.py. (Generated modules found so far: logistic_regression,
two_layer_network, mnist_mlp.)
"""

import importlib

from benchmarks import adapters, numba_kernels, references
from benchmarks.interfaces import Snippet

BASELINE = "numpy"


def import_generated(module: str):
    """Import a generated kernel module: installed as symdl.generated, or from a source checkout.

    In an installed symdl the top-level ``generated/`` folder is ``symdl.generated``; when
    running from a checkout that is not installed it is importable as ``generated``.
    """
    for package in ("symdl.generated", "generated"):
        name = f"{package}.{module}"
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name not in (name, package, package.split(".")[0]):
                raise  # the module exists but something it imports is missing: a real error
    raise ImportError(f"symdl.generated.{module} has not been generated yet")


def symdl_kernel(module: str, adapter):
    """A factory for ``loss_and_gradient`` of symdl.generated.<module>.

    Whether it returns sums or means is read from the module's ``SPEC["reduction"]``
    (sums, as in doc 003, when the module does not say).
    """

    def factory(problem):
        kernels = import_generated(module)
        reduction = getattr(kernels, "SPEC", {}).get("reduction", "sum")
        return adapter(kernels.loss_and_gradient, reduction)(problem)

    return factory


W1 = {
    "numpy": references.w1_numpy,
    "torch": references.w1_torch,
    "jax": references.w1_jax,
    "numba (hand-written)": adapters.w1_from_kernel(numba_kernels.logistic_loss_and_gradient, "sum"),
    "numba (hand-written, blocked)": adapters.w1_from_kernel(numba_kernels.logistic_blocked, "sum"),
    "symdl": symdl_kernel("logistic_regression", adapters.w1_from_kernel),  # SYMDL
}

W2 = {
    "numpy": references.w2_numpy,
    "torch": references.w2_torch,
    "jax": references.w2_jax,
    "numba (hand-written, blocked)": adapters.w2_from_kernel(numba_kernels.two_layer_blocked, "sum"),
    "symdl": symdl_kernel("two_layer_network", adapters.w2_from_kernel),  # SYMDL
}

W3 = {
    "numpy": references.w3_numpy,
    "torch": references.w3_torch,
    "jax": references.w3_jax,
    "symdl": symdl_kernel("mnist_mlp", adapters.w3_from_kernel),  # SYMDL
}

# W4: the code a fresh interpreter runs to get its first W1 gradient (see interfaces.Snippet).
W4 = {
    "python + numpy, no gradient": Snippet("pass"),
    "numpy": Snippet("g = X.T @ (1.0 / (1.0 + np.exp(-(X @ theta))) - y)"),
    "numba (hand-written)": Snippet(
        "from benchmarks.numba_kernels import logistic_loss_and_gradient as k\n"
        "loss, g = k(theta, X, y)",
        numba_cache=True,
    ),
    "torch": Snippet(
        "import torch\n"
        "t = torch.from_numpy(theta).requires_grad_()\n"
        "z = torch.from_numpy(X) @ t\n"
        "(torch.nn.functional.softplus(z) - torch.from_numpy(y) * z).mean().backward()\n"
        "g = t.grad",
        needs="torch",
    ),
    "jax": Snippet(
        "import jax\n"
        "jax.config.update('jax_enable_x64', True)\n"
        "import jax.numpy as jnp\n"
        "J = lambda t, X, y: jnp.mean(jax.nn.softplus(X @ t) - y * (X @ t))\n"
        "g = np.asarray(jax.jit(jax.grad(J))(theta, X, y))",
        needs="jax",
    ),
    "symdl": Snippet(  # SYMDL
        "from symdl.generated import logistic_regression as k\n"
        "loss, g = k.loss_and_gradient(theta, X, y)",
        needs="symdl.generated.logistic_regression",
        numba_cache=True,
    ),
}
