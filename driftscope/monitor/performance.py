"""Model performance once labels arrive: accuracy, F1, ROC AUC; MAE, RMSE. Pure numpy.

Examples
--------
>>> import numpy as np
>>> y = np.array(["1", "0", "1", "1"], dtype=object)
>>> p = np.array(["1", "0", "0", "1"], dtype=object)
>>> round(classification(y, p, None, "1")["accuracy"], 2)
0.75
>>> regression(np.array([1.0, 2.0]), np.array([1.5, 2.5]))["mae"]
0.5
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata


def key(v: object) -> str:
    """Labels and predictions compared as strings: 1, 1.0, "1" and True agree."""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    s = str(v)
    if s.lower() in ("true", "false"):
        return "1" if s.lower() == "true" else "0"
    try:
        f = float(s)
        return str(int(f)) if f.is_integer() else s
    except ValueError:
        return s


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve by the rank-sum (Mann–Whitney) formula; NaN if one class."""
    pos = y.astype(bool)
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


@dataclass(frozen=True)
class Measured:
    """A metric's value, the rows it was computed on, and its standard error at that
    many rows (the sampling noise a window of few labels carries). ``effective``: with
    weighted rows (a stratified sample, :func:`measure`), the effective number of rows
    its noise is that of (Kish's ``(Σw)² / Σw²``, no more than ``n``); None: ``n``."""

    value: float
    n: int
    se: float
    effective: float | None = None

    @property
    def noise_n(self) -> float:
        """The rows the value's sampling noise is that of: :attr:`effective`, else ``n``."""
        return float(self.n) if self.effective is None else self.effective


def kish(w: np.ndarray) -> float:
    """Kish's effective sample size of rows weighted ``w``: ``(Σw)² / Σw²`` (``n`` for
    equal weights; 50 rows of weight 9 and 50 of 1: 61).

    >>> kish(np.ones(10)), round(kish(np.r_[np.full(50, 9.0), np.ones(50)]), 1)
    (10.0, 61.0)
    """
    sq = float(np.sum(w * w))
    return float(np.sum(w)) ** 2 / sq if sq > 0 else 0.0


def classification(
    labels: np.ndarray, preds: np.ndarray, scores: np.ndarray | None, positive: str
) -> dict[str, float]:
    """Accuracy, F1 of the positive class and ROC AUC (when scores are given)."""
    return {k: m.value for k, m in _classification(labels, preds, scores, positive).items()}


def _classification(
    labels: np.ndarray, preds: np.ndarray, scores: np.ndarray | None, positive: str,
    weights: np.ndarray | None = None,
) -> dict[str, Measured]:
    y = np.asarray([key(v) for v in labels.tolist()], dtype=object)
    p = np.asarray([key(v) for v in preds.tolist()], dtype=object)
    pos = key(positive)
    if weights is not None:
        return _weighted_classification(y, p, scores, pos, weights)
    n = len(y)
    tp = int(np.sum((y == pos) & (p == pos)))
    fp = int(np.sum((y != pos) & (p == pos)))
    fn = int(np.sum((y == pos) & (p != pos)))
    right = int(np.sum(y == p))
    acc = right / n if n else float("nan")
    out = {
        "accuracy": Measured(acc, n, binomial_se(acc, n) if n else 0.0),
        "f1": Measured(float(_f1(tp, fp, fn)), n, _f1_se(tp, fp, fn, n)),
    }
    if scores is not None:
        s = scores.astype(float)
        ok = np.isfinite(s)
        auc = roc_auc((y == pos)[ok], s[ok])
        n1 = int(np.sum((y == pos)[ok]))
        out["roc_auc"] = Measured(auc, int(ok.sum()), _auc_se(auc, n1, int(ok.sum()) - n1))
    return out


