"""A short digest of the files a dataset is decoded from, so its cache is rebuilt when
they change (the cache key is the dataset's params plus its ``version``)."""
from __future__ import annotations

import hashlib
import os
from typing import Iterable


def fingerprint(paths: Iterable[str]) -> str:
    """Digest of each path's name, size and modification time (missing files count too)."""
    h = hashlib.sha1()
    for path in paths:
        try:
            st = os.stat(path)
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
        except OSError:
            h.update(f"{path}\0missing\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:16]
