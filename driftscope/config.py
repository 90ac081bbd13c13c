"""driftscope.yaml, validated by pydantic, with ``DRIFTSCOPE_…`` environment overrides.

Any key can be overridden from the environment with ``DRIFTSCOPE_`` + the dotted path
upper-cased and joined by double underscores, e.g. ``DRIFTSCOPE_KAFKA__BOOTSTRAP_SERVERS``.
Values are read as YAML scalars, so ``DRIFTSCOPE_COLLECTOR__BATCH_SIZE=500`` is a number.

Secrets never live in the file. They come only from these environment variables and are
held as :class:`pydantic.SecretStr`, so they never appear in logs, reprs or errors:
``DRIFTSCOPE_SLACK_WEBHOOK_URL``, ``DRIFTSCOPE_WEBHOOK_URL``, ``DRIFTSCOPE_CLICKHOUSE_PASSWORD``,
``DRIFTSCOPE_KAFKA_SASL_USERNAME``, ``DRIFTSCOPE_KAFKA_SASL_PASSWORD``,
``DRIFTSCOPE_GRAFANA_TOKEN``.

Examples
--------
>>> cfg = Config.model_validate({"kafka": {"partitions": 2}})
>>> cfg.kafka.partitions, cfg.kafka.topic
(2, 'driftscope.predictions')
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from driftscope.alerts.config import AlertsConfig
from driftscope.durations import parse_duration as parse_duration  # re-exported
from driftscope.errors import ConfigError
from driftscope.monitor.config import (
    MonitorConfig,
    check_unique,
    check_windows,
    repeated,
    whole_seconds,
)
from driftscope.store.labels import DEFAULT_HORIZON, DEFAULT_SKEW

ENV_PREFIX = "DRIFTSCOPE_"
SECRET_ENV = {
    "slack_webhook_url": "DRIFTSCOPE_SLACK_WEBHOOK_URL",
    "webhook_url": "DRIFTSCOPE_WEBHOOK_URL",
    "clickhouse_password": "DRIFTSCOPE_CLICKHOUSE_PASSWORD",
    "kafka_sasl_username": "DRIFTSCOPE_KAFKA_SASL_USERNAME",
    "kafka_sasl_password": "DRIFTSCOPE_KAFKA_SASL_PASSWORD",
    "grafana_token": "DRIFTSCOPE_GRAFANA_TOKEN",
}
_SECRET_KEYS = {"password", "token", "webhook_url", "slack_webhook_url", "sasl_plain_password"}
LoggingMode = Literal["raw", "profile", "sample"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


MIN_RETENTION, MAX_RETENTION = timedelta(hours=1), timedelta(days=36500)


class RetentionConfig(_Section):
    """How long the store keeps rows, per group of tables (docs/store.md, "Retention").

    Unset (the default): kept for ever. Each group becomes ClickHouse TTLs on its tables
    (``driftscope.store.retention``), set whenever a service migrates the store.
    """

    events: timedelta | None = Field(
        None, description="events and feedback (by ingestion time), samples (by window)")
    profiles: timedelta | None = Field(
        None, description="profiles, merged_profiles, window_parts, windows and "
        "monitor_windows (by window)")
    results: timedelta | None = Field(
        None, description="drift_results (by window), alerts, alert_outbox, retrain_requests, "
        "alert_silences")
    dead_letters: timedelta | None = Field(None, description="dead_letters (by receipt)")
    collector_stats: timedelta | None = Field(None, description="collector_stats (by flush)")

    @field_validator("*", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> timedelta | None:
        return None if v is None else parse_duration(v)

    @field_validator("*")
    @classmethod
    def _at_least(cls, v: timedelta | None) -> timedelta | None:
        if v is not None and not MIN_RETENTION <= v <= MAX_RETENTION:
            raise ValueError(
                "expected a retention from 1h to 36500d, such as 30d (a bare number is "
                "seconds); leave it out to keep the rows for ever")
        return v


class StoreConfig(_Section):
    """Where ClickHouse is. ``chdb:///path`` is embedded; ``http://host:8123`` a server.

    ``retention``: how long each group of tables is kept (default: for ever).
    """

    dsn: str = "chdb:///.driftscope/db"
    database: str = Field("driftscope", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    user: str = "default"
    retention: RetentionConfig = RetentionConfig()

    @field_validator("dsn")
    @classmethod
    def _dsn(cls, v: str) -> str:
        """The two kinds of store, each with where it is (a typo opened a server at
        localhost:8123, or made directories named after the DSN)."""
        scheme, sep, rest = v.partition("://")
        if not sep or scheme not in ("chdb", "http", "https") or not rest.strip("/"):
            raise ValueError("expected chdb:///path/to/dir (embedded) or http(s)://host:8123 "
                             "(a ClickHouse server)")
        return v

    def resolved_dsn(self, root: Path | None = None) -> str:
        """A relative ``chdb:///rel/path`` is made absolute against ``root`` (or the cwd)."""
        if self.dsn.startswith("chdb:///.") or (
            self.dsn.startswith("chdb://") and not self.dsn.startswith("chdb:///")
        ):
            rel = self.dsn.removeprefix("chdb://").lstrip("/")
            return "chdb://" + str(((root or Path.cwd()) / rel).resolve())
        return self.dsn

    def identity(self) -> str:
        """Which store this is, the same from any working directory: the resolved DSN and
        the database (what ``driftscope health`` keys heartbeats by)."""
        return f"{self.resolved_dsn()}|{self.database}"


