"""The errors symdl raises: each names the problem in words a user can act on."""


class SymdlError(Exception):
    """Base class for every error symdl raises on purpose."""


class DataError(SymdlError, ValueError):
    """Training or evaluation data is unusable: empty, NaN/inf, mismatched shapes, bad labels."""


class SingularError(SymdlError, ArithmeticError):
    """A closed form needs a matrix inverse that does not exist (a singular design matrix)."""


class DivergenceError(SymdlError, ArithmeticError):
    """Training produced a non-finite or exploding loss; the step size is likely too large."""


class DerivationError(SymdlError):
    """A derivation file is malformed, or symdl's symbolic and numeric results disagree."""


class SavedModelError(SymdlError):
    """A saved model file is missing, unreadable, or was trained with kernels that changed."""


class SettingsError(SymdlError, ValueError):
    """A training setting is out of range or unknown (epochs, step size, optimizer, init, ...)."""


class IllConditionedWarning(UserWarning):
    """A closed form was solved, but its Hessian is so ill-conditioned that digits are lost."""


class DivergenceWarning(UserWarning):
    """J rose the way a diverging run does, and `fit(divergence="warn")` asked to go on."""


class ConvergenceWarning(UserWarning):
    """Training used its whole budget of epochs before its stopping test (`tol`) was met.

    symdl.sklearn's estimators re-issue it as a subclass of scikit-learn's own
    ConvergenceWarning, so that filtering scikit-learn's category silences them too.
    """
