"""symdl shortens OpenMP's idle spin, unless the user chose (symdl/threads.py)."""

import os
import subprocess
import sys

import pytest

CHOICES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def settings_after_import(**variables):
    env = {k: v for k, v in os.environ.items() if k not in CHOICES} | variables
    done = subprocess.run([sys.executable, "-c", "import os, symdl; print(*(os.environ.get(n, "
                           "'unset') for n in ('OMP_WAIT_POLICY', 'GOMP_SPINCOUNT')))"],
                          env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("variables, expected", [
    ({}, "unset 10000"),
    ({"OMP_WAIT_POLICY": "active"}, "active unset"),
    ({"GOMP_SPINCOUNT": "300000"}, "unset 300000"),
])
def test_the_spin_is_short_unless_chosen(variables, expected):
    assert settings_after_import(**variables) == expected


def test_lbfgs_bookkeeping_runs_on_one_blas_thread_and_the_kernels_on_all():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from symdl import threads

    def blas_threads():
        return {lib["num_threads"] for lib in threadpoolctl.threadpool_info()
                if lib["user_api"] == "blas"}

    before = blas_threads()
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        with threads.serial_blas() as all_blas_threads:
            assert blas_threads() == {1}
            with all_blas_threads():
                assert blas_threads() == {2}
            assert blas_threads() == {1}
        assert blas_threads() == {2}
    assert blas_threads() == before


def test_kernels_without_blas_are_not_switched_back():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from symdl import threads
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        with threads.serial_blas(kernels_use_blas=False) as all_blas_threads:
            with all_blas_threads():
                assert {lib["num_threads"] for lib in threadpoolctl.threadpool_info()
                        if lib["user_api"] == "blas"} == {1}
