"""Guarantee: a home on a network filesystem (NFS, SMB, sshfs) is refused with the reason,
SQLite's locking being unsafe there (issue 19); PRETEXT_ALLOW_NETWORK_HOME=1 turns the
refusal into a warning; a local home is untouched."""
from __future__ import annotations

import pytest

from engine.store import network_home
from engine.store.database import Store, StoreError

pytestmark = pytest.mark.faults


@pytest.fixture
def mounts(tmp_path, monkeypatch):
    """A fake mount table: / is ext4, <tmp>/nfs is NFS, <tmp>/nfs/local is ext4 again,
    <tmp>/my share is sshfs (a space in its mount point)."""
    table = tmp_path / "mounts"
    table.write_text(
        "/dev/sda1 / ext4 rw 0 0\n"
        f"server:/export {tmp_path}/nfs nfs4 rw,relatime 0 0\n"
        f"/dev/sdb1 {tmp_path}/nfs/local ext4 rw 0 0\n"
        f"me@host:/data {str(tmp_path / 'my share').replace(' ', chr(92) + '040')} fuse.sshfs rw 0 0\n")
    monkeypatch.setattr(network_home, "MOUNTS", table)
    monkeypatch.setattr(network_home.check_home, "__defaults__", (table,))
    network_home._checked.clear()
    monkeypatch.delenv(network_home.ALLOW_ENV, raising=False)
    return table


@pytest.mark.parametrize("where, fstype", [("nfs/home", "nfs4"), ("my share/pretext", "fuse.sshfs")])
def test_a_home_on_a_network_filesystem_is_refused_with_the_reason(tmp_path, mounts, where, fstype):
    with pytest.raises(StoreError) as e:
        Store(tmp_path / where)
    msg = str(e.value)
    assert fstype in msg and "locking" in msg and "\n" not in msg
    assert not (tmp_path / where / "experiments.db").exists()


def test_the_innermost_mount_decides(tmp_path, mounts):
    with Store(tmp_path / "nfs" / "local" / "home") as store:  # ext4 mounted inside the NFS share
        assert store.list_runs() == []
    assert network_home.mount_of(tmp_path / "nfs" / "x", mounts).fstype == "nfs4"


def test_allowing_it_warns_once_and_opens(tmp_path, mounts, monkeypatch, capsys):
    monkeypatch.setenv(network_home.ALLOW_ENV, "1")
    for _ in range(3):
        Store(tmp_path / "nfs" / "home").close()
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "nfs4" in err


def test_the_cli_says_it_in_one_sentence(tmp_path, mounts):
    import subprocess
    import sys

    home = tmp_path / "nfs" / "home"
    code = (f"import sys; from engine.store import network_home as n; n.MOUNTS = n.Path({str(mounts)!r}); "
            f"n.check_home.__defaults__ = (n.MOUNTS,); from engine.cli.commands import main; "
            f"sys.exit(main(['runs', '--home', {str(home)!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "network filesystem" in r.stderr, r.stderr


def test_this_machines_real_mount_table_is_read(tmp_path):
    m = network_home.mount_of(tmp_path)
    assert m is None or m.point in [tmp_path, *tmp_path.parents]
