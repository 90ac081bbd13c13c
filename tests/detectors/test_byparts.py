"""Multivariate by parts: per-column detectors, corrections and ranking."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from driftscope.detectors.byparts import ByParts
from driftscope.detectors.significance import Permutation
from driftscope.errors import ConfigError, DetectorInputError


def _table(seed: int, n: int, shift: float = 0.0, cat_shift: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    cats = np.array(["x", "y", "z"], dtype=object)
    p = [0.2, 0.3, 0.5] if cat_shift else [0.5, 0.3, 0.2]
    return {
        "a": rng.normal(size=n),
        "b": rng.normal(shift, size=n),
        "c": rng.exponential(size=n),
        "plan": rng.choice(cats, n, p=p),
    }


def test_ranking_puts_the_shifted_columns_first() -> None:
    fitted = ByParts().fit(_table(0, 4000), rng=np.random.default_rng(0))
    res = fitted.score(_table(1, 2000, shift=1.0, cat_shift=True))
    assert set(res.drifted) == {"b", "plan"}
    assert {n for n, _ in res.ranking[:2]} == {"b", "plan"}
    assert res.scores["plan"].details["top_bins"]
    assert res.summary().drifted
    assert res.share_drifted == 0.5


def test_no_drift_on_the_same_distribution() -> None:
    fitted = ByParts().fit(_table(0, 4000), rng=np.random.default_rng(0))
    res = fitted.score(_table(2, 2000))
    assert res.drifted == ()
    assert not res.summary().drifted


def test_corrections_with_permutation_p_values() -> None:
    by_kind = {"numeric": "emd", "categorical": "linf"}
    params = {"policy": Permutation(n=200, alpha=0.05)}
    from driftscope.detectors import registry

    det = {k: registry.get(v, **params) for k, v in by_kind.items()}
    ref, cur = _table(0, 500), _table(3, 300, shift=0.5)
    raw = ByParts(det).fit(ref, rng=np.random.default_rng(0)).score(cur)
    bonf = ByParts(det, correction="bonferroni").fit(ref, rng=np.random.default_rng(0)).score(cur)
    bh = ByParts(det, correction="bh").fit(ref, rng=np.random.default_rng(0)).score(cur)
    assert set(bonf.drifted) <= set(bh.drifted) <= set(raw.drifted)
    assert "b" in bonf.drifted
    for name in bonf.drifted:
        assert raw.scores[name].p_value * 4 <= 0.05


def test_mismatched_columns_are_an_error() -> None:
    fitted = ByParts().fit(_table(0, 100), rng=np.random.default_rng(0))
    cur = _table(1, 100)
    del cur["a"]
    cur["new"] = np.zeros(100)
    with pytest.raises(DetectorInputError, match="missing \\['a'\\], unexpected \\['new'\\]"):
        fitted.score(cur)


def test_column_overrides_and_kind_checks() -> None:
    res = ByParts(columns={"a": "ks"}).fit(_table(0, 200), rng=np.random.default_rng(0))
    assert res.fitted["a"].__class__.__name__ == "FittedKS"
    with pytest.raises(ConfigError, match="categorical"):
        ByParts(columns={"plan": "emd"}).fit(_table(0, 50), rng=np.random.default_rng(0))
    with pytest.raises(ConfigError):
        ByParts(correction="holm")


def test_deterministic_and_picklable() -> None:
    ref, cur = _table(0, 300), _table(1, 200, shift=0.2)
    a = ByParts().fit(ref, rng=np.random.default_rng(9))
    b = pickle.loads(pickle.dumps(ByParts().fit(ref, rng=np.random.default_rng(9))))
    assert a.score(cur).ranking == b.score(cur).ranking


def test_column_order_does_not_matter() -> None:
    ref, cur = _table(0, 400), _table(1, 300, shift=0.4)
    rev_ref = dict(reversed(list(ref.items())))
    rev_cur = dict(reversed(list(cur.items())))
    a = ByParts().fit(ref, rng=np.random.default_rng(3)).score(cur)
    b = ByParts().fit(rev_ref, rng=np.random.default_rng(3)).score(rev_cur)
    assert a.ranking == b.ranking and a.drifted == b.drifted
