"""nbgrader's Execute step, hardened: sandboxed kernel, one wall-clock budget for the whole notebook, an output
cap, and plain-language messages instead of nbclient's (nbgrader #1846). When the kernel dies or runs out of
time, the remaining cells are marked as not run, so every notebook ends with a grade rather than a crash."""
from __future__ import annotations

import os
import signal
import time
from typing import Any

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, List

from .sandbox import SandboxKernelManager

# Taken before any trainee code runs; put back before every test cell, so `builtins.abs = lambda x: 0` or a
# patched showtraceback cannot make tests pass. (A kernel-level attack on IPython internals is not covered.)
GUARDED = ("builtins", "math", "operator")
SNAPSHOT = ("import sys as _s, types as _t, math as _ma, operator as _op\n_m = _t.ModuleType('_nia_guard')\n"
            f"_m.d = {{_n: dict(_s.modules[_n].__dict__) for _n in {GUARDED!r}}}\n"
            "_m.hook = _s.excepthook; _s.modules['_nia_guard'] = _m\ndel _s, _t, _m, _ma, _op")
RESTORE = ("import sys as _s\n_m = _s.modules.get('_nia_guard')\nif _m is not None:\n"
           "    for _n, _d in _m.d.items():\n"
           "        _mod = _s.modules.get(_n)\n"
           "        if _mod is not None: _mod.__dict__.clear(); _mod.__dict__.update(_d)\n"
           "    _s.excepthook = _m.hook\n"
           "    _ip = get_ipython()\n"
           "    for _k in ('showtraceback', 'showsyntaxerror', 'run_cell', 'run_cell_async', '_showtraceback'):\n"
           "        _ip.__dict__.pop(_k, None)\n"
           "del _s, _m")

SIGNAL_REASONS = {
    signal.SIGXCPU: "it used more CPU time than the lab allows",
    signal.SIGKILL: "it was stopped (memory exhausted, or a limit was hit)",
    signal.SIGSEGV: "it crashed (segmentation fault)",
    signal.SIGABRT: "it crashed (aborted; often because it ran out of memory)",
    signal.SIGXFSZ: "it wrote a file larger than allowed",
}


class SandboxExecute(Execute):
    wall_limit_s = Integer(60, help="Time budget for running the whole notebook.").tag(config=True)
    max_output_bytes = Integer(1_000_000, help="Output kept per notebook; more is dropped.").tag(config=True)
    messages = List([])  # filled during the run, read by the facade
    guard_builtins = Bool(True, help="Restore builtins before each test cell.").tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs["kernel_manager_class"] = SandboxKernelManager
        super().__init__(*args, **kwargs)
        self.interrupt_on_timeout = False
        self.kernel_name = "python3"  # never the notebook's choice: the sandbox builds the command anyway
        self.store_history = False

    # -- output cap -------------------------------------------------------------------------------------
    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int):
        size = len(str(msg.get("content", "")))
        self._output_bytes = getattr(self, "_output_bytes", 0) + size
        if self._output_bytes > self.max_output_bytes:
            if not getattr(self, "_output_truncated", False):
                self._output_truncated = True
                outs.append(NotebookNode(output_type="stream", name="stderr",
                                         text=f"\n[output truncated: more than {self.max_output_bytes:,} bytes]\n"))
                self.messages.append(f"Output was truncated after {self.max_output_bytes:,} bytes.")
            if self._output_bytes > 20 * self.max_output_bytes:
                self._stop_reason = ("it kept printing far more output than allowed "
                                     f"({self.max_output_bytes:,} bytes)")
                self._kill_kernel()
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _kill_kernel(self) -> None:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                process.kill()

    # -- the run ----------------------------------------------------------------------------------------
    def preprocess(self, nb, resources=None, km=None):
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._output_bytes, self._output_truncated, self._stop_reason = 0, False, None
        deadline = time.monotonic() + self.wall_limit_s
        try:
            with self.setup_kernel():
                info = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                if self.guard_builtins:
                    self.kc.execute(SNAPSHOT, silent=True, store_history=False)
                for index, cell in enumerate(self.nb.cells):
                    if self._stop_reason:
                        self._mark_not_run(cell)
                        continue
                    self._run_cell(cell, resources, index, deadline)
        except DeadKernelError:
            self._stop_reason = self._stop_reason or self._death_reason()
        except RuntimeError as error:  # kernel never became ready (e.g. could not start in the sandbox)
            self._stop_reason = self._stop_reason or f"it could not start ({error})"
        if self._stop_reason:
            for cell in self.nb.cells:
                if cell.cell_type == "code" and not cell.get("execution_count") and not cell.get("outputs"):
                    self._mark_not_run(cell)
        self.set_widgets_metadata()
        return self.nb, self.resources

    def _run_cell(self, cell, resources, index: int, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0.5:
            self._stop_reason = f"the notebook ran past the lab's time limit of {self.wall_limit_s} s"
            self._mark_not_run(cell)
            self._kill_kernel()
            return
        self.timeout = max(1, int(remaining))
        try:
            if self.guard_builtins and cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
                self._restore()
            self.preprocess_cell(cell, resources, index)
        except CellTimeoutError:
            self._stop_reason = f"the notebook ran past the lab's time limit of {self.wall_limit_s} s"
            self._append_error(cell, "TimeLimitExceeded",
                               f"This cell was still running when the lab's time limit of {self.wall_limit_s} s "
                               "ran out, so grading stopped here. Look for an endless loop or a long sleep.")
            self._kill_kernel()
        except DeadKernelError:
            self._stop_reason = self._stop_reason or self._death_reason()
            self._append_error(cell, "KernelDied", f"The Python kernel stopped while running this cell: "
                                                   f"{self._stop_reason}.")

    def _restore(self) -> None:
        """Before each test cell, put back builtins the trainee's code may have monkeypatched."""
        try:
            self.kc.execute(RESTORE, silent=True, store_history=False)
        except Exception:  # the test cell itself will report a broken kernel
            pass

    def _death_reason(self) -> str:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None else None
        if code is None:
            return "it stopped responding"
        if code < 0:
            return SIGNAL_REASONS.get(-code, f"it was killed by signal {-code}")
        if code > 128 and (code - 128) in SIGNAL_REASONS:  # bubblewrap reports the child's signal as 128+n
            return SIGNAL_REASONS[code - 128]
        startup = self._stderr_tail()
        if "bwrap:" in startup or "setpriv:" in startup or "prlimit:" in startup:
            return f"the sandbox could not start it ({startup})"
        return f"it exited with status {code} (for example os._exit or sys.exit in the kernel)"

    def _stderr_tail(self) -> str:
        run_dir = (getattr(self.km, "job", None) or {}).get("run_dir")
        try:
            with open(os.path.join(run_dir, "kernel-stderr.log"), "rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - 400))
                return handle.read().decode("utf-8", "replace").strip().splitlines()[-1][:300]
        except (OSError, TypeError, IndexError):
            return ""

    @staticmethod
    def _append_error(cell, ename: str, evalue: str) -> None:
        cell.setdefault("outputs", []).append(NotebookNode(output_type="error", ename=ename, evalue=evalue,
                                                           traceback=[f"{ename}: {evalue}"]))

    def _mark_not_run(self, cell) -> None:
        if cell.cell_type != "code":
            return
        cell["outputs"] = []
        self._append_error(cell, "NotRun", f"Not run: grading stopped earlier because {self._stop_reason}.")
