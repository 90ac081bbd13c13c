"""A monitor's names against what the store holds: a model or feature that no event ever
carried is most likely a typo in the configuration (``loans`` for ``loan``, ``incme``), and
the monitor would otherwise judge nothing, or a column that is always missing, in silence.

:func:`unknown_names` says which, in one line. Nothing is said while the store has no
event at all; a model without events while others have some is named (a typo, or a model
not deployed yet: the line says which models have events).
"""

from __future__ import annotations

import re

from driftscope.events import PREDICTION_PREFIX
from driftscope.monitor.config import MonitorConfig
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

MF = S.MODEL_FEATURES
_PICK = re.compile(r"(.+)\[\d+\]")  # an output ``probs[1]``: the j-th of ``probs``
SHOWN = 12
"""Names listed at most in a message."""


def _listed(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def unknown_names(store: Store, cfg: MonitorConfig) -> tuple[bool, str | None]:
    """Whether the store can tell yet, and one line naming what ``cfg`` watches that no
    event of its model had a value for (None: nothing).

    The model's names are those the collector recorded (``model_features``: every logging
    mode records them). A model with no recorded name is reported only when other models
    have some (then it is most likely misspelt; else nothing was collected yet: ask again
    later)."""
    rows = store.query(f"SELECT DISTINCT {MF.model_id}, {MF.name} FROM {MF}")
    by_model: dict[str, set[str]] = {}
    for model, name in rows:
        by_model.setdefault(model, set()).add(name)
    if cfg.model not in by_model:
        if not by_model:
            return False, None
        return True, (f"monitor {cfg.name}: model {cfg.model!r} has no event in the store "
                      f"(models with events: {_listed(sorted(by_model))})")
    known = by_model[cfg.model]
    wanted = [*cfg.features, *(PREDICTION_PREFIX + (m.group(1) if (m := _PICK.fullmatch(o))
                                                   else o) for o in cfg.outputs)]
    missing = [n for n in dict.fromkeys(wanted) if n not in known]
    if not missing:
        return True, None
    # (named as the configuration names them: an output without its prefix; before, the
    # line offered `prediction.score`, which as an output is `score`)
    return True, (f"monitor {cfg.name}: no event of model {cfg.model!r} has a value for "
                  f"{_spelt(missing)} (its {_spelt(sorted(known), 'features', 'outputs')})")


def _spelt(names: list[str], features: str = "feature", outputs: str = "output") -> str:
    """``names`` (features, and outputs as stored: ``prediction.score``) as a monitor's
    configuration spells them: ``feature agee, output scor``; with plurals as headings,
    ``features: age, plan; outputs: score``."""
    ins = [n for n in names if not n.startswith(PREDICTION_PREFIX)]
    outs = [n.removeprefix(PREDICTION_PREFIX) for n in names if n.startswith(PREDICTION_PREFIX)]
    if features.endswith("s"):  # (headings)
        return "; ".join(f"{head}: {_listed(part)}"
                         for head, part in ((features, ins), (outputs, outs)) if part)
    return ", ".join(f"{head}{'s' if len(part) > 1 else ''} {_listed(part)}"
                     for head, part in ((features, ins), (outputs, outs)) if part)
