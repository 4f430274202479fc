"""Our numpy Sobol sequence: scipy's sequence unscrambled, a (t, m, s)-net scrambled."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from katib_suggestion.backends import sobol_sequence
from katib_suggestion.backends.sobol_sequence import MAX_DIMENSIONS, sobol
from katib_validators.budget import MAX_PARAMETERS
from scipy.stats import qmc


def test_the_shipped_direction_numbers_are_scipys_first_rows():
    """sobol_directions.npz (so the optuna image needs no scipy) = the first rows of scipy's table."""
    scipy_dir = Path(importlib.util.find_spec("scipy").submodule_search_locations[0])
    with np.load(scipy_dir / "stats" / "_sobol_direction_numbers.npz") as data:
        polys, vinit = data["poly"][:MAX_DIMENSIONS], data["vinit"][:MAX_DIMENSIONS]
    ours = sobol_sequence._joe_kuo()
    np.testing.assert_array_equal(ours[0], polys)
    np.testing.assert_array_equal(ours[1], vinit)
    assert MAX_DIMENSIONS >= MAX_PARAMETERS, "every experiment Validate accepts has a dimension per parameter"


def test_the_last_shipped_dimension_equals_scipy():
    np.testing.assert_array_equal(sobol(MAX_DIMENSIONS, 0, 64, seed=None),
                                  qmc.Sobol(MAX_DIMENSIONS, scramble=False).random(64))


@pytest.mark.parametrize("dim", [1, 2, 5, 12])
def test_unscrambled_equals_scipy(dim):
    ours = sobol(dim, 0, 256, seed=None)
    theirs = qmc.Sobol(dim, scramble=False).random(256)
    np.testing.assert_array_equal(ours, theirs)


def test_fast_forward_continues_the_sequence():
    whole = sobol(6, 0, 100, seed=7)
    np.testing.assert_array_equal(sobol(6, 37, 63, seed=7), whole[37:])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scrambled_points_stratify_every_dimension(seed):
    points = sobol(8, 0, 64, seed=seed)
    for column in points.T:
        assert sorted(np.floor(column * 64).astype(int)) == list(range(64))


def test_scrambled_first_two_dimensions_form_a_net():
    points = sobol(2, 0, 64, seed=3)
    # every elementary box of volume 1/64 (8x8, 4x16, 16x4, ...) holds exactly one point
    for bits_x in range(7):
        cells = {(int(x * 2**bits_x), int(y * 2 ** (6 - bits_x))) for x, y in points}
        assert len(cells) == 64


def test_seeds_give_different_sequences_in_range():
    a, b = sobol(4, 0, 32, seed=1), sobol(4, 0, 32, seed=2)
    assert not np.array_equal(a, b)
    assert ((a >= 0) & (a < 1)).all()
