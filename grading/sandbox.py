"""The kernel that runs trainee code, confined by bubblewrap, with resource limits.

We sandbox the kernel, not the grader: nbgrader (trusted) runs in the worker; the ipykernel it starts runs as
`prlimit … bwrap … setpriv --reuid <fresh uid> python -m ipykernel_launcher`, talking over unix sockets (ipc)
because the sandbox has no network. What the kernel can see: a read-only /usr, the Python install and venv,
a tiny synthetic /etc, its own scratch directory (writable, cwd) and its socket directory. Not the course
directory, gradebook, other submissions, hidden tests, the LMS instance folder or environment.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import Dict

SANDBOX_HOME = "/sandbox/work"
PROFILE_BWRAP = "bwrap:net-none,ro-system,own-dir,uid-fresh,pid-ns,rlimits"  # worker runs as root
PROFILE_BWRAP_USERNS = "bwrap:net-none,ro-system,own-dir,userns-uid65534,pid-ns,rlimits"  # worker not root
PROFILE_UNSAFE = "UNSAFE:no-isolation,rlimits"
UID_BASE = 2_000_000  # outside any real account range; each kernel gets its own uid, so NPROC is per kernel


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or broken and unsafe grading was not allowed."""


@lru_cache(maxsize=1)
def bwrap_problem() -> str | None:
    """None when bubblewrap can build our sandbox here, else what is wrong (checked once per process)."""
    exe = shutil.which("bwrap")
    if not exe:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    for tool in ("prlimit", "setpriv"):
        if not shutil.which(tool):
            return f"{tool} (util-linux) is not installed"
    userns = [] if os.geteuid() == 0 else ["--unshare-user"]
    try:
        probe = subprocess.run([exe, *userns, "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-pid",
                                "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv",
                                "--ro-bind", "/", "/", "--perms", "1777", "--size", "1048576", "--tmpfs", "/tmp",
                                "true"],
                               capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap could not start: {error}"
    if probe.returncode != 0:
        return f"bwrap cannot create namespaces here: {probe.stderr.decode(errors='replace').strip()[:300]}"
    return None


def bwrap_profile() -> str:
    return PROFILE_BWRAP if os.geteuid() == 0 else PROFILE_BWRAP_USERNS


def is_bwrap(profile: str | None) -> bool:
    return bool(profile) and profile.startswith("bwrap:")


def profile_for(allow_unsafe: bool) -> str:
    """The sandbox profile name to record on grades; raises SandboxUnavailable when we must refuse."""
    problem = bwrap_problem()
    if problem is None:
        return bwrap_profile()
    if allow_unsafe:
        return PROFILE_UNSAFE
    raise SandboxUnavailable(f"Grading refused: {problem}. Trainee code only runs in the bubblewrap sandbox; "
                             "set GRADING_ALLOW_UNSAFE=true only on a development machine.")


def status(allow_unsafe: bool) -> dict[str, Any]:
    problem = bwrap_problem()
    if problem is None:
        return {"status": "ok", "sandbox": bwrap_profile()}
    if allow_unsafe:
        return {"status": "degraded", "sandbox": PROFILE_UNSAFE,
                "warning": f"UNSAFE: trainee code runs WITHOUT isolation ({problem})"}
    return {"status": "down", "sandbox": None, "error": f"grading refused: {problem}"}


def _python_roots() -> list[str]:
    """Directories the kernel's Python needs, read-only: the base install and the venv."""
    roots = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    return sorted(r for r in roots if not r.startswith("/usr"))


def _parents(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def _write_etc(directory: Path, uid: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "passwd").write_text(
        f"root:x:0:0::/root:/bin/false\ntrainee:x:{uid}:{uid}::{SANDBOX_HOME}:/bin/false\n")
    (directory / "group").write_text(f"root:x:0:\ntrainee:x:{uid}:\n")
    (directory / "hosts").write_text("127.0.0.1 localhost\n")


def build_command(job: dict[str, Any], kernel_argv: list[str]) -> list[str]:
    """The full argv: rlimits, then (unless unsafe) bubblewrap and the uid switch, then the kernel."""
    memory = int(job["memory_mb"]) * 1024 * 1024
    cpu = int(job["time_limit_s"]) + 5
    limits = ["prlimit", f"--data={memory}", f"--as={memory + 3 * 1024**3}", f"--cpu={cpu}:{cpu + 5}",
              f"--nproc={int(job.get('max_processes', 64))}", f"--fsize={int(job.get('max_file_mb', 64)) * 1024**2}",
              "--core=0", "--nofile=256", "--"]
    env = {"HOME": SANDBOX_HOME, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONUNBUFFERED": "1", "JPY_PARENT_PID": "1", "MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
           **{k: str(v) for k, v in job.get("env", {}).items()}}
    if job["profile"] == PROFILE_UNSAFE:
        return limits + ["env", "-i", "-C", job["work_dir"]] + [f"{k}={v}" for k, v in env.items()] + kernel_argv
    uid = job.get("uid")
    cmd = [shutil.which("bwrap") or "bwrap", *([] if uid else ["--unshare-user", "--uid", "65534", "--gid", "65534"]),
           "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-pid",
           "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv", "--hostname", "sandbox",
           "--tmpfs", "/",
           # /tmp first: parents of binds below it (a venv or project checked out under /tmp) must be created
           # inside this tmpfs with 0755, or bwrap makes them 0700 and the kernel's uid cannot reach its Python.
           "--perms", "1777", "--size", str(64 * 1024**2), "--tmpfs", "/tmp"]
    made: set[str] = {"/tmp"}
    binds = [(root, root) for root in _python_roots()] + [(job["run_dir"], job["run_dir"])]
    binds += [(src, dst) for src, dst in job.get("extra_ro", [])]
    for _src, dst in binds + [(None, SANDBOX_HOME)]:
        for parent in _parents(dst):
            if parent not in made:
                made.add(parent)
                cmd += ["--perms", "0755", "--dir", parent]
    cmd += ["--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin",
            "--ro-bind", job["etc_dir"], "/etc", "--proc", "/proc", "--dev", "/dev"]
    for root in _python_roots():
        cmd += ["--ro-bind", root, root]
    for src, dst in job.get("extra_ro", []):
        cmd += ["--ro-bind", src, dst]
    cmd += ["--bind", job["work_dir"], SANDBOX_HOME, "--bind", job["run_dir"], job["run_dir"],
            "--chdir", SANDBOX_HOME]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    cmd += ["--remount-ro", "/", "--"]
    if uid:  # root: drop to a fresh real uid (RLIMIT_NPROC then counts only this kernel's processes)
        cmd += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs", "--"]
    return limits + cmd + kernel_argv


def prepare_job_dirs(base: Path, allow_unsafe: bool) -> dict[str, Any]:
    """Scratch (cwd), socket and /etc directories for one kernel, owned by a fresh uid."""
    # As root we switch the kernel to a fresh real uid; otherwise bubblewrap maps us to 65534 in a user namespace.
    profile = profile_for(allow_unsafe)  # raises SandboxUnavailable before anything is created
    uid = UID_BASE + secrets.randbelow(1_000_000_000) if os.geteuid() == 0 else None
    run_dir = Path(tempfile.mkdtemp(prefix="nia-k", dir="/tmp"))  # short: unix socket paths max 107 bytes
    work_dir, etc_dir = base / "work", base / "etc"
    work_dir.mkdir(parents=True, exist_ok=True)
    _write_etc(etc_dir, uid or 65534)
    if is_bwrap(profile) and uid:
        for path in (run_dir, work_dir):
            os.chown(path, uid, uid)
            path.chmod(0o700)
    return {"uid": uid, "run_dir": str(run_dir), "work_dir": str(work_dir), "etc_dir": str(etc_dir),
            "profile": profile}


def cleanup_job_dirs(job: dict[str, Any]) -> None:
    shutil.rmtree(job.get("run_dir", ""), ignore_errors=True)


def extra_readonly_paths(app_root: Path) -> list[tuple[str, str]]:
    """Read-only code the labs may import: the virtual_lab package (for offline replay of the line)."""
    found = []
    package = app_root / "virtual_lab"
    if (package / "__init__.py").is_file():
        found.append((str(package), "/opt/nia/virtual_lab"))
    return found


class SandboxKernelManager(AsyncKernelManager):
    """Starts the kernel through build_command; ipc transport, connection file inside the run dir."""

    job = Dict(config=True, help="Per-job sandbox parameters (dirs, uid, limits, env, profile).")

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        connection_file = os.path.realpath(self.connection_file)
        if is_bwrap(self.job.get("profile")) and self.job.get("uid") and os.path.exists(connection_file):
            os.chown(connection_file, int(self.job["uid"]), int(self.job["uid"]))
        self._stage_data_files()
        env = dict(self.job.get("env", {}))
        if self.job.get("extra_ro"):
            env["PYTHONPATH"] = "/opt/nia" if is_bwrap(self.job["profile"]) else \
                str(Path(self.job["extra_ro"][0][0]).parent)
        kernel = [sys.executable, "-s", "-m", "ipykernel_launcher", "-f", connection_file,
                  "--IPKernelApp.capture_fd_output=True", *(extra_arguments or [])]
        return build_command({**self.job, "env": env}, kernel)

    def _stage_data_files(self) -> None:
        """The lab's data files (not the notebooks, which hold the hidden tests) go into the kernel's own dir."""
        source = (self._launch_args or {}).get("cwd")
        work, uid = self.job.get("work_dir"), self.job.get("uid")
        if not source or not work or not os.path.isdir(source):
            return
        for path in Path(source).rglob("*"):
            if path.suffix == ".ipynb" or ".ipynb_checkpoints" in path.parts or not path.is_file():
                continue
            target = Path(work) / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            if uid and is_bwrap(self.job.get("profile")):
                os.chown(target, uid, uid)
                for parent in target.relative_to(work).parents:
                    if str(parent) != ".":
                        os.chown(Path(work) / parent, uid, uid)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        # Kernel chatter never reaches the worker's terminal; stderr is kept for the death reason.
        kw["stdout"] = subprocess.DEVNULL
        log = open(os.path.join(self.job["run_dir"], "kernel-stderr.log"), "ab") if self.job.get("run_dir") \
            else None  # noqa: SIM115
        if log is not None:
            kw["stderr"] = log
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            if log is not None:
                log.close()

    _launch_kernel = _async_launch_kernel
