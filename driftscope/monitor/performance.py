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


def classification(
    labels: np.ndarray, preds: np.ndarray, scores: np.ndarray | None, positive: str
) -> dict[str, float]:
    """Accuracy, F1 of the positive class and ROC AUC (when scores are given)."""
    y = np.asarray([key(v) for v in labels.tolist()], dtype=object)
    p = np.asarray([key(v) for v in preds.tolist()], dtype=object)
    pos = key(positive)
    tp = int(np.sum((y == pos) & (p == pos)))
    fp = int(np.sum((y != pos) & (p == pos)))
    fn = int(np.sum((y == pos) & (p != pos)))
    f1 = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else float("nan")
    out = {"accuracy": float(np.mean(y == p)) if len(y) else float("nan"), "f1": float(f1)}
    if scores is not None:
        ok = np.isfinite(scores.astype(float))
        out["roc_auc"] = roc_auc((y == pos)[ok], scores.astype(float)[ok])
    return out


def regression(labels: np.ndarray, preds: np.ndarray) -> dict[str, float]:
    """Mean absolute and root-mean-square error."""
    err = preds.astype(float) - labels.astype(float)
    err = err[np.isfinite(err)]
    if err.size == 0:
        return {"mae": float("nan"), "rmse": float("nan")}
    return {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err**2)))}


def metrics(
    task: str,
    labels: np.ndarray,
    preds: np.ndarray,
    scores: np.ndarray | None,
    positive: str,
) -> dict[str, float]:
    """The metrics of a task on rows that have both a label and a prediction."""
    has = np.asarray(
        [lab is not None and pr is not None and pr == pr for lab, pr in zip(labels, preds,
                                                                             strict=True)],
        dtype=bool,
    )
    if task == "classification":
        return classification(labels[has], preds[has], None if scores is None else scores[has],
                              positive)
    y = np.asarray([_float(v) for v in labels[has].tolist()])
    return regression(y, np.asarray(preds[has], dtype=float))


def _float(v: object) -> float:
    """A regression label as a number; NaN (left out) when it is not one."""
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def labelled(labels: np.ndarray | None) -> int:
    """How many rows carry a label."""
    return 0 if labels is None else int(sum(v is not None for v in labels.tolist()))
