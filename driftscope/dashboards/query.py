"""A ClickHouse query type for grafana-foundation-sdk, which has none built in.

:class:`ClickHouseQuery` is the target JSON of the official Grafana ClickHouse data
source (``grafana-clickhouse-datasource``, v4) in SQL-editor mode: ``rawSql``, ``format``
(the sqlds number: 0 time series, 1 table), ``queryType`` (``"timeseries"`` or
``"table"``), ``editorType`` ``"sql"`` and the data source reference. :func:`register`
teaches the SDK's JSON decoder this type, so exported dashboards parse back into it.

Examples
--------
>>> q = Query().raw_sql("SELECT 1 AS x").table().ref_id("A").build()
>>> q.to_json()["editorType"], q.to_json()["queryType"]
('sql', 'table')
"""

from __future__ import annotations

from typing import Any, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

PLUGIN_ID = "grafana-clickhouse-datasource"
PLUGIN_VERSION = "4.3.2"
DATASOURCE_UID = "driftscope-clickhouse"
FORMAT_TIMESERIES = 0
FORMAT_TABLE = 1


def datasource_ref(uid: str = DATASOURCE_UID) -> DataSourceRef:
    """The reference every panel and variable uses: the provisioned ClickHouse source."""
    return DataSourceRef(type_val=PLUGIN_ID, uid=uid)


class ClickHouseQuery(cogvariants.Dataquery):
    """One SQL-editor target of the ClickHouse data source."""

    def __init__(
        self,
        raw_sql: str = "",
        ref_id: str = "A",
        fmt: int = FORMAT_TABLE,
        query_type: str = "table",
        datasource_uid: str = DATASOURCE_UID,
        hide: bool | None = None,
    ) -> None:
        self.raw_sql = raw_sql
        self.ref_id = ref_id
        self.format = fmt
        self.query_type = query_type
        self.datasource_uid = datasource_uid
        self.hide = hide

    def to_json(self) -> dict[str, object]:
        """The plugin's target JSON."""
        out: dict[str, object] = {
            "datasource": {"type": PLUGIN_ID, "uid": self.datasource_uid},
            "editorType": "sql",
            "format": self.format,
            "pluginVersion": PLUGIN_VERSION,
            "queryType": self.query_type,
            "rawSql": self.raw_sql,
            "refId": self.ref_id,
        }
        if self.hide is not None:
            out["hide"] = self.hide
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Parse a target written by :meth:`to_json` (or by Grafana's editor)."""
        ds = data.get("datasource") or {}
        return cls(
            raw_sql=str(data.get("rawSql", "")),
            ref_id=str(data.get("refId", "A")),
            fmt=int(data.get("format", FORMAT_TABLE)),
            query_type=str(data.get("queryType", "table")),
            datasource_uid=str(ds.get("uid", DATASOURCE_UID)),
            hide=data.get("hide"),
        )


class Query(cogbuilder.Builder[ClickHouseQuery]):
    """Builder in the SDK's style: ``Query().raw_sql(sql).time_series().ref_id("A")``."""

    def __init__(self) -> None:
        self._internal = ClickHouseQuery()

    def build(self) -> ClickHouseQuery:
        """The built target."""
        return self._internal

    def raw_sql(self, sql: str) -> Self:
        """The SQL, with the plugin's macros and Grafana variables left in."""
        self._internal.raw_sql = sql
        return self

    def ref_id(self, ref_id: str) -> Self:
        """The target's letter."""
        self._internal.ref_id = ref_id
        return self

    def time_series(self) -> Self:
        """Return data as time series (sqlds converts long frames to wide)."""
        self._internal.format = FORMAT_TIMESERIES
        self._internal.query_type = "timeseries"
        return self

    def table(self) -> Self:
        """Return data as a table."""
        self._internal.format = FORMAT_TABLE
        self._internal.query_type = "table"
        return self

    def datasource_uid(self, uid: str) -> Self:
        """Another data source than the provisioned one."""
        self._internal.datasource_uid = uid
        return self


def register() -> None:
    """Let the SDK's JSON decoder build :class:`ClickHouseQuery` for this plugin's targets."""
    cogruntime.register_dataquery_variant(
        cogruntime.DataqueryConfig(identifier=PLUGIN_ID, from_json_hook=ClickHouseQuery.from_json)
    )
