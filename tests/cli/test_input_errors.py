"""Bad input a user can give, each once: one line on stderr, exit code 2, never a traceback
and never a silent success (a configuration that is a folder or not UTF-8, an override
from the environment, a misspelt detector, out-of-range options, files that cannot be
written or read)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

MONITOR = {"name": "m", "model": "m", "features": ["x"]}


def driftscope(*args: str, cwd: Path, env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith("DRIFTSCOPE_")}  # the test's own configuration only
    environ.update({"COLUMNS": "200", "DRIFTSCOPE_STORE__DSN": f"chdb://{cwd}/db",
                    "DRIFTSCOPE_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "driftscope.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=environ)


def one_line_error(proc: subprocess.CompletedProcess[str], *says: str) -> str:
    """The error line: exit code 2, one line starting ``error:``, saying each of ``says``."""
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for s in says:
        assert s in lines[0], lines[0]
    return lines[0]


def usage_error(proc: subprocess.CompletedProcess[str], option: str) -> None:
    """Click's usage error (the style of every option's range): exit code 2, the option
    named, no traceback."""
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert re.search(f"Invalid value for '?{option}'?:", proc.stderr), proc.stderr


def write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


# -- the configuration ------------------------------------------------------------------


def test_a_configuration_that_is_a_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    one_line_error(driftscope("health", "monitor", "-c", "conf", cwd=tmp_path),
                   "conf", "Is a directory")
    one_line_error(driftscope("health", "monitor", cwd=tmp_path,
                              env={"DRIFTSCOPE_CONFIG": "conf"}),
                   "conf (DRIFTSCOPE_CONFIG)", "Is a directory")


def test_a_configuration_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes("kafka:\n  topic: caf\u00e9\n".encode("latin-1"))
    one_line_error(driftscope("health", "monitor", "-c", "latin1.yaml", cwd=tmp_path),
                   "latin1.yaml", "not UTF-8", "line 2")


def test_an_override_that_fails_names_the_environment_variable(tmp_path: Path) -> None:
    write(tmp_path / "driftscope.yaml", {"kafka": {"topic": "t"}})
    line = one_line_error(driftscope("health", "monitor", cwd=tmp_path,
                                     env={"DRIFTSCOPE_KAFKA__PARTITIONS": "abc"}),
                          "DRIFTSCOPE_KAFKA__PARTITIONS", "kafka.partitions", "'abc'")
    assert "driftscope.yaml" not in line  # the file is not to blame


def test_overrides_are_blamed_key_by_key(tmp_path: Path) -> None:
    from driftscope.config import load_config
    from driftscope.errors import ConfigError

    file = write(tmp_path / "driftscope.yaml", {"kafka": {"partitions": "many"}})
    env = {"DRIFTSCOPE_KAFKA__TOPIC": "t", "DRIFTSCOPE_STORE__RETENTION": "{events: 1x}"}
    with pytest.raises(ConfigError) as bad_file:  # an override beside a bad file
        load_config(file, {"DRIFTSCOPE_KAFKA__TOPIC": "t"})
    assert str(bad_file.value).startswith(f"{file}: kafka.partitions = 'many'")
    with pytest.raises(ConfigError) as bad_env:  # a section set whole
        load_config(None, env)
    assert str(bad_env.value).startswith(
        "DRIFTSCOPE_STORE__RETENTION: store.retention.events = '1x'")
    with pytest.raises(ConfigError) as typo:
        load_config(None, {"DRIFTSCOPE_KAFKA__PARTITONS": "3"})
    assert str(typo.value).startswith("DRIFTSCOPE_KAFKA__PARTITONS: kafka.partitons = 3")
    assert "did you mean partitions?" in str(typo.value)


def test_a_misspelt_detector_stops_the_monitor_at_once(tmp_path: Path) -> None:
    """Not a healthy-looking monitor whose every window fails."""
    write(tmp_path / "driftscope.yaml",
          {"monitors": [{**MONITOR, "detectors": [{"name": "emdd"}]}]})
    one_line_error(driftscope("monitor", "--once", cwd=tmp_path),
                   "monitors.0.detectors.0.name = 'emdd'", "did you mean emd?",
                   "valid names: chi2, emd,")
    assert not (tmp_path / "db").exists()  # refused before the store is opened


@pytest.mark.parametrize(("detector", "says"), [
    ({"name": "emd", "threshold": {"policy": "p-value"}},
     "monitor m: detector emd: emd has no analytic null distribution, so no p-value policy"),
    ({"name": "emd", "params": {"trimm": 0}},
     "monitor m: detector emd: bad parameters for detector 'emd'"),
])
def test_a_detector_that_cannot_be_made_stops_the_monitor_at_once(
    detector: dict[str, Any], says: str, tmp_path: Path
) -> None:
    """It loaded, then stopped at the first window (a p-value policy for a detector with
    no analytic null) or failed every window."""
    write(tmp_path / "driftscope.yaml", {"monitors": [{**MONITOR, "detectors": [detector]}]})
    backfill = ["backfill", "--since", "2026-01-01", "--until", "2026-01-02"]
    for command in (["monitor", "--once"], backfill):
        one_line_error(driftscope(*command, cwd=tmp_path), says)


# -- options out of range ---------------------------------------------------------------


@pytest.mark.parametrize(("args", "option"), [
    (["monitor", "--interval", "-1"], "--interval"),
    (["monitor", "--interval", "0"], "--interval"),
    (["alerts", "run", "--follow", "--interval", "0"], "--interval"),
    (["broker", "--port", "70000"], "--port"),
    (["broker", "--partitions", "0"], "--partitions"),
])
def test_options_out_of_range_are_refused(args: list[str], option: str, tmp_path: Path) -> None:
    # a configuration that does not exist: whatever is not refused stops there, never runs
    usage_error(driftscope(*args, cwd=tmp_path, env={"DRIFTSCOPE_CONFIG": "missing.yaml"}),
                option)


def test_an_impossible_date_names_its_option(tmp_path: Path) -> None:
    proc = driftscope("backfill", "--since", "2026-01-01", "--until", "2026-02-30", cwd=tmp_path)
    usage_error(proc, "--until")


# -- report -----------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "says"), [
    (["--until", "tomorrow"], "--until 'tomorrow'"),
    (["--since", "2026-01-02", "--until", "2026-01-01"], "--since 2026-01-02 is not before"),
    (["--since", "2026-01-01", "--until", "2026-01-01"], "is not before --until 2026-01-01"),
    (["--since", "2999-01-01"], "--since 2999-01-01 is not in the past"),
])
def test_a_report_range_that_is_empty_is_refused(args: list[str], says: str,
                                                 tmp_path: Path) -> None:
    one_line_error(driftscope("report", "--model", "m", *args, cwd=tmp_path), says)


def test_a_report_that_cannot_be_written_is_refused_before_it_is_made(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-folder").mkdir()
    for out in ("a-folder", "a-file/report.html"):
        one_line_error(driftscope("report", "--model", "m", "--out", out, cwd=tmp_path),
                       f"--out {out}: cannot write it")
    assert not (tmp_path / "db").exists()  # before the store is read


# -- evaluate ---------------------------------------------------------------------------


def test_an_evaluation_output_that_cannot_be_written_is_refused_before_the_run(
    tmp_path: Path,
) -> None:
    (tmp_path / "a-folder").mkdir()
    for out in ("a-folder", "no-such-folder/report.md"):
        one_line_error(driftscope("evaluate", "--suite", "quick", "--sizes", "100",
                                  "--trials", "1", "--output", out, cwd=tmp_path),
                       f"--output {out}: cannot write it")
    assert list(tmp_path.iterdir()) == [tmp_path / "a-folder"]  # nothing left behind


# -- simulate ---------------------------------------------------------------------------


def test_an_empty_model_id_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    one_line_error(driftscope("simulate", "no-drift", "--model-id", "", "--rate", "0",
                              "--events", "5", cwd=tmp_path), "--model-id", "''")


def test_a_simulation_that_delivered_nothing_fails(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    from driftscope.cli import app
    from driftscope.client import LoggerStats
    from driftscope.errors import DriftscopeError
    from driftscope.simulators import delivery
    from driftscope.simulators.app import RunCounts

    def nothing(*args: Any, **kw: Any) -> delivery.Delivered:
        return delivery.Delivered(RunCounts(invalid=5), LoggerStats())

    monkeypatch.setattr(delivery, "deliver", nothing)
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("DRIFTSCOPE_")]:
        monkeypatch.delenv(name)
    out = CliRunner().invoke(app, ["simulate", "no-drift", "--rate", "0", "--events", "5"])
    assert isinstance(out.exception, DriftscopeError), out.output
    assert str(out.exception) == ("no event was delivered to driftscope.predictions: "
                                  "5 predictions were invalid")


# -- reference upload -------------------------------------------------------------------


@pytest.mark.parametrize(("csv", "says"), [
    ("x,score\n", "train.csv: no rows to upload"),
    ("x,timestamp\n1,2026-01-01T00:00Z\n2,soon\n", "train.csv: row 2, column timestamp: 'soon'"),
    ("x,timestamp\n1,2026-01-01T00:00Z\n2,\n", "train.csv: row 2, column timestamp: empty"),
    ("age\n" + "31\n" * 40 + "?\n", "train.csv: column age: 40 numbers and 1 text values ('?')"
     ": read as text, it would be judged as categories; if they mean missing, pass "
     "--na-values '?'"),
    ("age,plan,age\n31,a,32\n", "train.csv: the header names column age twice; give each "
     "column its own name"),  # (pandas renamed the second age.1: a feature of its own)
])
def test_a_reference_file_that_cannot_be_a_reference_is_refused(csv: str, says: str,
                                                                tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text(csv)
    one_line_error(driftscope("reference", "upload", "train.csv", "--model", "m",
                              cwd=tmp_path), says)


def test_an_empty_reference_name_is_refused(tmp_path: Path) -> None:
    """`--name ""` fell back to the file's stem and replaced the reference of that name."""
    (tmp_path / "train.csv").write_text("age\n31\n")
    one_line_error(driftscope("reference", "upload", "train.csv", "--model", "m", "--name",
                              "", cwd=tmp_path), "--name: empty", "for the file's ('train')")


