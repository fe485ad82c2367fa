"""The bubblewrap command keeps the kernel's Python reachable wherever the checkout lives (e.g. under /tmp)."""
from __future__ import annotations

from grading import sandbox


def test_binds_below_tmp_get_traversable_parents(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "_python_roots", lambda: ["/tmp/checkout/.venv"])
    job = {"memory_mb": 256, "time_limit_s": 5, "profile": "bwrap", "uid": 123456, "run_dir": "/tmp/nia-kx",
           "work_dir": str(tmp_path / "work"), "etc_dir": str(tmp_path / "etc")}
    cmd = sandbox.build_command(job, ["python"])
    tmpfs_tmp = cmd.index("/tmp", cmd.index("--tmpfs") + 2)
    assert cmd[tmpfs_tmp - 1] == "--tmpfs"
    parent = cmd.index("/tmp/checkout")
    assert cmd[parent - 1] == "--dir" and cmd[parent - 3:parent - 1] == ["--perms", "0755"]
    assert tmpfs_tmp < parent < cmd.index("--ro-bind")  # created inside the /tmp tmpfs, before anything is bound
