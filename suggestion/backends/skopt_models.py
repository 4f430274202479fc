"""Surrogate models for skopt: faster GP and forests, and GBRT repaired for current libraries."""

from __future__ import annotations

import copy

import numpy as np
from katib_suggestion.cancellation import checkpoint
from sklearn.base import clone, is_regressor
from sklearn.gaussian_process.kernels import Kernel
from skopt.learning import (
    ExtraTreesRegressor,
    GaussianProcessRegressor,
    GradientBoostingQuantileRegressor,
    RandomForestRegressor,
)
from skopt.learning.gaussian_process.gpr import _param_for_white_kernel_in_Sum
from skopt.learning.gaussian_process.kernels import WhiteKernel  # skopt's own: it has gradient_x
from skopt.utils import cook_estimator

# Rows of candidates scored at once: bounds the (rows x history) kernel block.
_CHUNK = 1024


class FastGaussianProcess(GaussianProcessRegressor):
    """skopt's GP with the predictive variance computed by matrix products.

    skopt evaluates ``einsum("ki,kj,ij->k")`` without an optimised path,
    which costs seconds per call once the history reaches hundreds of
    trials; the same quantity as one BLAS product per chunk is far faster
    and its memory stays bounded. skopt's gp_hedge also scores the same
    candidates three times, so the last result is kept.
    """

    def predict(self, X, return_std=False, return_cov=False, return_mean_grad=False, return_std_grad=False):
        checkpoint()  # L-BFGS on the acquisition function predicts one point per step
        if not return_std or return_cov or return_mean_grad or len(X) == 1 or not hasattr(self, "K_inv_"):
            return super().predict(X, return_std, return_cov, return_mean_grad, return_std_grad)
        # gp_hedge scores the same candidate array once per acquisition function
        cached = getattr(self, "_last_scored", None)
        if cached is None or cached[0] is not X:
            self._last_scored = (X, self._mean_and_std(np.asarray(X, dtype=float)))
        return self._last_scored[1]

    def _constrained_optimization(self, obj_func, initial_theta, bounds):
        # the kernel's hyperparameter search is one library call of up to seconds: a safe
        # point before each evaluation of the likelihood lets an abandoned call stop inside it
        def watched(theta, eval_gradient=True):
            checkpoint()
            return obj_func(theta, eval_gradient)

        return super()._constrained_optimization(watched, initial_theta, bounds)

    def _mean_and_std(self, X):
        means, stds = [], []
        for start in range(0, X.shape[0], _CHUNK):
            checkpoint()
            block = X[start:start + _CHUNK]
            K_trans = self.kernel_(block, self.X_train_)
            variance = self.kernel_.diag(block) - np.einsum("ij,ij->i", K_trans @ self.K_inv_, K_trans)
            means.append(self.y_train_std_ * (K_trans @ self.alpha_) + self.y_train_mean_)
            stds.append(np.sqrt(np.clip(variance, 0.0, None) * self.y_train_std_ ** 2))
        return np.concatenate(means), np.concatenate(stds)


class _ForestStd:
    """skopt's forest ``predict(return_std=True)`` with the candidates checked once, not once per tree.

    skopt computes the spread over trees by calling each tree's validating
    ``apply`` and ``predict`` (input checks, dtype conversion and dataframe
    sniffing per tree: about 0.3 s per tell of 100 trees, whatever the history
    size); gp_hedge then asks for the same candidates three times. Here the
    candidates are converted once, every tree reads its leaves directly, the
    same sums are formed in the same order (the same numbers as skopt's), and
    the last result is kept for the next acquisition function.
    """

    def predict(self, X, return_std=False):
        if not return_std:
            return super().predict(X)
        cached = getattr(self, "_last_scored", None)
        if cached is None or cached[0] is not X:
            mean = super().predict(X)
            self._last_scored = (X, (mean, _forest_std(self, X, mean)))
        return self._last_scored[1]


def _forest_std(forest, X, mean):
    """E[Var(y | tree)] + Var(E[y | tree]) over the trees, as skopt.learning.forest._return_std."""
    rows = forest._validate_X_predict(X)
    std = np.zeros(len(rows))
    for tree in forest.estimators_:
        checkpoint()
        leaves = tree.tree_.apply(rows)
        variance = tree.tree_.impurity[leaves]
        variance[variance < forest.min_variance] = forest.min_variance
        std += variance + tree.tree_.value[leaves, 0, 0] ** 2
    std /= len(forest.estimators_)
    std -= mean ** 2.0
    std[std < 0.0] = 0.0
    return std ** 0.5


class FastRandomForest(_ForestStd, RandomForestRegressor):
    pass


class FastExtraTrees(_ForestStd, ExtraTreesRegressor):
    pass


_FOREST = {"RF": FastRandomForest, "ET": FastExtraTrees}


def gaussian_process(dimensions, seed: int, restarts: int) -> FastGaussianProcess:
    """skopt's default GP (Matern 5/2 or Hamming kernel, learned noise) as a FastGaussianProcess."""
    stock = cook_estimator("GP", space=dimensions, random_state=seed)
    return FastGaussianProcess(**{**stock.get_params(deep=False), "n_restarts_optimizer": restarts})


def frozen(fitted: FastGaussianProcess) -> FastGaussianProcess:
    """An unfitted copy that reuses ``fitted``'s kernel hyperparameters instead of learning them.

    Refits for the constant liar and for a larger history window then cost
    one Cholesky factorisation each, not a multi-start likelihood search.
    """
    return clone(fitted).set_params(kernel=_with_noise(fitted.kernel_, fitted.noise_), optimizer=None)


def _with_noise(kernel: Kernel, noise: float | None) -> Kernel:
    # skopt zeroes the learned white noise in kernel_ after fitting (it keeps it in noise_)
    present, name = _param_for_white_kernel_in_Sum(kernel)
    if not present or noise is None:
        return kernel
    return copy.deepcopy(kernel).set_params(**{name: WhiteKernel(noise_level=noise)})


class CompatibleGBRT(GradientBoostingQuantileRegressor):
    """skopt 0.10.2's GBRT, usable with scikit-learn >= 1.6 and numpy >= 2.4.

    Its parent lists BaseEstimator before RegressorMixin, so the tags system
    of scikit-learn 1.6 does not see a regressor and skopt's Optimizer
    refuses it; and its ``predict(return_std=True)`` calls ``np.in1d``,
    which numpy 2.4 removed. Only used where the stock class fails.
    """

    _estimator_type = "regressor"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        tags.target_tags.required = True
        return tags

    def predict(self, X, return_std=False, return_quantiles=False):
        if not return_std or return_quantiles:
            return super().predict(X, return_std=return_std, return_quantiles=return_quantiles)
        missing = {0.16, 0.5, 0.84} - set(self.quantiles)
        if missing:
            raise ValueError("return_std needs the quantiles 0.16, 0.5 and 0.84")
        low, mean, high = (self.regressors_[self.quantiles.index(q)].predict(X) for q in (0.16, 0.5, 0.84))
        return mean, (high - low) / 2.0


def _stock_gbrt_works() -> bool:
    return hasattr(np, "in1d") and is_regressor(GradientBoostingQuantileRegressor())


def tree_model(name: str, dimensions, seed: int):
    """skopt's default RF, ET or GBRT surrogate, seeded."""
    model = cook_estimator(name, space=dimensions, random_state=seed)
    if name in _FOREST:
        return _FOREST[name](**model.get_params(deep=False))
    if name == "GBRT" and not _stock_gbrt_works():
        model = CompatibleGBRT(**model.get_params(deep=False))
    return model
