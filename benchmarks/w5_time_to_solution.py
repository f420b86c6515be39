"""W5: time to solution. W1's data (logistic regression, mean cross-entropy, θ₀ = 0) until
‖∇J‖₂ ≤ 1e-6, where J is the MEAN loss.

Every candidate starts from zeros in each timed run and is then checked by one independent
NumPy evaluation of ∇J at the θ it returned: a row that stopped short of the tolerance says
so in the table ("reached?"). symdl's logistic kernel sums over the samples and its tol is
on the largest gradient entry, so symdl's tolerance is m·1e-6/√n on the summed gradient, the
same condition as the others'.

- symdl newton / lbfgs / gd: `train.fit(..., optimizer=..., tol=...)`, end to end.
- scikit-learn: LogisticRegression(penalty=None, solver="lbfgs", fit_intercept=False) (column
  0 of X is the bias), tol = 1e-6/√n: its L-BFGS-B stops at max |∂J/∂θ| ≤ tol, which then
  implies ‖∇J‖₂ ≤ 1e-6 (its objective is the mean loss).
- torch.optim.LBFGS (strong Wolfe line search), float64, tolerance_grad = 1e-6/√n on the same
  max-norm, tolerance_change 0, at most 500 iterations.
"""


import numpy as np

from benchmarks import environment, harness, problems

FULL = dict(m=200_000, repeats=3)
QUICK = dict(m=20_000, repeats=2)
TOL = 1e-6


def mean_gradient(theta, X, y):
    """∇ of mean(softplus(Xθ) − y·Xθ) = Xᵀ(σ(Xθ) − y)/m, in NumPy."""
    z = X @ theta
    return X.T @ (0.5 * (1.0 + np.tanh(0.5 * z)) - y) / len(y)


def symdl_route(optimizer, X, y, **settings):
    from symdl import train

    def run():
        result = train.fit("logistic_regression", X, y, optimizer=optimizer,
                           tol=TOL * len(y) / np.sqrt(X.shape[1]),
                           **settings)
        return result.params["theta"], len(result.history)

    return run


def sklearn_route(X, y):
    from sklearn.linear_model import LogisticRegression

    def run():
        model = LogisticRegression(penalty=None, solver="lbfgs", fit_intercept=False,
                                   tol=TOL / np.sqrt(X.shape[1]), max_iter=1000)
        model.fit(X, y)
        return model.coef_.ravel().copy(), int(model.n_iter_[0])

    return run


def torch_route(X, y):
    torch = environment.import_torch()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def run():
        theta = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.LBFGS([theta], line_search_fn="strong_wolfe", max_iter=500,
                                      tolerance_grad=TOL / np.sqrt(X.shape[1]),
                                      tolerance_change=0.0, history_size=10)

        def closure():
            optimizer.zero_grad()
            z = Xt @ theta
            loss = (torch.nn.functional.softplus(z) - yt * z).mean()
            loss.backward()
            return loss

        optimizer.step(closure)
        return theta.detach().numpy().copy(), optimizer.state[theta]["n_iter"]

    return run


def run(quick: bool, repeats=None, only=None) -> bool:
    size = QUICK if quick else FULL
    problem = problems.logistic(size["m"])
    X, y = problem.X, problem.y
    print(f"\n## W5 time to solution: W1's data (m = {problem.m:,} × n = {X.shape[1]}) until "
          f"‖∇J‖₂ ≤ {TOL:g} (J the mean cross-entropy), from θ = 0\n", flush=True)
    routes = {
        "symdl newton": lambda: symdl_route("newton", X, y, epochs=100),
        "symdl lbfgs": lambda: symdl_route("lbfgs", X, y, epochs=1000),
        "symdl gd (lr 0.5 on the mean)": lambda: symdl_route("gd", X, y, epochs=5000,
                                                             learning_rate=0.5 / len(y)),
        "scikit-learn lbfgs": lambda: sklearn_route(X, y),
        "torch.optim.LBFGS": lambda: torch_route(X, y),
    }
    candidates, notes = {}, {}
    for name, make in routes.items():
        if only and not any(word in name for word in only):
            continue
        try:
            candidates[name] = make()
        except ImportError as error:
            notes[name] = f"not installed: {error}"
    with environment.OtherProcesses() as others:
        timings = harness.time_interleaved(candidates, size["repeats"] if repeats is None else repeats)
    baseline = "scikit-learn lbfgs" if "scikit-learn lbfgs" in timings else next(iter(timings))

    def gradient_norm(t):
        return float(np.linalg.norm(mean_gradient(t.result[0], X, y)))

    print(f"Time to solution ({size['repeats'] if repeats is None else repeats} interleaved "
          f"repeats after 1 warm-up, each from θ = 0); ‖∇J‖₂ recomputed in NumPy at the θ "
          f"returned.\n")
    print(harness.timing_table(
        timings, baseline, unit="to solution", notes=notes,
        extra={"iterations (epochs)": lambda t: str(t.result[1]),
               "‖∇J‖₂ at the end": lambda t: f"{gradient_norm(t):.1e}",
               "reached?": lambda t: "yes" if gradient_norm(t) <= TOL else "**no**"}))
    print(f"\n{others.note()}", flush=True)
    return all(gradient_norm(t) <= TOL for name, t in timings.items() if name.startswith("symdl "))
