"""W9: what a scikit-learn user gets with default settings (issue 18's table).

symdl's estimators with their defaults against scikit-learn's with theirs, side by side in one
process, on the same data and the same split (75/25, seed 0), every X through a StandardScaler
fitted on the training rows (as a practitioner's pipeline has it):

| data | symdl | scikit-learn |
|---|---|---|
| breast_cancer, make_classification 100k×50 | SymdlClassifier("elastic_net_logistic"): C = 1/α = 1, l1_ratio 0 | LogisticRegression() |
| digits, wine, iris (several classes) | SymdlClassifier("multinomial_logistic"): C = 1/α = 1 | LogisticRegression() |
| diabetes | SymdlRegressor("ridge_regression"): α = 1 | Ridge(), and LinearRegression() (the unpenalised optimum) |
| make_moons 10k | SymdlClassifier("mlp_classifier"), its 16 ReLU units | MLPClassifier() (100 ReLU units) |

For each: the test metric of both (accuracy, or R² for diabetes) and their difference (symdl −
scikit-learn; the issue's target: within 0.005), and the fit time of each, the median of the
timed fits after one untimed fit (which compiles symdl's kernels; the cold start is W7's), and
their ratio (symdl ÷ scikit-learn; the target: ≤ 0.5), with symdl's iterations and why it
stopped.

Every symdl model here is a built-in whose penalty defaults to scikit-learn's (C = 1,
alpha = 1): the defaults are what is compared.

    python -m benchmarks.w9_sklearn_defaults [--quick] [--repeats N] [--only NAMES]
"""

from benchmarks import environment

environment.configure()  # thread settings before NumPy and Numba load
import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Callable  # noqa: E402


from benchmarks import harness  # noqa: E402

MULTINOMIAL = ("multinomial_logistic",)
"""The built-in multinomial model (softmax regression with scikit-learn's L2 penalty)."""
RIDGE = ("ridge_regression",)
"""The built-in ridge regression (scikit-learn's Ridge objective)."""

FULL = dict(big=100_000, moons=10_000, repeats=3)
QUICK = dict(big=20_000, moons=2_000, repeats=1)
SMALL_REPEATS = 15
"""Timed fits of each estimator on the five small data sets, whatever --repeats says (at
least): their fits take milliseconds, where another job's time slice is of the same size."""

IN_A_ROW = 20
"""The small data sets are also timed back to back: rounds of this many fits of one
estimator in a row, the two alternating round by round, the median round ÷ IN_A_ROW. The
harness's pause before each timed call (0.1 s, for a shared machine) leaves the caches and
the clock cold, which adds about 2.5 ms to every one-fit timing of either library here
(diabetes: 3.4 against 0.87 ms for symdl, 2.5 against 0.61 for scikit-learn): a constant
that pulls a ratio of millisecond fits towards 1. Back to back is what a fit costs inside
GridSearchCV or cross_val_score."""
ROUNDS_IN_A_ROW = 7


@dataclass
class Case:
    name: str
    load: Callable  # () -> (X, y)
    symdl: Callable  # () -> an unfitted symdl estimator
    sklearn: dict  # label -> () -> an unfitted scikit-learn estimator
    regression: bool = False
    small: bool = True  # a fit of milliseconds: timed SMALL_REPEATS times at least


def builtin(names):
    """The first of `names` that symdl has as a built-in model, or None."""
    from symdl import sources
    have = set(sources.builtin_names())
    return next((n for n in names if n in have), None)


def multiclass_symdl():
    from sklearn.multiclass import OneVsRestClassifier

    from symdl.sklearn import SymdlClassifier
    model = builtin(MULTINOMIAL)
    return SymdlClassifier(model) if model else OneVsRestClassifier(
        SymdlClassifier("logistic_regression"))


def regression_symdl():
    from symdl.sklearn import SymdlRegressor
    return SymdlRegressor(builtin(RIDGE) or "multivariate_least_squares")


def cases(size) -> list[Case]:
    from sklearn import datasets
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier

    from symdl.sklearn import SymdlClassifier

    def logistic():
        return {"LogisticRegression()": LogisticRegression}

    def binary():
        return SymdlClassifier("elastic_net_logistic")  # l1_ratio 0: LogisticRegression()

    return [
        Case("breast_cancer", lambda: datasets.load_breast_cancer(return_X_y=True), binary,
             logistic()),
        Case("digits", lambda: datasets.load_digits(return_X_y=True), multiclass_symdl,
             logistic()),
        Case("wine", lambda: datasets.load_wine(return_X_y=True), multiclass_symdl, logistic()),
        Case("iris", lambda: datasets.load_iris(return_X_y=True), multiclass_symdl, logistic()),
        Case("diabetes", lambda: datasets.load_diabetes(return_X_y=True), regression_symdl,
             {"Ridge()": Ridge, "LinearRegression()": LinearRegression}, regression=True),
        Case(f"make_classification {size['big'] // 1000}k×50",
             lambda: datasets.make_classification(size["big"], 50, n_informative=10,
                                                  random_state=0), binary, logistic(),
             small=False),
        Case(f"make_moons {size['moons'] // 1000}k",
             lambda: datasets.make_moons(size["moons"], noise=0.2, random_state=0),
             lambda: SymdlClassifier("mlp_classifier"),
             {"MLPClassifier()": lambda: MLPClassifier(random_state=0)}, small=False),
    ]


