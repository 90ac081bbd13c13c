"""What an alert leads with (the messages review, session 26): its top findings hold
each kind of problem it names, and its Grafana link opens the dashboard that shows the
leading finding (Model drift shows no quality or performance row)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from driftscope.alerts import messages
from driftscope.alerts.model import Finding, WindowVerdict

T = datetime(2026, 1, 1, tzinfo=UTC)


def _verdict(*findings: Finding) -> WindowVerdict:
    return WindowVerdict("credit", "mon", T, T + timedelta(hours=1), 400, findings)


DRIFTS = tuple(Finding("drift", "*", f"f{i}", "emd", 1.0 + i, 0.1, "reference-quantile",
                       "fdr") for i in range(6))
ACCURACY = Finding("performance", "*", "accuracy", "accuracy", 0.56, 0.8, "rule < 0.8",
                   "rule")
MISSING = Finding("quality", "*", "amount", "missing_rate", 0.34, 0.05, "limit", "limit")


def test_the_top_findings_hold_each_kind_of_problem() -> None:
    v = _verdict(*DRIFTS, ACCURACY)
    top = v.top(5)
    assert ACCURACY in top and len(top) == 5  # (it scores 1.4 beside drifts of 10 to 60)
    assert [f.feature for f in top if f.kind == "drift"] == ["f5", "f4", "f3", "f2"]
    assert v.top(2, frozenset({"performance"}))[0] == ACCURACY  # an update's kind first
    assert _verdict(*DRIFTS).top(3) == [DRIFTS[5], DRIFTS[4], DRIFTS[3]]


def test_the_link_opens_the_dashboard_of_the_leading_finding() -> None:
    def dashboard(v: WindowVerdict, configured: str = "driftscope-model-drift",
                  first: frozenset[str] = frozenset()) -> str:
        link = messages.grafana_link("http://grafana", configured, v, first)
        assert link is not None
        return urlsplit(link).path

    assert dashboard(_verdict(*DRIFTS)) == "/d/driftscope-model-drift"
    assert dashboard(_verdict(MISSING)) == "/d/driftscope-data-quality"
    assert dashboard(_verdict(ACCURACY)) == "/d/driftscope-performance"
    assert dashboard(_verdict(*DRIFTS, ACCURACY), first=frozenset({"performance"})) == (
        "/d/driftscope-performance")  # an update of a performance fall
    assert dashboard(_verdict(MISSING), configured="ours") == "/d/ours"  # the user's own


def test_the_summary_names_the_columns_and_counts_a_check_once() -> None:
    from driftscope.alerts.rules import Policy, Track, step

    segments = tuple(Finding("quality", s, "amount", "missing_rate", 0.34, 0.05, "limit",
                             "limit") for s in ("*", "c=DE", "c=FR", "c=IT"))
    track, alert = Track(), None
    for i in range(2):  # two bad windows open the alert
        v = WindowVerdict("credit", "mon", T + i * timedelta(hours=1),
                          T + (i + 1) * timedelta(hours=1), 400, (*DRIFTS, *segments))
        d = step(track, v, Policy(), silenced=False)
        track, alert = d.track, d.alert
    assert alert is not None
    text = messages.summary(alert, v)
    assert "6 features drifted (f5, f4, f3, +3), 1 quality check failed (amount)" in text


def test_a_drift_in_segments_only_says_where() -> None:
    """'1 feature drifted (x)' read as a drift of every event, for a drift in one country's
    events only (and the dashboard it linked showed nothing wrong overall)."""
    from driftscope.alerts.rules import Policy, Track, step

    def said(*segments: str) -> str:
        found = tuple(Finding("drift", s, "x", "emd", 0.3, 0.1, "reference-quantile", "fdr")
                      for s in segments)
        track, alert = Track(), None
        for i in range(2):
            v = WindowVerdict("credit", "mon", T + i * timedelta(hours=1),
                              T + (i + 1) * timedelta(hours=1), 400, found)
            d = step(track, v, Policy(), silenced=False)
            track, alert = d.track, d.alert
        assert alert is not None
        return messages.summary(alert, v)

    assert "1 feature drifted (x in country=T)" in said("country=T")
    assert "1 feature drifted (x in 2 segments)" in said("country=T", "device=ios")
    assert "1 feature drifted (x)" in said("*", "country=T")


def test_the_link_of_a_segments_drift_selects_the_segment() -> None:
    from urllib.parse import parse_qs

    from driftscope.dashboards.conventions import ALL_SEGMENT

    def segments(v: WindowVerdict) -> list[str]:
        link = messages.grafana_link("http://grafana", "driftscope-model-drift", v)
        assert link is not None
        return parse_qs(urlsplit(link).query).get("var-segment", [])

    in_one = Finding("drift", "country=T", "x", "emd", 0.3, 0.1, "reference-quantile", "fdr")
    assert segments(_verdict(in_one)) == [ALL_SEGMENT, "country=T"]
    assert segments(_verdict(*DRIFTS)) == []  # (all events: the dashboard's own default)
    assert messages.ALL_SEGMENT == ALL_SEGMENT
