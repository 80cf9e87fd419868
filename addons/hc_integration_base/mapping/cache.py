"""A small LRU of compiled mappings, keyed by (version id, last write date) or any hashable."""

import threading
from collections import OrderedDict


class MappingCache:
    def __init__(self, size=128):
        self.size = size
        self.hits = 0
        self.misses = 0
        self._items = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, build):
        with self._lock:
            if key in self._items:
                self.hits += 1
                self._items.move_to_end(key)
                return self._items[key]
        compiled = build()
        with self._lock:
            self.misses += 1
            self._items[key] = compiled
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return compiled

    def clear(self):
        with self._lock:
            self._items.clear()
