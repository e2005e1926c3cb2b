"""Refusing an experiment home on a network filesystem, where SQLite's locking is unsafe.

SQLite's documentation ("How To Corrupt An SQLite Database File", section 2.1) warns that
POSIX advisory locks are broken or missing on many network filesystems (NFS, SMB/CIFS,
sshfs and other FUSE mounts), so two writers can corrupt the store. The home's mount is
looked up in ``/proc/mounts`` (Linux; elsewhere nothing is detected) by the longest mount
point above the home's real path. ``PRETEXT_ALLOW_NETWORK_HOME=1`` turns the refusal into a
warning for a user who knows only one process on one machine will ever write.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MOUNTS = Path("/proc/mounts")
ALLOW_ENV = "PRETEXT_ALLOW_NETWORK_HOME"
NETWORK_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "ncpfs", "afs", "9p", "ceph",
    "glusterfs", "lustre", "gpfs", "beegfs", "davfs", "fuse.sshfs", "fuse.s3fs", "fuse.rclone",
    "fuse.gcsfuse", "fuse.glusterfs", "fuse.davfs2", "fuse.cephfs", "fuse.juicefs",
})


@dataclass(frozen=True)
class Mount:
    point: Path
    fstype: str
    source: str


def _unescape(field: str) -> str:
    """/proc/mounts writes a space as \\040, a tab as \\011, a backslash as \\134."""
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def mount_of(path: Path, mounts_file: Path = MOUNTS) -> Mount | None:
    """The mount holding ``path`` (the longest mount point above its real path), or None."""
    try:
        lines = mounts_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    real = Path(os.path.realpath(path))
    best: Mount | None = None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = Path(_unescape(fields[1]))
        if (real == point or point in real.parents) and (best is None or len(point.parts) > len(best.point.parts)):
            best = Mount(point, fields[2], _unescape(fields[0]))
    return best


def network_mount(path: Path, mounts_file: Path = MOUNTS) -> Mount | None:
    """The mount holding ``path`` when it is a network filesystem, else None."""
    m = mount_of(path, mounts_file)
    return m if m is not None and m.fstype.lower() in NETWORK_TYPES else None


def network_home_problem(home: Path, mounts_file: Path = MOUNTS) -> str | None:
    """One sentence saying why ``home`` should not hold the store, or None when it may."""
    m = network_mount(home, mounts_file)
    if m is None:
        return None
    return (f"the home {home} is on a network filesystem ({m.fstype} from {m.source}), where SQLite's file "
            f"locking is unsafe and the experiment store can be corrupted; use a local folder "
            f"(--home or PRETEXT_HOME), or set {ALLOW_ENV}=1 if only one process on one machine will use it")


def allowed_anyway() -> bool:
    return os.environ.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes")


_checked: dict[str, str | None] = {}  # per process: the mount table is read once per home


def check_home(home: Path, mounts_file: Path = MOUNTS) -> str | None:
    """Raise nothing and return None for a local home; for a network one return the problem
    when ``PRETEXT_ALLOW_NETWORK_HOME`` allows it (the caller warns), else raise ValueError."""
    key = f"{mounts_file}:{os.path.realpath(home)}"
    if key not in _checked:
        _checked[key] = network_home_problem(Path(home), mounts_file)
    problem = _checked[key]
    if problem is not None and not allowed_anyway():
        raise ValueError(problem)
    return problem
