"""symdl asks OpenMP's idle threads to sleep, unless the user chose (symdl/threads.py)."""

import os
import subprocess
import sys

import pytest

CHOICES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def policy_after_import(**variables):
    env = {k: v for k, v in os.environ.items() if k not in CHOICES} | variables
    done = subprocess.run([sys.executable, "-c", "import os, symdl; "
                           "print(os.environ.get('OMP_WAIT_POLICY', 'unset'))"],
                          env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("variables, expected", [
    ({}, "passive"),
    ({"OMP_WAIT_POLICY": "active"}, "active"),
    ({"GOMP_SPINCOUNT": "300000"}, "unset"),
])
def test_the_wait_policy_is_passive_unless_chosen(variables, expected):
    assert policy_after_import(**variables) == expected