def _weighted_classification(y: np.ndarray, p: np.ndarray, scores: np.ndarray | None,
                             pos: str, w: np.ndarray) -> dict[str, Measured]:
    """:func:`_classification` of rows weighted ``w`` (each row stands for ``w`` events):
    accuracy the weighted share right; F1 of weighted confusion counts; ROC AUC with
    sklearn's ``sample_weight``. Their errors are those of the effective number of rows
    (:func:`kish`): the confusion counts scaled to it for F1's bootstrap, each class's
    for the AUC's."""
    n, total, eff = len(y), float(w.sum()), kish(w)
    acc = float(w[y == p].sum()) / total if total > 0 else float("nan")
    tp, fp, fn = (float(w[m].sum()) * eff / total if total > 0 else 0.0
                  for m in ((y == pos) & (p == pos), (y != pos) & (p == pos),
                            (y == pos) & (p != pos)))
    out = {
        "accuracy": Measured(acc, n, binomial_se(acc, eff) if eff > 0 else 0.0, eff),
        "f1": Measured(float(_f1(tp, fp, fn)), n, _f1_se(tp, fp, fn, eff), eff),
    }
    if scores is not None:
        s = scores.astype(float)
        ok = np.isfinite(s)
        is_pos, wk = (y == pos)[ok], w[ok]
        auc = float("nan")
        if is_pos.any() and (~is_pos).any():
            from sklearn.metrics import roc_auc_score  # (weighted rows only: a slow import)

            auc = float(roc_auc_score(is_pos, s[ok], sample_weight=wk))
        n1, n0 = kish(wk[is_pos]), kish(wk[~is_pos])
        out["roc_auc"] = Measured(auc, int(ok.sum()), _auc_se(auc, n1, n0), n1 + n0)
    return out


def binomial_se(p: float, n: float) -> float:
    """The standard error of a rate ``p`` over ``n`` trials, ``p`` kept 1/(n + 2) from 0
    and 1 (25 labels all right still carry noise).

    >>> round(binomial_se(0.9, 25), 4), round(binomial_se(1.0, 25), 4)
    (0.06, 0.0378)
    """
    p = min(max(p, 1 / (n + 2)), 1 - 1 / (n + 2))
    return float(np.sqrt(p * (1 - p) / n))


def _f1(tp: Any, fp: Any, fn: Any) -> np.ndarray:
    """F1 of confusion counts (arrays or numbers); NaN where there is no positive at all."""
    tp, fp, fn = (np.asarray(v, dtype=float) for v in (tp, fp, fn))
    den = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2 * tp / den, np.nan)


def _f1_se(tp: float, fp: float, fn: float, n: float, draws: int = 400) -> float:
    """F1's standard error by a parametric bootstrap of the confusion counts (seeded: the
    same window gives the same limit; ``n`` rows, rounded: an effective number may not
    be whole)."""
    if round(n) < 1:
        return 0.0
    cells = np.array([tp, fp, fn, max(n - tp - fp - fn, 0.0)], dtype=float) + 0.5
    # (+ 0.5: no empty cell)
    counts = np.random.default_rng(0).multinomial(round(n), cells / cells.sum(), size=draws)
    f1 = _f1(counts[:, 0], counts[:, 1], counts[:, 2])
    f1 = f1[np.isfinite(f1)]
    return float(f1.std(ddof=1)) if f1.size > 1 else 0.0


def _auc_se(auc: float, n1: float, n0: float) -> float:
    """Hanley and McNeil's (1982) standard error of an AUC from n1 positives, n0 negatives."""
    if not np.isfinite(auc) or n1 == 0 or n0 == 0:
        return 0.0
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n0 - 1) * (q2 - auc**2)) / (n1 * n0)
    return float(np.sqrt(max(var, 0.0)))


def regression(labels: np.ndarray, preds: np.ndarray) -> dict[str, float]:
    """Mean absolute and root-mean-square error."""
    return {k: m.value for k, m in _regression(labels, preds).items()}


def _regression(labels: np.ndarray, preds: np.ndarray,
                weights: np.ndarray | None = None) -> dict[str, Measured]:
    err = preds.astype(float) - labels.astype(float)
    ok = np.isfinite(err)
    err = err[ok]
    n = int(err.size)
    if n == 0:
        return {"mae": Measured(float("nan"), 0, 0.0), "rmse": Measured(float("nan"), 0, 0.0)}
    a, sq = np.abs(err), err**2
    if weights is not None:  # (weighted means; their errors at the effective rows)
        w = weights[ok]
        eff = kish(w)
        mae, mse = float(np.average(a, weights=w)), float(np.average(sq, weights=w))
        rmse = float(np.sqrt(mse))
        return {"mae": Measured(mae, n, _weighted_mean_se(a, w, eff), eff),
                "rmse": Measured(rmse, n, _weighted_mean_se(sq, w, eff) / (2 * rmse)
                                 if rmse > 0 else 0.0, eff)}
    mae, mse = float(a.mean()), float(sq.mean())
    rmse = float(np.sqrt(mse))
    # the delta method: se(sqrt(m)) = se(m) / (2 sqrt(m))
    return {"mae": Measured(mae, n, _mean_se(a)),
            "rmse": Measured(rmse, n, _mean_se(sq) / (2 * rmse) if rmse > 0 else 0.0)}


