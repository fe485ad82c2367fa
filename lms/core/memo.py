"""A bounded, thread-safe memo: what the per-process caches (pages, progress, verified cookies) keep, oldest
entries dropped first once full. Reads take no lock (a dict lookup is atomic); writes do."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class BoundedMemo:
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.lock = threading.Lock()
        self._values: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key):
        return self._values.get(key)

    def put(self, key, value) -> None:
        with self.lock:
            self._values[key] = value
            while len(self._values) > self.max_entries:
                self._values.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)


def app_memo(app, name: str, max_entries: int) -> BoundedMemo:
    """The app's memo called `name`, made on first use (not built on every call just to be thrown away)."""
    found = app.extensions.get(name)
    if found is None:
        found = app.extensions.setdefault(name, BoundedMemo(max_entries))
    return found
