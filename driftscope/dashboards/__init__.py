"""Grafana dashboards as code, their upload, and the offline HTML report.

``spec`` (panels as data + the house-style factory), ``panels_*`` (one function per
panel), ``build`` (the six dashboards), ``query`` (a ClickHouse query type for
grafana-foundation-sdk), ``macros`` (the plugin's macro expansion), ``push``, ``report``
and ``svg``. Table and column names come from :mod:`driftscope.store.schema` only.
"""