def back_to_back(fits) -> dict:
    """{label: seconds per fit} of each estimator's fits IN_A_ROW at a time, the estimators
    alternating round by round (`IN_A_ROW`)."""
    rounds: dict = {label: [] for label in fits}
    for round_ in range(ROUNDS_IN_A_ROW):
        labels = list(fits)[round_ % 2:] + list(fits)[:round_ % 2]
        for label in labels:
            start = time.perf_counter()
            for _ in range(IN_A_ROW):
                fits[label]()
            rounds[label].append((time.perf_counter() - start) / IN_A_ROW)
    return {label: statistics.median(seconds) for label, seconds in rounds.items()}


def split(case):
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    X, y = case.load()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def described(estimator) -> str:
    inner = getattr(estimator, "estimator", None)
    if inner is not None:
        return f"one-vs-rest {described(inner)}"
    return f"{type(estimator).__name__}({estimator.model!r})"


def optimizer_of(estimator) -> str:
    fitted = getattr(estimator, "estimators_", [estimator])
    return ", ".join(sorted({e.result_.settings.get("optimizer", "") for e in fitted}))


def stop_of(estimator) -> str:
    fitted = getattr(estimator, "estimators_", [estimator])
    return ", ".join(sorted({f"{e.n_iter_} {e.result_.stop_reason}" for e in fitted}))


def run(quick: bool, repeats=None, only=None) -> bool:
    size = QUICK if quick else FULL
    repeats = size["repeats"] if repeats is None else repeats
    print(f"\n## W9 scikit-learn's defaults against symdl's (issue 18), {repeats} timed fit(s) "
          f"after one untimed\n", flush=True)
    rows = []
    for case in cases(size):
        if only and case.name.split()[0] not in only:
            continue
        X_train, X_test, y_train, y_test = split(case)
        candidates = {"symdl": case.symdl, **case.sklearn}
        fitted, fits = {}, {}
        for label, make in candidates.items():
            def fit(make=make, label=label):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    fitted[label] = make().fit(X_train, y_train)
                fitted[label].warned_ = any("Convergence" in w.category.__name__ for w in caught)
                return fitted[label]
            fits[label] = fit
        timings = harness.time_interleaved(
            fits, max(repeats, SMALL_REPEATS) if case.small and not quick else repeats)
        in_a_row = back_to_back(fits) if case.small else None
        ours = fitted["symdl"]
        for label in case.sklearn:
            theirs = fitted[label]
            mine, other = ours.score(X_test, y_test), theirs.score(X_test, y_test)
            rows.append([case.name, described(ours), label,
                         f"{mine:.4f}", f"{other:.4f}", f"{mine - other:+.4f}",
                         harness.fmt_seconds(timings["symdl"].median),
                         harness.fmt_seconds(timings[label].median),
                         f"{timings['symdl'].median / timings[label].median:.2f}",
                         "" if in_a_row is None else (
                             f"{harness.fmt_seconds(in_a_row['symdl'])} / "
                             f"{harness.fmt_seconds(in_a_row[label])} = "
                             f"{in_a_row['symdl'] / in_a_row[label]:.2f}"),
                         stop_of(ours) + (" (warned)" if ours.warned_ else ""),
                         "yes" if theirs.warned_ else "",
                         optimizer_of(ours), f"{os.getloadavg()[0]:.2f}"])
    print(harness.markdown_table(
        ["data", "symdl", "scikit-learn", "symdl test", "sklearn test", "difference",
         "symdl fit", "sklearn fit", "time ratio", "back to back: symdl / sklearn = ratio",
         "symdl epochs, stop", "sklearn warned",
         "symdl optimizer", "load after"],
        rows))
    print(f"\nTest metric: accuracy, R² for diabetes. Time ratio: symdl ÷ scikit-learn (below 1: "
          f"symdl faster); the small data sets' times are the median of at least "
          f"{SMALL_REPEATS} fits, each after the harness's pause; back to back: the median of "
          f"{ROUNDS_IN_A_ROW} rounds of {IN_A_ROW} fits in a row (IN_A_ROW). Load after: the 1-minute load average as the case's timing "
          f"ended ({environment.load_note()} at the end). Penalties: symdl's built-ins default "
          f"to scikit-learn's (C = 1/α = 1 for LogisticRegression(), α = 1 for Ridge()); "
          f"LinearRegression() is the unpenalised optimum beside them.", flush=True)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"make_classification {QUICK['big']:,} rows, moons {QUICK['moons']:,}, "
                             f"one timed fit")
    parser.add_argument("--repeats", type=int, help="timed fits per estimator")
    parser.add_argument("--only", help="comma-separated data set names (first word)")
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",")} if args.only else None
    command = "python -m benchmarks.w9_sklearn_defaults " + " ".join(
        sys.argv[1:] if argv is None else argv)
    print("# symdl benchmarks: W9\n")
    print(environment.header(command.strip()), flush=True)
    return 0 if run(args.quick, args.repeats, only) else 1


if __name__ == "__main__":
    import symdl  # noqa: F401  its OpenMP wait policy (symdl/threads.py), before the first parallel call

    sys.exit(main())
