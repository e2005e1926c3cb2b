"""``main.py cache``: what the cache folder holds, and its size limit (engine.data.cache_limit).

``engine.cli.commands`` calls ``add_parsers(sub)`` and dispatches ``args.func(args)``.
"""
from __future__ import annotations

import json
import time

from engine.data.cache_limit import (
    cache_units,
    enforce_limit,
    parse_size,
    read_limit,
    write_limit,
)
from engine.runs.paths import RunPaths


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser(
        "cache", help="what <home>/cache holds; --limit sets its size limit (least recently used evicted)",
        description="List the decoded dataset splits and frozen-feature files under <home>/cache, least "
                    "recently used first. --limit SIZE (e.g. 20G, 512M, none) sets the limit and evicts "
                    "down to it now; every later cache build or feature extraction keeps to it.")
    p.add_argument("--limit", metavar="SIZE", help="size limit, e.g. 20G or 512M; none removes it")
    p.add_argument("--json", action="store_true")
    p.add_argument("--home", help="experiment home (default: PRETEXT_HOME or the user data folder)")
    p.set_defaults(func=cmd_cache)


def _gb(n: int) -> str:
    return f"{n / (1 << 30):.2f} GiB"


def cmd_cache(args) -> int:
    from engine.cli.commands import _home

    root = RunPaths(_home(args)).cache
    evicted = []
    if args.limit is not None:
        limit = parse_size(args.limit)
        write_limit(root, limit)
        evicted = enforce_limit(root)
    units, limit = cache_units(root), read_limit(root)
    total = sum(u.nbytes for u in units)
    if args.json:
        print(json.dumps({"limit_bytes": limit, "total_bytes": total, "evicted": [u.name for u in evicted],
                          "units": [{"name": u.name, "kind": u.kind, "bytes": u.nbytes, "last_used": u.last_used}
                                    for u in units]}, indent=2))
        return 0
    for u in evicted:
        print(f"evicted {u.kind} {u.name} ({_gb(u.nbytes)})")
    for u in units:
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(u.last_used))
        print(f"{used}  {_gb(u.nbytes):>11}  {u.kind:<8}  {u.name}")
    print(f"{len(units)} cached items, {_gb(total)} in {root}; limit: {_gb(limit) if limit else 'none'}")
    return 0
