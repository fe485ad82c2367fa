"""MQTT transport for live lines (paho-mqtt 2.x, callback API v2) and the in-memory bus used offline.

One MQTT connection per line, so each line has its own last will on its status topic: if the simulator or its
network dies, the broker tells the trainee the line is offline.
"""
from __future__ import annotations

import socket
import threading
from typing import Any, Callable

import paho.mqtt.client as mqtt

from . import topics
from .engine import OFFLINE


class MemoryBus:
    """Offline sink: keeps records in publish order and fans them out to local subscribers."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self._subs: list[tuple[str, Callable[[dict[str, Any]], None]]] = []

    def subscribe(self, pattern: str, callback: Callable[[dict[str, Any]], None]) -> None:
        self._subs.append((pattern, callback))

    def publish(self, records: list[dict[str, Any]]) -> None:
        from .broker.acl import topic_matches

        self.records.extend(records)
        for record in records:
            for pattern, callback in self._subs:
                if topic_matches(record["topic"], pattern):
                    callback(record)


class ConnectError(ConnectionError):
    """The broker refused or did not answer; the message says why."""


def make_client(client_id: str, username: str, password: str) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True,
                         protocol=mqtt.MQTTv311)
    client.username_pw_set(username, password)
    client.max_queued_messages_set(20000)  # bounded memory while the broker is away
    client.max_inflight_messages_set(1000)
    return client


def connect(client: mqtt.Client, host: str, port: int, timeout: float = 10.0) -> None:
    """Connect and start the network thread; raise ConnectError on refusal (wrong credentials) or timeout."""
    done, result = threading.Event(), {}

    def on_connect(_c, _u, _flags, reason_code, _props):
        result["rc"] = reason_code
        done.set()

    previous = client.on_connect
    client.on_connect = on_connect
    try:
        client.connect(host, port, keepalive=30)
    except OSError as error:
        raise ConnectError(f"cannot reach MQTT broker at {host}:{port}: {error}") from None
    client.loop_start()
    if not done.wait(timeout):
        client.loop_stop()
        raise ConnectError(f"no answer from MQTT broker at {host}:{port} within {timeout:.0f} s")
    client.on_connect = previous
    if result["rc"].is_failure:
        client.loop_stop()
        client.disconnect()
        raise ConnectError(f"MQTT broker refused the connection: {result['rc']}")


def subscribe(client: mqtt.Client, topic_filter: str, qos: int = 1, timeout: float = 10.0) -> bool:
    """Subscribe and wait for the SUBACK; False when the broker refused the filter (ACL)."""
    done, granted = threading.Event(), []

    def on_subscribe(_c, _u, _mid, reason_codes, _props):
        granted.extend(reason_codes)
        done.set()

    previous = client.on_subscribe
    client.on_subscribe = on_subscribe
    try:
        client.subscribe(topic_filter, qos=qos)
        if not done.wait(timeout):
            raise ConnectError(f"no SUBACK for {topic_filter} within {timeout:.0f} s")
    finally:
        client.on_subscribe = previous
    return bool(granted) and not granted[0].is_failure


class SharedPublisher:
    """One connection (service account) that carries the data of many lines: far fewer busy network threads than
    one connection per line. Each line still has its own connection for its last will and its commands."""

    def __init__(self, credentials: dict[str, Any], client_id: str) -> None:
        self.client = make_client(client_id, credentials["username"], credentials["password"])
        self.client.reconnect_delay_set(min_delay=1, max_delay=5)
        connect(self.client, credentials["host"], credentials["port"])

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class MqttLineTransport:
    """Publishes one line's records and feeds its command topics back into the engine."""

    def __init__(self, line, credentials: dict[str, Any], client_id: str | None = None,
                 shared: SharedPublisher | None = None) -> None:
        self.line = line
        self.client = make_client(client_id or f"nia-sim-{line.trainee}", credentials["username"],
                                  credentials["password"])
        self.client.will_set(line.status_topic, topics.encode(OFFLINE), qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=5)
        self.data_client = shared.client if shared else self.client
        self.connected = threading.Event()
        self.cmd_filter = topics.cmd_filter(line.trainee, line.base.split("/" + line.trainee + "/")[0])
        self.client.on_message = self._on_message
        self.host, self.port = credentials["host"], credentials["port"]
        self._flags: dict[str, tuple[int, bool]] = {}

    def _on_connect(self, client, _u, _flags, reason_code, _props) -> None:
        if not reason_code.is_failure:
            client.subscribe(self.cmd_filter, qos=1)
            self.connected.set()

    def _on_disconnect(self, *_args) -> None:
        self.connected.clear()

    def _on_message(self, _client, _userdata, message) -> None:
        if not message.retain:
            self.line.submit(message.topic, message.payload)

    def start(self) -> None:
        connect(self.client, self.host, self.port, timeout=30.0)  # hundreds of lines may connect at once
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        if not subscribe(self.client, self.cmd_filter):
            raise ConnectError(f"broker refused the command subscription {self.cmd_filter}")
        self.connected.set()

    def publish(self, records: list[dict[str, Any]]) -> None:
        encode, flags, status = topics.encode, self._flags, self.line.status_topic
        for record in records:
            topic, payload = record["topic"], record["payload"]
            if topic == status:
                if payload == OFFLINE:
                    self._drop_connection()
                    continue
                if not self.connected.is_set() and not self.connected.wait(5):
                    continue  # still offline: the trainee sees the gap in seq numbers
                self.client.publish(topic, encode(payload), qos=1, retain=True)
                continue
            flag = flags.get(topic)
            if flag is None:
                flag = flags[topic] = (topics.qos_of(topic), topics.is_retained(topic))
            self.data_client.publish(topic, encode(payload), qos=flag[0], retain=flag[1])

    def _drop_connection(self) -> None:
        """Simulated network loss: cut the TCP connection without DISCONNECT, so the broker sends the will."""
        sock = self.client.socket()
        self.connected.clear()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self, retain_offline: bool = True) -> None:
        if retain_offline and self.connected.is_set():
            # through the data connection, so it arrives after the line's last data message
            info = self.data_client.publish(self.line.status_topic, topics.encode(OFFLINE), qos=1, retain=True)
            try:
                info.wait_for_publish(2)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()


class MemoryTransport:
    """A service transport without a broker (tests, offline demos): records go to a MemoryBus."""

    def __init__(self, line, bus: MemoryBus | None = None) -> None:
        self.line, self.bus = line, bus or MemoryBus()

    def start(self) -> None:
        """Nothing to connect."""

    def publish(self, records: list[dict[str, Any]]) -> None:
        self.bus.publish(records)

    def stop(self, retain_offline: bool = True) -> None:
        if retain_offline:
            self.bus.publish([{"topic": self.line.status_topic, "payload": dict(OFFLINE),
                               "t_ms": self.line.tick_no * 1000}])