class KafkaConfig(_Section):
    """Kafka connection and topics. Security settings pass through to kafka-python."""

    bootstrap_servers: str = "127.0.0.1:9092"
    topic: str = "driftscope.predictions"
    dead_letter_topic: str = "driftscope.dead_letters"
    retrain_topic: str = "driftscope.retrain"
    partitions: int = Field(4, ge=1, le=1024)
    group_id: str = "driftscope-collector"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    # Fast group joins against the local broker (DESIGN.md §3): ~3 s instead of ~23 s.
    session_timeout_ms: int = Field(6000, ge=1000)
    heartbeat_interval_ms: int = Field(1000, ge=100)


class ModelConfig(_Section):
    """How one model's events are kept."""

    id: str = Field(min_length=1)
    logging: list[LoggingMode] = Field(default_factory=lambda: list[LoggingMode](["raw"]))
    window: timedelta = timedelta(minutes=5)
    allowed_lateness: timedelta = timedelta(minutes=1)
    sample_size: int = Field(1000, ge=1)
    sample_stratify_by: str | None = None
    task: Literal["classification", "regression"] | None = None

    @field_validator("window", "allowed_lateness", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> timedelta:
        d = parse_duration(v)
        if d < timedelta(0):  # (a number of seconds may be negative: -60)
            raise ValueError("must not be negative")
        return d

    @field_validator("window")
    @classmethod
    def _window(cls, v: timedelta) -> timedelta:
        return whole_seconds(v)


class CollectorConfig(_Section):
    """The collector's batching, limits and policies."""

    batch_size: int = Field(5000, ge=1)
    flush_interval: timedelta = timedelta(seconds=1)
    max_event_bytes: int = Field(1_000_000, ge=1024)
    # a dead letter (raw bytes + headers) must fit in one Kafka producer request:
    # kafka-python's max_request_size (1 MiB) less 4 KiB of headers and framing
    dead_letter_max_bytes: int = Field(65_536, ge=0, le=1_048_576 - 4096)
    unknown_models: Literal["auto_register", "dead_letter"] = "auto_register"
    max_models: int = Field(
        1000, ge=1, description="models the collector keeps (configured, auto-registered, "
        "stored); the events of a new model beyond are dead-lettered (unknown_model)")
    feedback_horizon: timedelta = DEFAULT_HORIZON  # labels given up to this long after
    feedback_skew: timedelta = DEFAULT_SKEW  # … or this long before the prediction's time
    metrics_port: int | None = Field(None, ge=0, le=65535)

    @field_validator("flush_interval", "feedback_horizon", "feedback_skew", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> timedelta:
        return parse_duration(v)

    @field_validator("feedback_horizon", "feedback_skew")
    @classmethod
    def _not_negative(cls, v: timedelta) -> timedelta:
        if v < timedelta(0):
            raise ValueError("must not be negative")
        return v


KEPT_READS_BYTES = 320_000_000
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")


def parse_size(v: Any) -> int:
    """Bytes from a whole number or one with a unit: ``320000000``, ``320MB``, ``1.5GB``,
    ``512MiB`` (KB, MB, GB, TB: powers of 1000; KiB, MiB, GiB, TiB: of 1024)."""
    bad = ValueError("expected a size in bytes, such as 320000000, 320MB, 1.5GB or 512MiB "
                     "(0 keeps none)")
    if isinstance(v, bool):
        raise bad
    if isinstance(v, int | float):
        if not math.isfinite(v) or v < 0 or v != int(v):
            raise bad
        return int(v)
    m = _SIZE.fullmatch(v.strip().lower()) if isinstance(v, str) else None
    if m is None or m.group(2) not in _UNITS:
        raise bad
    return int(float(m.group(1)) * _UNITS[m.group(2)])


class MonitorProcessConfig(_Section):
    """The process that runs the monitors' passes (``driftscope monitor``, ``serve``)."""

    kept_reads_bytes: int = Field(
        KEPT_READS_BYTES, description="memory for each monitor's last read of events, all "
        "monitors together, so that its next pass reads only the new window "
        "(driftscope.monitor.kept); a read that does not fit is read whole every pass, "
        "and a WARNING says so once")

    @field_validator("kept_reads_bytes", mode="before")
    @classmethod
    def _size(cls, v: Any) -> int:
        return parse_size(v)


class Config(_Section):
    """The whole of driftscope.yaml."""

    store: StoreConfig = StoreConfig()
    kafka: KafkaConfig = KafkaConfig()
    collector: CollectorConfig = CollectorConfig()
    models: list[ModelConfig] = Field(default_factory=list)
    alerts: AlertsConfig = AlertsConfig()
    monitors: list[MonitorConfig] = Field(default_factory=list)
    monitor_process: MonitorProcessConfig = MonitorProcessConfig()

    @model_validator(mode="before")
    @classmethod
    def _model_task(cls, data: Any) -> Any:
        """A model's ``task`` is its monitors' ``performance.task`` where they leave it out
        (before, ``task: regression`` on the model was read by nothing: its monitors
        computed accuracy, or refused ``metrics: [mae]`` as "not computed for task
        classification")."""
        if not isinstance(data, dict) or not isinstance(data.get("models"), list) \
                or not isinstance(data.get("monitors"), list):
            return data
        tasks = {m.get("id"): m.get("task") for m in data["models"]
                 if isinstance(m, dict) and m.get("task")}
        monitors = []
        for mon in data["monitors"]:
            perf = mon.get("performance") if isinstance(mon, dict) else None
            task = tasks.get(mon.get("model")) if isinstance(mon, dict) else None
            if isinstance(perf, dict) and task and "task" not in perf:
                mon = {**mon, "performance": {**perf, "task": task}}
            monitors.append(mon)
        return {**data, "monitors": monitors}

    @field_validator("models")
    @classmethod
    def _unique_models(cls, v: list[ModelConfig]) -> list[ModelConfig]:
        """A model id listed twice is refused: the collector took the last entry and the
        monitor the first (1-minute windows cut, 5-minute windows judged)."""
        twice = repeated(m.id for m in v)
        if twice is not None:
            raise ValueError(f"model id {twice!r} is listed twice; ids must be unique")
        return v

    @field_validator("monitors")
    @classmethod
    def _unique_monitors(cls, v: list[MonitorConfig], info: ValidationInfo) -> list[MonitorConfig]:
        models = {m.id: m.window for m in info.data.get("models", [])}
        collector = info.data.get("collector")
        for m in v:  # a profile keeps each column's distribution, not the events
            model = next((x for x in info.data.get("models", []) if x.id == m.model), None)
            if model is not None and not {"raw", "sample"} & set(model.logging):
                _profile_only(m)
            if model is not None and model.task and m.performance is not None \
                    and m.performance.task != model.task:
                raise ValueError(f"monitor {m.name!r}: performance.task is "
                                 f"{m.performance.task}, but model {m.model!r} is a "
                                 f"{model.task} model (its task); leave one out")
        return check_windows(check_unique(v), models,
                             collector.feedback_horizon if collector else None)

    @model_validator(mode="after")
    def _retention(self) -> Config:
        """A retention shorter than what the collector and monitors read is refused."""
        from driftscope.store.retention import check

        check(self)
        return self

    @model_validator(mode="after")
    def _retrain_targets(self) -> Config:
        """A retraining policy for a model nobody watches, or on a metric no monitor of its
        model computes, would never fire: refused (checked when monitors are configured)."""
        if not self.monitors:
            return self
        known = sorted({m.id for m in self.models} | {m.model for m in self.monitors})
        for p in self.alerts.retrain.policies:
            where = f"alerts.retrain.policies: {p.name}"
            if p.model is not None and p.model not in known:
                raise ValueError(f"{where}: model {p.model!r} is neither configured nor "
                                 f"monitored (models: {', '.join(known)})")
            if p.kind != "performance_below":
                continue
            computed = sorted({metric for m in self.monitors if m.performance is not None
                               and p.model in (None, m.model)
                               for metric in m.performance.chosen()})
            if p.metric not in computed:
                raise ValueError(f"{where}: metric {p.metric!r} is not computed by a monitor "
                                 f"of {'model ' + repr(p.model) if p.model else 'any model'} "
                                 f"(their performance metrics: "
                                 f"{', '.join(computed) or 'none'})")
        return self

    def model(self, model_id: str) -> ModelConfig | None:
        return next((m for m in self.models if m.id == model_id), None)


MULTIVARIATE = frozenset({"mmd", "ot_emd", "projected", "sliced_wasserstein"})
"""The registered detectors of joint distributions (``input_kind == "multivariate"``;
named here so that loading a configuration does not import them all)."""


def _profile_only(m: MonitorConfig) -> None:
    """A monitor of a model logged only as profiles checks columns one by one: what joins
    the values of one event is an error that says so."""
    joint = [f"segments {list(m.segments)}"] if m.segments else []
    joint += ["performance"] if m.performance else []
    joint += [f"projection {p.name!r}" for p in m.projections]
    joint += [f"detector {d.name!r}" for d in m.detectors if d.name in MULTIVARIATE]
    joint += [f"reference dataset {m.reference.dataset!r} (each event's model_version)"
              ] if m.reference.versioned else []
    joint += ["reference initial per_version (each event's model_version)"
              ] if m.reference.by_version and not m.reference.versioned else []
    if joint:
        raise ValueError(
            f"monitor {m.name!r}: model {m.model!r} logs only profiles, which keep each "
            f"column's distribution but not the events; {', '.join(joint)} need the "
            "events: remove them or add sample (or raw) to the model's logging")


class Secrets(BaseModel):
    """Secrets read from the environment only. ``repr`` and ``str`` show ``**********``."""

    model_config = ConfigDict(frozen=True)

    slack_webhook_url: SecretStr | None = None
    webhook_url: SecretStr | None = None
    clickhouse_password: SecretStr | None = None
    kafka_sasl_username: SecretStr | None = None
    kafka_sasl_password: SecretStr | None = None
    grafana_token: SecretStr | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Secrets:
        env = os.environ if environ is None else environ
        return cls.model_validate({k: env[v] for k, v in SECRET_ENV.items() if env.get(v)})


def kafka_client_options(kafka: KafkaConfig, secrets: Secrets) -> dict[str, Any]:
    """Options for any kafka-python client: servers plus SASL/TLS passed through (and
    its network loop's warnings of stalls only: :mod:`driftscope.kafka_quiet`)."""
    from driftscope.kafka_quiet import quieter

    opts: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap_servers.split(","),
        "security_protocol": kafka.security_protocol,
    }
    if kafka.sasl_mechanism:
        opts["sasl_mechanism"] = kafka.sasl_mechanism
        if secrets.kafka_sasl_username:
            opts["sasl_plain_username"] = secrets.kafka_sasl_username.get_secret_value()
        if secrets.kafka_sasl_password:
            opts["sasl_plain_password"] = secrets.kafka_sasl_password.get_secret_value()
    for key in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
        if getattr(kafka, key):
            opts[key] = getattr(kafka, key)
    return quieter(opts)


def _apply_env(data: dict[str, Any], environ: Mapping[str, str],
               origins: dict[tuple[str, ...], str] | None = None) -> dict[str, Any]:
    """``data`` with the ``DRIFTSCOPE_…`` overrides of ``environ`` set; each key set is
    recorded in ``origins`` (its path → the variable), so that its error names it."""
    secret_vars = set(SECRET_ENV.values())
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name in secret_vars or "__" not in name:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node = data
        for part in path[:-1]:
            child = node.get(part)
            if isinstance(child, list) or (not child and part in ("models", "monitors")):
                raise ConfigError(f"{name}: the {part} list cannot be set from the "
                                  "environment, key by key; edit driftscope.yaml")
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        try:
            node[path[-1]] = yaml.safe_load(raw)
        except yaml.YAMLError:
            node[path[-1]] = raw
        if origins is not None:
            origins[tuple(path)] = name
    return data


def _find_secret(data: Any, path: str = "") -> str | None:
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).lower() in _SECRET_KEYS and value not in (None, ""):
                return here
            found = _find_secret(value, here)
            if found:
                return found
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found = _find_secret(value, f"{path}[{i}]")
            if found:
                return found
    return None