def test_placeholders_named_as_missing_upload_as_a_numeric_column(tmp_path: Path) -> None:
    """`age` with a few '?' was read as text: every window a type mismatch, its drift
    never measured. With --na-values it is a number column whose '?' are missing."""
    (tmp_path / "train.csv").write_text("age,plan\n" + "31,a\n" * 40 + "?,b\n")
    proc = driftscope("reference", "upload", "train.csv", "--model", "m", "--na-values", "?",
                      cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "uploaded 41 rows" in proc.stdout


def test_a_report_file_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    """The default path too (``reports/`` in the working directory), checked when written."""
    from driftscope.dashboards.report import write_report
    from driftscope.errors import ConfigError

    class Empty:  # a store with nothing in it
        def query(self, *args: Any, **kw: Any) -> list[Any]:
            return []

        def query_columns(self, *args: Any, **kw: Any) -> tuple[list[str], list[Any]]:
            return [], []

    (tmp_path / "reports").write_text("")  # a file where the folder would be
    with pytest.raises(ConfigError, match=r"^cannot write .*reports/r\.html: File exists$"):
        write_report(Empty(), "m", datetime(2026, 1, 1, tzinfo=UTC),  # type: ignore[arg-type]
                     datetime(2026, 1, 2, tzinfo=UTC), tmp_path / "reports" / "r.html")


def test_monitor_and_backfill_in_the_wrong_place_say_so(tmp_path: Path) -> None:
    """A forgotten `-c` in a folder without a store: `monitor` made an empty store and
    printed "0 windows" every pass for ever; `backfill` "backfilled 0 window(s)", exit 0."""
    write(tmp_path / "driftscope.yaml", {"monitors": [MONITOR]})
    # an absolute store.dsn (here the environment's): not told to pass the -c a user may
    # have passed (found in review), but that nothing was collected there
    said = one_line_error(driftscope("monitor", "--once", cwd=tmp_path),
                          f"no store at chdb://{tmp_path}/db: nothing has been collected")
    assert "pass -c" not in said
    one_line_error(driftscope("monitor", "--once", cwd=tmp_path, env={
        "DRIFTSCOPE_STORE__DSN": "chdb:///.driftscope/db"}),  # the default: relative
        "is relative to the working directory), or pass -c driftscope.yaml")
    one_line_error(driftscope("backfill", "--since", "2026-01-01T00:00Z", "--until",
                              "2026-01-02T00:00Z", cwd=tmp_path), "no store at chdb://")
    assert not (tmp_path / "db").exists()
    bare = tmp_path / "bare"
    bare.mkdir()
    one_line_error(driftscope("backfill", "--since", "2026-01-01T00:00Z", "--until",
                              "2026-01-02T00:00Z", cwd=bare),
                   "no monitor is configured: nothing to backfill")
    assert driftscope("migrate", cwd=bare).returncode == 0  # (a store, no monitor)
    ran = driftscope("monitor", "--once", cwd=bare)
    assert ran.returncode == 0, ran.stderr
    assert "WARNING driftscope.monitor no monitor is configured: nothing is judged" \
        in ran.stderr


@pytest.mark.parametrize(("command", "hint"), [
    (["collect"], ""),
    (["serve"], "`driftscope serve --broker` runs the embedded broker"),
])
def test_no_broker_is_one_line(command: list[str], hint: str, tmp_path: Path) -> None:
    """Three ERROR lines of kafka-python's (connection failed, lost, bootstrap failed) came
    before driftscope's own, and `serve` did not say how to run without a Kafka."""
    write(tmp_path / "driftscope.yaml", {"monitors": [MONITOR]})
    one_line_error(driftscope(*command, cwd=tmp_path), "cannot reach Kafka at 127.0.0.1:1: ",
                   hint)


def test_a_store_that_does_not_answer_is_one_line(tmp_path: Path) -> None:
    """urllib3's retry and the driver's warning came first, then 400 characters of
    urllib3's reprs (object addresses included) where "Connection refused" says it."""
    one_line_error(driftscope("alerts", "list", cwd=tmp_path,
                              env={"DRIFTSCOPE_STORE__DSN": "http://127.0.0.1:1"}),
                   "error: cannot reach the store at http://127.0.0.1:1: Connection refused")
