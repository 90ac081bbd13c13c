"""Notifiers: Slack (Block Kit through slack_sdk's webhook client), a generic JSON webhook,
the console, a Kafka topic and a command. Each sends one payload prepared by
:mod:`driftscope.alerts.messages`; none formats, none retries (the dispatcher does), and
no error message ever contains a secret URL.
"""

from __future__ import annotations

from driftscope.alerts.notifiers.console import ConsoleNotifier
from driftscope.alerts.notifiers.kafka import CommandNotifier, KafkaNotifier
from driftscope.alerts.notifiers.slack import SlackNotifier
from driftscope.alerts.notifiers.webhook import WebhookNotifier, redact

__all__ = [
    "CommandNotifier",
    "ConsoleNotifier",
    "KafkaNotifier",
    "SlackNotifier",
    "WebhookNotifier",
    "redact",
]