def _keys_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys the configuration accepts at ``loc`` (a section's fields), [] if unknown."""
    model: type[BaseModel] = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        args = get_args(field.annotation)
        found = [a for a in (field.annotation, *args, *(x for a in args for x in get_args(a)))
                 if isinstance(a, type) and issubclass(a, BaseModel)]
        if not found:
            return []
        model = found[0]
    return list(model.model_fields)


def _explain(exc: ValidationError, source: str,
             origins: Mapping[tuple[str, ...], str] | None = None) -> str:
    """One line: where (the file, or the environment variable that set the failing key),
    the key, its value and what is expected.

    An unknown key is reported before anything else (``valeu``, a typo, also leaves
    ``value`` missing: that read "value = a dict: Field required"); a missing key says so;
    a check of a whole section (its value a mapping or a list) names its keys itself."""
    errors = exc.errors()
    e = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
    key = ".".join(str(p) for p in e["loc"])
    loc = tuple(str(p) for p in e["loc"])
    source = next((var for path, var in (origins or {}).items()
                   if loc[: len(path)] == path), source)
    value = e.get("input")
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "missing" and e["loc"]:
        return f"{source}: {key}: missing; it is required"
    if e["type"] in ("value_error", "assertion_error") and isinstance(value, dict | list) \
            and e["loc"]:
        return f"{source}: {key}: {msg}"
    shown = repr(value)
    if isinstance(value, dict | list):
        shown = f"a {type(value).__name__}"
    if e["type"] == "list_type" and isinstance(value, dict):
        msg += "; write each item on its own line, starting with '- '"
    if e["type"] == "extra_forbidden" and e["loc"]:  # a typo, most likely
        keys = _keys_at(e["loc"][:-1])
        close = difflib.get_close_matches(str(e["loc"][-1]), keys, n=1)
        msg = "unknown key" + (f"; did you mean {close[0]}?" if close else
                               f"; expected one of {', '.join(keys)}" if keys else "")
    if not e["loc"]:  # a check of the whole file (it names its keys itself)
        return f"{source}: {msg}"
    return f"{source}: {key} = {shown}: {msg}"


def load_config(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Read driftscope.yaml (if present), apply environment overrides, validate.

    Raises :class:`ConfigError` with one line: the key, the value and what is expected.
    """
    env = os.environ if environ is None else environ
    source = "environment"
    data: dict[str, Any] = {}
    # (an empty DRIFTSCOPE_CONFIG is unset: it named the directory ".")
    file = Path(path) if path else Path(env.get("DRIFTSCOPE_CONFIG") or "driftscope.yaml")
    named = "" if path or not env.get("DRIFTSCOPE_CONFIG") else " (DRIFTSCOPE_CONFIG)"
    if file.exists():
        source = str(file)
        try:
            loaded = yaml.safe_load(_read_text(file, named))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise ConfigError(f"{file}: not valid YAML{where}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{file}: expected a mapping of sections at the top level")
        data = loaded
    elif path:
        raise ConfigError(f"{file}: no such configuration file")
    elif named:  # named, not found: not the defaults in silence
        raise ConfigError(f"{file}: no such configuration file{named}")
    secret = _find_secret(data)
    if secret:
        raise ConfigError(
            f"{source}: {secret} looks like a secret; secrets come only from the environment "
            f"({', '.join(sorted(SECRET_ENV.values()))})"
        )
    origins: dict[tuple[str, ...], str] = {}
    data = _apply_env(data, env, origins)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, source, origins)) from None


def _read_text(file: Path, named: str = "") -> str:
    """The configuration file's text; a directory, an unreadable file or one that is not
    UTF-8 is a one-line :class:`ConfigError` (``named``: how the file was named)."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{file}{named}: cannot read it: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{file}{named}: not UTF-8 text (byte 0x{raw[exc.start]:02x} "
                          f"at line {line}); save it as UTF-8") from None