def _mean_se(v: np.ndarray) -> float:
    """The standard error of ``v``'s mean."""
    return float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0


def _weighted_mean_se(v: np.ndarray, w: np.ndarray, eff: float) -> float:
    """The standard error of ``v``'s mean weighted ``w``: its weighted spread over the
    effective rows ``eff`` (:func:`_mean_se` for equal weights)."""
    if eff <= 1:
        return 0.0
    var = float(np.average((v - np.average(v, weights=w)) ** 2, weights=w))
    return float(np.sqrt(var / (eff - 1)))


def metrics(
    task: str,
    labels: np.ndarray,
    preds: np.ndarray,
    scores: np.ndarray | None,
    positive: str,
) -> dict[str, float]:
    """The metrics of a task on rows that have both a label and a prediction."""
    return {k: m.value for k, m in measure(task, labels, preds, scores, positive).items()}


def measure(
    task: str,
    labels: np.ndarray,
    preds: np.ndarray,
    scores: np.ndarray | None,
    positive: str,
    weights: np.ndarray | None = None,
) -> dict[str, Measured]:
    """Each metric of a task with the rows it used (a label and a prediction; for ROC AUC
    a score too; for MAE/RMSE both numbers) and its standard error. ``weights``: how many
    events each row stands for (a stratified sample's rows,
    :attr:`driftscope.monitor.frame.Frame.weights`); the
    metrics are then those of the events, their errors those of the effective number of
    rows (:attr:`Measured.effective`). None, or all equal: each row counts once.

    >>> m = measure("regression", np.array([1.0, 2.0]), np.array(["1.5", "n/a"],
    ...             dtype=object), None, "1")
    >>> m["mae"].value, m["mae"].n
    (0.5, 1)
    """
    has = np.asarray(
        [lab is not None and pr is not None and pr == pr for lab, pr in zip(labels, preds,
                                                                             strict=True)],
        dtype=bool,
    )
    w = None if weights is None else np.asarray(weights, dtype=float)[has]
    if w is not None and (w.size == 0 or np.all(w == w[0])):
        w = None  # (one stratum, or every one whole: as unweighted, to the last digit)
    if task == "classification":
        return _classification(labels[has], preds[has],
                                None if scores is None else scores[has], positive, w)
    # a prediction or label that is not a number is left out, never an error (one "n/a"
    # stopped every later window of the model)
    y = np.asarray([_float(v) for v in labels[has].tolist()], dtype=float)
    p = np.asarray([_float(v) for v in preds[has].tolist()], dtype=float)
    return _regression(y, p, w)


def rule_noise(metric: str, bound: float, labels: float | None, se: float | None) -> float:
    """The sampling error a performance value is held to against a fixed ``bound`` (a
    rule's, :func:`driftscope.monitor.evaluate.apply_rules`; a ``performance_below``
    retraining policy's, :func:`driftscope.alerts.retrain.decide`): for accuracy the
    binomial error of the bound on the ``labels`` it was measured on (what the value
    would scatter by were the bound the truth; the measured value's own was 0 at 25 right
    of 25) — the effective number under weighting —, for other metrics ``se``, the
    value's own; 0 when none is known.

    >>> round(rule_noise("accuracy", 0.85, 25, 0.0), 4), rule_noise("f1", 0.8, 25, 0.05)
    (0.0714, 0.05)
    """
    if se is None or not math.isfinite(se):
        return 0.0
    if metric == "accuracy" and labels is not None and labels > 0:
        return binomial_se(bound, labels)
    return max(float(se), 0.0)


def _float(v: object) -> float:
    """A regression label or prediction as a number; NaN (left out) when it is not one."""
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def labelled(labels: np.ndarray | None) -> int:
    """How many rows carry a label."""
    return 0 if labels is None else int(sum(v is not None for v in labels.tolist()))
