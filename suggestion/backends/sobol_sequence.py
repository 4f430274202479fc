"""A scrambled Sobol sequence in numpy, without scipy (~145 MB in an image, ~70 MiB resident for scipy.stats).

Katib's default suggestion memory limit is 100Mi and ``scipy.stats.qmc`` alone
takes a server from ~30 to ~100 MiB, so the sequence is built here with the
Gray-code construction (Antonov-Saleev), scrambled with a random lower
triangular bit matrix and a digital shift (Matousek's linear matrix
scrambling). The Joe-Kuo direction numbers (new-joe-kuo-6.21201, BSD-style
licence, as scipy ships them) of the first MAX_DIMENSIONS dimensions are in
sobol_directions.npz next to this module: the optuna image needs no scipy.
Unscrambled, the output equals scipy's ``Sobol(scramble=False)`` bit for bit,
and the shipped table equals scipy's first rows (tests/test_sobol_sequence.py).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np

# Katib's position counter is an int32, and a call reads up to ~2,000 points past it:
# 32 bits cover every position it can send (scipy's default of 30 stops at 2**30).
# The first 2**30 points unscrambled are scipy's, bit for bit.
BITS = 32
# One dimension per parameter; ValidateAlgorithmSettings accepts at most 1,000 parameters
# (katib_validators.budget.MAX_PARAMETERS).
MAX_DIMENSIONS = 1000
DIRECTIONS = "sobol_directions.npz"


@cache
def _joe_kuo() -> tuple[np.ndarray, np.ndarray]:
    with resources.files(__package__).joinpath(DIRECTIONS).open("rb") as file, np.load(file) as data:
        return data["poly"].astype(np.int64), data["vinit"].astype(np.int64)


def direction_numbers(dim: int) -> np.ndarray:
    """V[j, k]: the k-th direction number of dimension j, as BITS-bit integers."""
    polys, vinit = _joe_kuo()
    if dim > len(polys):
        raise ValueError(f"Sobol supports at most {len(polys)} dimensions, got {dim}")
    m = np.zeros((dim, BITS), dtype=np.uint64)
    for j in range(dim):
        poly = int(polys[j])
        degree = poly.bit_length() - 1
        if degree == 0:  # the first dimension is van der Corput's sequence
            m[j, :] = 1
            continue
        m[j, :degree] = vinit[j, :degree]
        for k in range(degree, BITS):
            value = int(m[j, k - degree]) ^ (int(m[j, k - degree]) << degree)
            for i in range(1, degree):
                if (poly >> (degree - i)) & 1:  # coefficient a_i of the primitive polynomial
                    value ^= int(m[j, k - i]) << i
            m[j, k] = value
    shifts = np.array([BITS - 1 - k for k in range(BITS)], dtype=np.uint64)
    return m << shifts


def _scramble(v: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Left-multiply each dimension's direction numbers by a random unit lower triangular
    bit matrix (most significant bit first), and draw a digital shift."""
    dim = v.shape[0]
    scrambled = np.zeros_like(v)
    for j in range(dim):
        lower = np.tril(rng.integers(0, 2, size=(BITS, BITS)), -1) + np.eye(BITS, dtype=np.int64)
        # output bit i (from the top) is the parity of the input bits selected by row i
        masks = [sum(1 << (BITS - 1 - c) for c in np.flatnonzero(row)) for row in lower]
        for k in range(BITS):
            word = int(v[j, k])
            out = 0
            for i, mask in enumerate(masks):
                out |= (bin(word & mask).count("1") & 1) << (BITS - 1 - i)
            scrambled[j, k] = out
    shift = rng.integers(0, 2**BITS, size=dim, dtype=np.uint64)
    return scrambled, shift


def sobol(dim: int, start: int, count: int, seed: int | None) -> np.ndarray:
    """Points start .. start+count-1 of the sequence, in [0, 1); seed None leaves it unscrambled."""
    if not 0 <= start <= start + count <= 2**BITS:
        raise ValueError(f"Sobol positions run from 0 to {2**BITS}, asked for {start} .. {start + count}")
    v = direction_numbers(dim)
    shift = np.zeros(dim, dtype=np.uint64)
    if seed is not None:
        v, shift = _scramble(v, np.random.default_rng(seed))
    gray = start ^ (start >> 1)
    state = np.zeros(dim, dtype=np.uint64)
    for k in range(BITS):
        if (gray >> k) & 1:
            state ^= v[:, k]
    points = np.empty((count, dim))
    for row, index in enumerate(range(start, start + count)):
        points[row] = (state ^ shift).astype(np.float64) / 2.0**BITS
        if row + 1 < count:
            lowest_zero = (~index & (index + 1)).bit_length() - 1  # Gray code: flip one bit per step
            state ^= v[:, lowest_zero]
    return points
