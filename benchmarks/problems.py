"""The data and hyper-parameters of each workload, built the same way for every implementation.

Every problem is generated from a fixed seed, so two runs (and two implementations) see the
same numbers. Arrays are C-contiguous NumPy arrays; implementations convert them to their own
array type once, when they are built.
"""

import gzip
import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# ---------------------------------------------------------------- W1: logistic regression


@dataclass
class LogisticProblem:
    """W1: full-batch gradient descent on mean binary cross-entropy.

    J(θ) = mean(softplus(z) − y·z) with z = Xθ; ∇J = Xᵀ(σ(z) − y)/m; θ starts at zeros.
    """

    X: np.ndarray  # (m, n) float64, column 0 all ones (the bias)
    y: np.ndarray  # (m,) float64 in {0, 1}
    lr: float = 0.5
    epochs: int = 50

    @property
    def m(self) -> int:
        return self.X.shape[0]


def logistic(m: int = 200_000, n: int = 32, seed: int = 0) -> LogisticProblem:
    """Standard-normal features with column 0 overwritten by ones (the bias); y ~ Bernoulli(σ(X θ_true)).

    X is made in one allocation and filled in place, so a process holds exactly one copy of it.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    X[:, 0] = 1.0
    theta_true = rng.standard_normal(n) / np.sqrt(n)
    p = 1.0 / (1.0 + np.exp(-(X @ theta_true)))
    y = (rng.random(m) < p).astype(np.float64)
    return LogisticProblem(X=X, y=y)


# ---------------------------------------------------------------- W2: two-layer sigmoid net


@dataclass
class TwoLayerProblem:
    """W2 (doc 001): 2 inputs → H sigmoid units → 1 sigmoid output, mean cross-entropy.

    Parameters, in this order everywhere: W1 (H, 2), b1 (H,), w2 (H,), b2 (a Python float).
    z1 = x @ W1.T + b1, a1 = σ(z1), z2 = a1 @ w2 + b2, loss = mean(softplus(z2) − c·z2).
    """

    x: np.ndarray  # (m, 2) float64
    c: np.ndarray  # (m,) float64 labels in {0, 1}
    hidden: int
    lr: float = 1.0
    epochs: int = 50

    def init_params(self):
        """W1, w2 ~ N(0, 1)·sqrt(1/fan_in) from default_rng(0), drawn W1 first; biases 0."""
        rng = np.random.default_rng(0)
        W1 = rng.standard_normal((self.hidden, 2)) * np.sqrt(1.0 / 2)
        w2 = rng.standard_normal(self.hidden) * np.sqrt(1.0 / self.hidden)
        return W1, np.zeros(self.hidden), w2, 0.0


def two_moons(m: int = 100_000, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles plus Gaussian noise; class 0 on top, class 1 below."""
    rng = np.random.default_rng(seed)
    top = m // 2
    t = rng.uniform(0.0, np.pi, size=m)
    x = np.empty((m, 2))
    x[:top, 0], x[:top, 1] = np.cos(t[:top]), np.sin(t[:top])
    x[top:, 0], x[top:, 1] = 1.0 - np.cos(t[top:]), 0.5 - np.sin(t[top:])
    x += noise * rng.standard_normal((m, 2))
    c = np.zeros(m)
    c[top:] = 1.0
    return x, c


def two_layer(hidden: int, m: int = 100_000) -> TwoLayerProblem:
    x, c = two_moons(m)
    return TwoLayerProblem(x=x, c=c, hidden=hidden)


# ---------------------------------------------------------------- W3: the MNIST model of doc 002


@dataclass
class MnistProblem:
    """W3 (doc 002): 784 → 512 ReLU → 10 softmax, sparse categorical cross-entropy, float32.

    RMSprop in the Keras form: v ← ρv + (1−ρ)g², p ← p − lr·g/sqrt(v + eps).
    Parameters, in this order everywhere: W1 (512, 784), b1 (512,), W2 (10, 512), b2 (10,).
    Mini-batches of 128 in a freshly shuffled order each epoch; the last partial batch is used.
    """

    x: np.ndarray  # (n_train, 784) float32 in [0, 1]
    y: np.ndarray  # (n_train,) int64 digit labels
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # where the digits came from, for the report
    lr: float = 1e-3
    rho: float = 0.9
    eps: float = 1e-7
    batch: int = 128
    epochs: int = 5
    seed: int = 0

    def init_params(self):
        """Glorot-uniform weights (limit sqrt(6/(fan_in+fan_out))) from a fixed seed, zero biases."""
        rng = np.random.default_rng(self.seed)

        def glorot(fan_out, fan_in):
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            return rng.uniform(-limit, limit, size=(fan_out, fan_in)).astype(np.float32)

        W1 = glorot(512, 784)
        W2 = glorot(10, 512)
        return W1, np.zeros(512, np.float32), W2, np.zeros(10, np.float32)

    def epoch_orders(self, epochs: int):
        """The shuffled sample order of each epoch: the same for every implementation and run."""
        rng = np.random.default_rng(self.seed + 1)
        return [rng.permutation(len(self.y)) for _ in range(epochs)]


# The official MNIST test set (the only MNIST files we have), and its published md5 sums.
MNIST_FILES = {
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
_REPO = Path(__file__).resolve().parent.parent
MNIST_DIRS = (_REPO / "symdl" / "data" / "mnist", _REPO.parent / "shared" / "data" / "mnist")


def _read_idx(path: Path) -> np.ndarray:
    """Decode one gzip'd IDX file (big-endian header: magic, then one uint32 per dimension)."""
    raw = path.read_bytes()
    if hashlib.md5(raw).hexdigest() != MNIST_FILES[path.name]:
        raise ValueError(f"{path}: md5 does not match the official MNIST file")
    data = gzip.decompress(raw)
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:  # 0x08: unsigned bytes, the only type MNIST uses
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _decode_mnist(n_train: int, n_test: int):
    for folder in MNIST_DIRS:
        if all((folder / name).exists() for name in MNIST_FILES):
            images = _read_idx(folder / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)
            labels = _read_idx(folder / "t10k-labels-idx1-ubyte.gz")
            x = images.astype(np.float32) / 255.0
            y = labels.astype(np.int64)
            source = f"decoded from {folder}"
            return x[:n_train], y[:n_train], x[-n_test:], y[-n_test:], source
    raise FileNotFoundError(f"MNIST IDX files not found in any of {[str(d) for d in MNIST_DIRS]}")


def mnist(n_train: int = 8000, n_test: int = 2000) -> MnistProblem:
    """The real digits: the first n_train of the 10,000 official test images train, the last n_test test.

    Uses ``symdl.datasets.mnist`` when that module exists, else decodes the IDX files here.
    Pixels are scaled to [0, 1] float32 (doc 002 feeds raw 0..255 values to Keras; we do not).
    """
    try:
        from symdl import datasets
    except ImportError:
        x, y, x_test, y_test, source = _decode_mnist(n_train, n_test)
    else:
        data = datasets.mnist(n_train, n_test)
        x, y = np.asarray(data.x), np.asarray(data.y)
        x_test, y_test = np.asarray(data.x_test), np.asarray(data.y_test)
        source = "symdl.datasets.mnist"

    def as_features(a):
        a = np.ascontiguousarray(a.reshape(len(a), -1), dtype=np.float32)
        return a / 255.0 if a.max() > 1.0 else a  # accept both raw bytes and [0, 1] scaling

    return MnistProblem(
        x=as_features(x),
        y=np.asarray(y, dtype=np.int64),
        x_test=as_features(x_test),
        y_test=np.asarray(y_test, dtype=np.int64),
        source=source,
    )
