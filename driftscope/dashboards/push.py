"""Upload the dashboards to a Grafana through grafana-client, updating in place.

The folder is found by uid (``GET /api/folders``) and created once
(``POST /api/folders``); each dashboard goes to ``POST /api/dashboards/db`` with
``overwrite: true`` and its stable uid, so pushing twice updates instead of duplicating.
Every panel, variable and annotation names its ClickHouse data source by uid
(``driftscope-clickhouse``, what ``deploy/grafana`` provisions); ``datasource_uid`` points
them at another one. Errors come back as one line (:class:`PushError`) that never
contains the token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from grafana_client import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaUnauthorizedError,
)

from driftscope.dashboards.build import DASHBOARDS, build
from driftscope.dashboards.query import DATASOURCE_UID, PLUGIN_ID

FOLDER_UID = "driftscope"
FOLDER_TITLE = "Driftscope"
TOKEN_ENV = "DRIFTSCOPE_GRAFANA_TOKEN"


class PushError(RuntimeError):
    """Grafana cannot be reached or refused the upload; the message is one line."""


def shown_url(url: str) -> str:
    """The URL as messages show it: without a ``user:password@`` part (a secret)."""
    parts = urlsplit(url.rstrip("/"))
    if "@" not in parts.netloc:
        return url.rstrip("/")
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _explain(raw_url: str, exc: Exception) -> PushError:
    url = shown_url(raw_url)
    if isinstance(exc, GrafanaUnauthorizedError) or getattr(exc, "status_code", 0) in (401, 403):
        return PushError(
            f"Grafana at {url} rejected the token (HTTP {getattr(exc, 'status_code', 401)}): "
            f"set {TOKEN_ENV} to a service-account token with the Editor role"
        )
    if isinstance(exc, GrafanaClientError) and exc.status_code == 404:
        return PushError(f"no Grafana HTTP API at {url} (HTTP 404): check --url")
    if isinstance(exc, GrafanaException) and exc.status_code == 0:
        return PushError(f"cannot reach Grafana at {url}: {_network_reason(exc)}; check --url")
    if isinstance(exc, GrafanaException):
        message = " ".join(str(exc.message).split())[:200]
        return PushError(f"Grafana at {url} failed (HTTP {exc.status_code}): {message}")
    if isinstance(exc, ValueError):
        return PushError(f"{url} did not answer like Grafana (not JSON): check --url")
    return PushError(f"cannot reach Grafana at {url}: {_network_reason(exc)}; check --url")


def _network_reason(exc: Exception) -> str:
    text = f"{type(exc).__name__} {exc}".lower()
    for needle, reason in (("nameresolution", "host not found"), ("name or service", "host "
                           "not found"), ("refused", "connection refused"),
                           ("timeout", "timed out"), ("timed out", "timed out"),
                           ("ssl", "TLS handshake failed")):
        if needle in text:
            return reason
    return type(exc).__name__


def _ensure_folder(api: GrafanaApi, uid: str, title: str) -> None:
    folders: list[dict[str, Any]] = api.folder.get_all_folders()
    if not any(f.get("uid") == uid for f in folders):
        api.folder.create_folder(title, uid=uid)


def with_datasource(node: Any, uid: str) -> Any:
    """A copy of a dashboard's JSON with every ClickHouse data source reference set to
    ``uid``."""
    if isinstance(node, dict):
        out = {k: with_datasource(v, uid) for k, v in node.items()}
        ref = out.get("datasource")
        if isinstance(ref, dict) and ref.get("type") == PLUGIN_ID:
            out["datasource"] = {**ref, "uid": uid}
        return out
    if isinstance(node, list):
        return [with_datasource(v, uid) for v in node]
    return node


def push(
    url: str,
    token: str,
    *,
    folder_uid: str = FOLDER_UID,
    folder_title: str = FOLDER_TITLE,
    timeout: float = 10.0,
    datasource_uid: str = DATASOURCE_UID,
) -> list[str]:
    """Create or update every dashboard in the folder; returns their uids.

    ``datasource_uid``: the uid of the ClickHouse data source in that Grafana.
    """
    api = GrafanaApi.from_url(url.rstrip("/"), credential=token, timeout=timeout)
    pushed = []
    try:
        _ensure_folder(api, folder_uid, folder_title)
        for key in sorted(DASHBOARDS):
            dashboard = with_datasource(build(key), datasource_uid)
            dashboard.pop("id", None)
            api.dashboard.update_dashboard(
                {
                    "dashboard": dashboard,
                    "folderUid": folder_uid,
                    "overwrite": True,
                    "message": "driftscope dashboards push",
                }
            )
            pushed.append(dashboard["uid"])
    except (GrafanaException, OSError, ValueError) as exc:
        raise _explain(url, exc) from None
    return pushed
