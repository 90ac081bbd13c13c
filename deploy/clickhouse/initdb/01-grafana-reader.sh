#!/bin/bash
# First start only: a read-only account for Grafana. readonly=2 lets the plugin set
# query settings (max_execution_time) while forbidding writes.
set -euo pipefail
# the password as a SQL string literal: its backslashes and quotes escaped (a quote in it
# ended the literal, and the first start failed without the account)
pw=${GRAFANA_CLICKHOUSE_PASSWORD//\\/\\\\}
pw=${pw//\'/\\\'}
clickhouse client --user "$CLICKHOUSE_USER" --password "$CLICKHOUSE_PASSWORD" --multiquery <<SQL
CREATE USER IF NOT EXISTS grafana IDENTIFIED WITH sha256_password BY '${pw}'
  SETTINGS readonly = 2;
GRANT SELECT ON ${CLICKHOUSE_DB:-driftscope}.* TO grafana;
SQL
