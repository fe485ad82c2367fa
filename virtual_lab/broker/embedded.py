"""The embedded pure-Python broker (amqtt) for machines without mosquitto, with the same files and isolation."""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import warnings
from pathlib import Path


def _isolating_broker_class():
    """amqtt 0.12.1 broker that hands out retained messages only for the session's own subscriptions, per the ACL.

    Why: on every CONNECT amqtt replays the retained messages of EVERY filter any client holds to the new client,
    without asking the ACL plugin, so a trainee who merely connected received other trainees' retained status, meta,
    state and counters (found by the mqtt-basics security lab). Retained delivery now requires that this session
    subscribed to the filter and that the ACL lets it read each topic."""
    from amqtt.broker import Broker
    from amqtt.contexts import Action

    class IsolatingBroker(Broker):
        async def _publish_retained_messages_for_subscription(self, subscription, session) -> None:
            topic_filter, qos = subscription
            if not any(s.client_id == session.client_id for s, _ in self._subscriptions.get(topic_filter, ())):
                return
            handler = self._get_handler(session)
            if handler is None:
                return
            tasks = []
            for topic, retained in list(self._retained_messages.items()):
                if self._matches(topic, topic_filter) and \
                        await self._topic_filtering(session, topic=topic, action=Action.RECEIVE):
                    tasks.append(asyncio.ensure_future(handler.mqtt_publish(
                        retained.topic, retained.data, min(qos, retained.qos or qos), retain=True)))
            if tasks:
                await asyncio.wait(tasks)

    return IsolatingBroker


class EmbeddedBroker:
    kind = "embedded"

    def __init__(self, *, host: str, port: int, state_dir: Path, acl: str) -> None:
        self.host, self.port, self.state_dir, self.acl = host, port, Path(state_dir), acl
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker = None
        self._error: BaseException | None = None

    def _config(self) -> dict:
        plugins = "virtual_lab.broker.amqtt_plugins"
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {f"{plugins}.MosquittoPasswordAuth": {"password_file": str(self.state_dir / "passwd")},
                        f"{plugins}.PatternACL": {"acl_file": str(self.state_dir / "acl")}},
        }

    def start(self) -> "EmbeddedBroker":
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "acl").write_text(self.acl)
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="amqtt-broker", daemon=True)
        self._thread.start()
        ready.wait(15)
        if self._error:
            raise RuntimeError(f"embedded broker failed: {self._error}")
        # no probe connection here: broker.start() returned, so it listens (amqtt logs probes as errors)
        (self.state_dir / "broker.json").write_text(json.dumps({"kind": self.kind, "port": self.port}))
        return self

    def _run(self, ready: threading.Event) -> None:
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.ERROR)
        loop = self._loop = asyncio.new_event_loop()
        # amqtt 0.12.1 iterates its subscription dict while clients subscribe (a known race that drops that one
        # broadcast); keep its unretrieved task errors out of the service log.
        loop.set_exception_handler(lambda _loop, ctx: logging.getLogger("virtual_lab.broker").debug(
            "amqtt: %s", ctx.get("exception") or ctx.get("message")))
        asyncio.set_event_loop(loop)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                self._broker = _isolating_broker_class()(self._config(), loop=loop)
            loop.run_until_complete(self._broker.start())
        except BaseException as error:  # reported to start()
            self._error = error
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    def _close_leftovers(self) -> None:
        """amqtt 0.12.1 leaves the sockets of abruptly dropped clients open after shutdown; close them here."""
        import gc
        from asyncio import selector_events

        for obj in gc.get_objects():
            if isinstance(obj, selector_events._SelectorTransport) and obj._loop is self._loop \
                    and not obj.is_closing():
                obj.close()

    def reload(self) -> None:
        """Nothing to do: the plugins re-read the password and ACL files when they change."""

    def stop(self) -> None:
        if self._loop and self._broker is not None and self._loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            try:
                future.result(10)
            except Exception:  # noqa: BLE001 - shutting down anyway
                pass
            self._loop.call_soon_threadsafe(self._close_leftovers)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)
        info = self.state_dir / "broker.json"
        if info.exists():
            info.unlink()
