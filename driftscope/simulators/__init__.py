"""Drift on purpose: scenarios, data sources, a demo application and the evaluation harness.

- :mod:`.scenarios` — ``get_scenario(name)``, ``list_scenarios()``, :class:`.Scenario`,
  :class:`.Stream`, :class:`.Clock`;
- :mod:`.sources` — ``get_source(name)``: ``synthetic`` and scikit-learn's bundled tables;
- :mod:`.effects` — the drift kinds and their intensities;
- :mod:`.app` — :class:`.DemoApp`, which logs through an injected PredictionLogger;
- :mod:`.evaluate` — the default monitor decision rule and the harness;
- :mod:`.commands` — ``driftscope simulate`` and ``driftscope evaluate``.

See docs/simulators.md.
"""
