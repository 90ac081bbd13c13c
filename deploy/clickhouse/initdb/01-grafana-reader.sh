#!/bin/bash
# First start only: a read-only account for Grafana. readonly=2 lets the plugin set
# query settings (max_execution_time) while forbidding writes.
set -euo pipefail
clickhouse client --user "$CLICKHOUSE_USER" --password "$CLICKHOUSE_PASSWORD" --multiquery <<SQL
CREATE USER IF NOT EXISTS grafana IDENTIFIED WITH sha256_password BY '${GRAFANA_CLICKHOUSE_PASSWORD}'
  SETTINGS readonly = 2;
GRANT SELECT ON ${CLICKHOUSE_DB:-driftscope}.* TO grafana;
SQL
