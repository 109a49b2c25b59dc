"""Kernels for untrusted student code: bubblewrap sandbox, own user id, resource limits.

Inside, the kernel sees the Python installation, the course's virtual environment, helpers and
the dllib modules of earlier chapters read-only (never the graded chapter's own), and one
writable work folder (and a small /tmp and /dev/shm). It has no network,
its own process tree (killed as a whole), an unprivileged user id of its own, and rlimits on
address space, CPU time, processes and file size. Solutions, hidden tests, the gradebook and
other submissions are simply not there.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from jupyter_client import AsyncKernelManager

BWRAP = shutil.which("bwrap")
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/bin", "/etc")


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. ``cell_timeout`` and ``wall_time`` in seconds, memory in bytes."""

    cell_timeout: int = 60
    wall_time: int = 600
    cpu_time: int = 600
    memory: int = 6 * 2**30
    processes: int = 128
    file_size: int = 256 * 2**20
    scratch: int = 256 * 2**20  # each of /tmp and /dev/shm (memory-backed)


def sandbox_available() -> bool:
    """Whether bubblewrap is installed and can start a sandbox here (needs root for own uids)."""
    return BWRAP is not None and os.geteuid() == 0


def package_dirs(name: str) -> list[Path]:
    spec = importlib.util.find_spec(name)
    return [Path(p).resolve() for p in (spec.submodule_search_locations or [])] if spec else []


def readable_roots() -> list[Path]:
    """What a kernel must read: the interpreter, the environment, the helpers package."""
    roots = {Path(sys.base_prefix), Path(sys.prefix), Path(sysconfig.get_path("purelib")), *package_dirs("helpers")}
    roots = {p.resolve() for p in roots if p.exists()}
    return sorted(p for p in roots if not any(p != q and q in p.parents for q in roots))


def library_files(modules: tuple[str, ...]) -> list[Path]:
    """dllib's ``__init__`` and the named modules: all that a kernel may see of the course library."""
    return [path for folder in package_dirs("dllib") for path in
            (folder / "__init__.py", *(folder / f"{name}.py" for name in modules)) if path.is_file()]


def bwrap_prefix(workdir: Path, uid: int, limits: Limits, library: tuple[str, ...] = ()) -> list[str]:
    """The command that runs a program in the sandbox, as ``uid``, with ``workdir`` writable.

    Of the course library only the modules named in ``library`` are there (see library.py).
    """
    if BWRAP is None:
        raise RuntimeError("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    cmd = [BWRAP, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
           "--die-with-parent", "--new-session", "--clearenv",
           "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
           "--proc", "/proc", "--dev", "/dev"]
    # Writable scratch space of bounded size for every user: POSIX semaphores live in /dev/shm
    # (joblib and multiprocessing need them; without, joblib warns on stderr), tempfile uses /tmp.
    for scratch in ("/dev/shm", "/tmp"):
        cmd += ["--perms", "1777", "--size", str(limits.scratch), "--tmpfs", scratch]
    for folder in SYSTEM_DIRS:
        if Path(folder).exists():
            cmd += ["--ro-bind", folder, folder]
    made: set[Path] = set()
    for root in [*readable_roots(), *library_files(library), workdir]:
        for parent in reversed(root.parents):  # bwrap would create missing parents as 0700
            if str(parent) not in ("/", "/tmp", *SYSTEM_DIRS) and parent not in made:
                cmd += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        cmd += ["--bind" if root == workdir else "--ro-bind", str(root), str(root)]
    env = {
        "HOME": str(workdir), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "LANG": "C.UTF-8", "IPYTHONDIR": str(workdir / ".ipython"), "MPLCONFIGDIR": str(workdir / ".mpl"),
        "JUPYTER_RUNTIME_DIR": str(workdir / ".runtime"), "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
    }
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    cmd += ["--chdir", str(workdir)]
    cmd += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"]
    cmd += ["prlimit", f"--as={limits.memory}", f"--cpu={limits.cpu_time}",
            f"--nproc={limits.processes}", f"--fsize={limits.file_size}", "--core=0", "--"]
    return cmd


class SandboxedKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernel runs inside :func:`bwrap_prefix`, talking over Unix sockets."""

    def __init__(self, *, workdir: Path, uid: int, limits: Limits, library: tuple[str, ...] = (), **kwargs):
        super().__init__(kernel_name="python3", transport="ipc", **kwargs)
        self.ip = str(workdir / "kernel")
        self.connection_file = str(workdir / "kernel.json")
        self._prefix = bwrap_prefix(workdir, uid, limits, library)
        self._uid = uid

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        os.chown(self.connection_file, self._uid, self._uid)  # the kernel runs as uid

    def format_kernel_cmd(self, extra_arguments=None):
        return self._prefix + super().format_kernel_cmd(extra_arguments)

    async def _async_interrupt_kernel(self) -> None:
        # A signal would reach bwrap, not the kernel: ask the kernel to interrupt itself.
        self._connect_control_socket()
        self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))

    interrupt_kernel = _async_interrupt_kernel

    def kill_now(self) -> None:
        """Kill the sandbox and everything in it (safe to call from another thread)."""
        process = getattr(self.provisioner, "process", None)
        if process is not None and process.poll() is None:
            process.kill()

    async def _async_pre_start_kernel(self, **kw):
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        kw["env"] = {}  # bwrap --clearenv sets the kernel's environment
        log = open(Path(self.connection_file).with_name("kernel.log"), "ab")  # noqa: SIM115
        kw["stdout"] = kw["stderr"] = log
        return cmd, kw
