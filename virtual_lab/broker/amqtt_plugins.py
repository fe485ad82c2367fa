"""amqtt plugins giving the embedded broker mosquitto's isolation.

amqtt's own FileAuthPlugin does not read mosquitto's PBKDF2 ($7$) hashes, and its TopicAccessControlListPlugin has
per-user topic lists but no %u substitution; these two plugins read the same password and ACL files as mosquitto
(re-read when they change, like mosquitto on SIGHUP), so one set of generated files serves both brokers.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

from . import acl
from .passwords import read_file, verify_password


class _Watched:
    def __init__(self, path: str, loader) -> None:
        self.path, self.loader, self.mtime, self.value = Path(path), loader, None, None

    def get(self):
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = -1
        if mtime != self.mtime:
            self.mtime = mtime
            self.value = self.loader(self.path) if mtime != -1 else self.loader(None)
        return self.value


class MosquittoPasswordAuth(BaseAuthPlugin):
    @dataclass
    class Config:
        password_file: str = ""

    def __init__(self, context) -> None:
        super().__init__(context)
        self._users = _Watched(self.config.password_file, lambda p: read_file(p) if p else {})

    async def authenticate(self, *, session) -> bool:
        name, password = session.username, session.password
        if not name or password is None:
            return False
        stored = self._users.get().get(name)
        return bool(stored) and verify_password(password if isinstance(password, str) else password.decode(), stored)


class PatternACL(BaseTopicPlugin):
    @dataclass
    class Config:
        acl_file: str = ""

    def __init__(self, context) -> None:
        super().__init__(context)
        self._rules = _Watched(self.config.acl_file, lambda p: acl.parse(p.read_text()) if p else acl.Rules())

    async def topic_filtering(self, *, session=None, topic=None, action=None) -> bool:
        if session is None or not session.username or not topic:
            return False
        rules = self._rules.get().for_user(session.username)
        kind = {Action.SUBSCRIBE: "subscribe", Action.PUBLISH: "write", Action.RECEIVE: "read"}.get(action)
        return kind is not None and acl.allowed(rules, topic, kind)
