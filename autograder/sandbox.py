"""Kernels for untrusted student code: bubblewrap sandbox, own user id, resource limits.

Inside, the kernel sees the Python installation, the course's virtual environment, helpers and
the dllib modules of earlier chapters read-only (never the graded chapter's own), and one
writable work folder (and a small /tmp and /dev/shm). It has no network,
its own process tree (killed as a whole), an unprivileged user id of its own, and rlimits on
address space, CPU time, processes and file size. Solutions, hidden tests, the gradebook and
other submissions are simply not there.

Memory and disk (:class:`Sandbox`, the host side of one sandbox):
- The work folder is a size-limited tmpfs mounted by the host on the folder it made, so the host
  still reads and writes the connection file and Unix sockets there; /tmp and /dev/shm are
  size-limited tmpfs of the sandbox's own. Nothing the kernel writes reaches the host's disk.
- Where a memory cgroup can be made (cgroup v2 with the memory controller, or v1's memory
  hierarchy), every process of the sandbox is in one of its own, limited to ``Limits.memory``:
  that counts all of them together, and their page cache, tmpfs files, memfds and SysV shared
  memory; past it the kernel OOM-kills inside the sandbox. The cgroup is removed afterwards.
- Elsewhere (warned once) memory is bounded per process only (RLIMIT_AS, times ``processes``),
  plus the tmpfs sizes; memfd_create, memfd_secret and SysV shmget are refused by a seccomp
  filter, since their pages count against no rlimit.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import importlib.util
import os
import platform
import shutil
import signal
import struct
import sys
import sysconfig
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from queue import Empty

from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient

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
    workdir_size: int = 512 * 2**20  # the writable work folder (memory-backed)


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


def bwrap_prefix(workdir: Path, uid: int, limits: Limits, library: tuple[str, ...] = (),
                 seccomp_fd: int | None = None) -> list[str]:
    """The command that runs a program in the sandbox, as ``uid``, with ``workdir`` writable.

    Of the course library only the modules named in ``library`` are there (see library.py).
    ``seccomp_fd``: an open file descriptor holding a compiled seccomp filter for bwrap to apply.
    Memory and the work folder's size are limited only through :class:`Sandbox`.
    """
    if BWRAP is None:
        raise RuntimeError("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    cmd = [BWRAP, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
           "--die-with-parent", "--new-session", "--clearenv",
           "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
           "--proc", "/proc", "--dev", "/dev"]
    if seccomp_fd is not None:
        cmd += ["--seccomp", str(seccomp_fd)]
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
    return cmd + limits_prefix(limits)


def limits_prefix(limits: Limits, *, own_user: bool = True) -> list[str]:
    """The command that runs a program under the limits: address space (memory), CPU seconds, file
    size, no core dumps; processes too when it runs as a user of its own (the limit is per user)."""
    # CPU: SIGXCPU at the limit (the kernel dies saying why), SIGKILL 5 s later should it catch that
    cmd = ["prlimit", f"--as={limits.memory}", f"--cpu={limits.cpu_time}:{limits.cpu_time + 5}",
           f"--fsize={limits.file_size}", "--core=0"]
    return cmd + ([f"--nproc={limits.processes}"] if own_user else []) + ["--"]


_WARNED = "AUTOGRADER_SANDBOX_WARNED"  # in the environment, so that worker processes do not repeat a warning


def _warn_once(key: str, message: str) -> None:
    """Warn once per run: processes started after this one (the grader's workers) inherit the mark."""
    seen = [k for k in os.environ.get(_WARNED, "").split(",") if k]
    if key not in seen:
        os.environ[_WARNED] = ",".join([*seen, key])
        warnings.warn(message, RuntimeWarning, stacklevel=3)


# --- the work folder: a size-limited tmpfs mounted by the host ---------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
MS_NOSUID, MS_NODEV, MNT_DETACH = 2, 4, 2


def _mount_tmpfs(folder: Path, size: int, uid: int) -> bool:
    """Mount a tmpfs of ``size`` bytes owned by ``uid`` on ``folder``; False (warned once) where refused."""
    inodes = max(1024, size // 2**15)  # one per 32 KiB: bounds the kernel memory of many empty files
    options = f"size={size},nr_inodes={inodes},mode=0700,uid={uid},gid={uid}"
    if _libc.mount(b"tmpfs", os.fsencode(folder), b"tmpfs", MS_NOSUID | MS_NODEV, options.encode()) == 0:
        return True
    _warn_once("tmpfs", f"the grading sandboxes' work folders cannot be tmpfs here (mount: "
               f"{os.strerror(ctypes.get_errno())}): they are on the host's disk, limited per file only")
    return False


# --- memory: a cgroup per sandbox, or a seccomp filter ----------------------------------------

@dataclass(frozen=True)
class MemoryCgroups:
    """Where each sandbox's memory cgroup is made: cgroup ``version`` 1 or 2, under ``parent``."""

    version: int
    parent: Path


def _candidates() -> Iterator[tuple[int, Path]]:
    """Folders that might take a memory cgroup: this process's own cgroup, then its ancestors,
    in every mounted hierarchy with the memory controller."""
    own: dict[int, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        number, controllers, path = line.split(":", 2)
        if number == "0" and not controllers:
            own[2] = path
        elif "memory" in controllers.split(","):
            own[1] = path
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields, _, rest = line.partition(" - ")
        root, mountpoint = fields.split()[3:5]
        fstype, _, options = rest.split()[:3]
        version = 2 if fstype == "cgroup2" else 1 if fstype == "cgroup" and "memory" in options.split(",") else 0
        top = Path(mountpoint)
        if not version or version == 2 and "memory" not in _read(top / "cgroup.controllers").split():
            continue
        path = own.get(version, "")
        inside = path == root or path.startswith(root.rstrip("/") + "/")  # else a cgroup outside this mount
        start = top / path[len(root):].lstrip("/") if inside else top
        yield from ((version, f) for f in (start, *start.parents) if f == top or top in f.parents)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _make_cgroup(version: int, parent: Path, limit: int) -> Path:
    """A new cgroup under ``parent`` whose processes together may use ``limit`` bytes."""
    folder = parent / f"{CGROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    folder.mkdir()
    try:
        if version == 2:
            (folder / "memory.max").write_text(str(limit))
            optional = {"memory.swap.max": "0", "memory.oom.group": "1"}  # no swap; OOM kills the whole sandbox
        else:
            (folder / "memory.limit_in_bytes").write_text(str(limit))
            optional = {"memory.memsw.limit_in_bytes": str(limit)}  # memory + swap (with swap accounting)
        for name, value in optional.items():
            with contextlib.suppress(OSError):
                (folder / name).write_text(value)
    except OSError:
        folder.rmdir()
        raise
    return folder


@functools.cache
def memory_cgroups() -> MemoryCgroups | None:
    """Where this machine lets each sandbox have a memory cgroup, or None (warned once); found once
    per process by making and removing one."""
    refusals: list[str] = []
    try:
        for version, parent in _candidates():
            try:
                if version == 2:  # children get the controller only from an ancestor without processes
                    control = parent / "cgroup.subtree_control"
                    if "memory" not in control.read_text().split():
                        control.write_text("+memory")
                _make_cgroup(version, parent, 2**30).rmdir()
                return MemoryCgroups(version, parent)
            except OSError as err:
                refusals.append(f"{parent}: {err.strerror or err}")
    except OSError as err:
        refusals.append(str(err))
    _warn_once("cgroup", "no memory cgroup can be made for the grading sandboxes ("
               + ("; ".join(refusals[:3]) or "no cgroup hierarchy with the memory controller")
               + "): memory is limited per process only; memfd_create and SysV shared memory are refused")
    return None


_SECCOMP_ARCHES = {  # machine: AUDIT_ARCH_*, numbers of memfd_create, shmget, memfd_secret
    "x86_64": (0xC000003E, (319, 29, 447)),
    "aarch64": (0xC00000B7, (279, 194, 447)),
}


def seccomp_filter() -> bytes | None:
    """A seccomp program (classic BPF, as bwrap --seccomp takes it) that refuses with EPERM the
    shared memory that no rlimit counts (memfd_create, memfd_secret, SysV shmget) and every call
    of a foreign ABI (32-bit, x32), which could reach them under other numbers; None elsewhere."""
    if platform.machine() not in _SECCOMP_ARCHES:
        return None
    arch, refused = _SECCOMP_ARCHES[platform.machine()]
    load, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_RET|K
    tests = [(jge, 0x4000_0000), *((jeq, number) for number in refused)]  # x32 numbers have bit 30 set
    n = len(tests)
    program = [(load, 0, 0, 4), (jeq, 0, n + 2, arch), (load, 0, 0, 0)]  # arch (else refuse), then number
    program += [(op, n - i, 0, k) for i, (op, k) in enumerate(tests)]  # a match jumps to the refusal
    program += [(ret, 0, 0, 0x7FFF_0000), (ret, 0, 0, 0x0005_0000 | errno.EPERM)]  # ALLOW; ERRNO(EPERM)
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)


@functools.cache
def _seccomp_fd() -> int | None:
    """A memfd holding :func:`seccomp_filter`, kept open for the process (forked workers inherit it)."""
    program = seccomp_filter()
    if program is None:
        return None
    fd = os.memfd_create("autograder-seccomp", os.MFD_CLOEXEC)
    os.write(fd, program)
    return fd


def _empty_cgroup(cgroup: Path, timeout: float = 5.0) -> None:
    """SIGKILL every process in ``cgroup`` until none is left (the grader itself is never in it)."""
    end = time.monotonic() + timeout
    while (pids := _read(cgroup / "cgroup.procs").split()) and time.monotonic() < end:
        if (cgroup / "cgroup.kill").exists():  # cgroup v2, Linux 5.14+
            (cgroup / "cgroup.kill").write_text("1")
        else:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
        time.sleep(0.01)


def _remove_cgroup(cgroup: Path) -> None:
    for _ in range(100):
        try:
            cgroup.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # EBUSY while the last processes exit
            time.sleep(0.02)
    _warn_once("cgroup-left", f"could not remove the sandbox cgroup {cgroup}")


WORK_PREFIX, CGROUP_PREFIX = "grade-", "autograder-"  # then the grading process's id


def work_folder() -> Path:
    """A new, empty folder for one grading kernel, named after this process (see :func:`sweep_stale`)."""
    return Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-"))


def _owner_gone(name: str, prefix: str) -> bool:
    pid = name.removeprefix(prefix).split("-", 1)[0]
    return pid.isdigit() and not Path(f"/proc/{pid}").exists()


def sweep_stale() -> int:
    """Release what the sandboxes of grading processes that died left behind (a worker killed
    mid-notebook cannot release its own): work folders, their mounts, cgroups. Returns how many."""
    found = 0
    mounts = {fields[4] for line in _read(Path("/proc/self/mountinfo")).splitlines()
              if len(fields := line.split()) > 4}
    for folder in Path(tempfile.gettempdir()).glob(f"{WORK_PREFIX}*"):
        if folder.is_dir() and _owner_gone(folder.name, WORK_PREFIX):
            found += 1
            if str(folder) in mounts:
                _libc.umount2(os.fsencode(folder), MNT_DETACH)
            shutil.rmtree(folder, ignore_errors=True)
    if (where := memory_cgroups()) is not None:
        for cgroup in where.parent.glob(f"{CGROUP_PREFIX}*"):
            if _owner_gone(cgroup.name, CGROUP_PREFIX):
                found += 1
                _empty_cgroup(cgroup)
                _remove_cgroup(cgroup)
    return found


class Sandbox:
    """The host side of one sandbox, also a context manager.

    :meth:`setup` mounts the size-limited work folder and makes the memory cgroup (or falls back,
    see the module docstring); :meth:`command` is the command line that runs a program inside;
    :meth:`release` kills what is left inside and undoes the rest.
    """

    def __init__(self, workdir: Path, uid: int, limits: Limits, library: tuple[str, ...] = ()):
        self.workdir, self.uid, self.limits, self.library = Path(workdir), uid, limits, library
        self.cgroup: Path | None = None  # None: the seccomp fallback
        self.mounted = False
        self._ready = False

    def setup(self) -> None:
        """Mount the work folder (which must be empty: the tmpfs would hide its files) and make the cgroup."""
        if self._ready:
            return
        if any(self.workdir.iterdir()):
            raise RuntimeError(f"the sandbox's work folder {self.workdir} is not empty")
        self.mounted = _mount_tmpfs(self.workdir, self.limits.workdir_size, self.uid)
        if (where := memory_cgroups()) is not None:
            try:
                self.cgroup = _make_cgroup(where.version, where.parent, self.limits.memory)
            except OSError as err:
                _warn_once("cgroup-make", f"a sandbox's memory cgroup could not be made ({err}): seccomp fallback")
        self._ready = True

    def command(self, argv: list[str]) -> list[str]:
        """The command line that runs ``argv`` in the sandbox (after :meth:`setup`)."""
        if not self._ready:
            raise RuntimeError("Sandbox.setup() first")
        if self.cgroup is not None:  # join the cgroup before bwrap starts: all inside is counted
            return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.cgroup / "cgroup.procs"),
                    *bwrap_prefix(self.workdir, self.uid, self.limits, self.library), *argv]
        if (fd := _seccomp_fd()) is None:
            return [*bwrap_prefix(self.workdir, self.uid, self.limits, self.library), *argv]
        return ["/bin/sh", "-c", 'exec "$@" 3< "$0"', f"/proc/{os.getpid()}/fd/{fd}",
                *bwrap_prefix(self.workdir, self.uid, self.limits, self.library, seccomp_fd=3), *argv]

    def release(self) -> None:
        """Kill every process left in the cgroup, unmount the work folder (its files are gone),
        remove the cgroup. Idempotent; call it before removing the work folder."""
        if self.cgroup is not None:
            _empty_cgroup(self.cgroup)
        if self.mounted:
            _libc.umount2(os.fsencode(self.workdir), MNT_DETACH)  # lazily, should a process still hold it
            self.mounted = False
        if self.cgroup is not None:
            _remove_cgroup(self.cgroup)
            self.cgroup = None
        self._ready = False

    def __enter__(self) -> Sandbox:
        self.setup()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class ReadyClient(AsyncKernelClient):
    """A kernel client ready as soon as the kernel has answered on its shell and IOPub channels.

    jupyter_client's own wait then listens for 0.2 s of IOPub silence, which every graded
    notebook would pay; what it would drop (the status messages of kernel_info) nbclient ignores,
    since it reads only the replies to its own requests."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            with contextlib.suppress(Empty):
                reply = await self.shell_channel.get_msg(timeout=1)
                if reply["msg_type"] == "kernel_info_reply":
                    await self.iopub_channel.get_msg(timeout=0.2)  # IOPub is connected too
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")


class LimitedKernelManager(AsyncKernelManager):
    """A kernel outside the sandbox (``--no-sandbox``, where bubblewrap is missing) that keeps the
    memory, CPU-time and file-size limits; it runs as the grader's user, with its files and network."""

    def __init__(self, *, limits: Limits, **kwargs):
        super().__init__(kernel_name="python3", client_class="autograder.sandbox.ReadyClient", **kwargs)
        self._limits = limits

    def format_kernel_cmd(self, extra_arguments=None):
        return limits_prefix(self._limits, own_user=False) + super().format_kernel_cmd(extra_arguments)


class SandboxedKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernel runs inside a :class:`Sandbox`, talking over Unix sockets.

    The sandbox is set up when the kernel starts and released when it is shut down; call
    :meth:`release` as well once done with the kernel (e.g. it never started), before removing ``workdir``.
    """

    def __init__(self, *, workdir: Path, uid: int, limits: Limits, library: tuple[str, ...] = (), **kwargs):
        super().__init__(kernel_name="python3", transport="ipc", client_class="autograder.sandbox.ReadyClient",
                         **kwargs)
        self.ip = str(workdir / "kernel")
        self.connection_file = str(workdir / "kernel.json")
        self.sandbox = Sandbox(workdir, uid, limits, library)
        self._uid = uid

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        os.chown(self.connection_file, self._uid, self._uid)  # the kernel runs as uid

    def format_kernel_cmd(self, extra_arguments=None):
        return self.sandbox.command(super().format_kernel_cmd(extra_arguments))

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

    def release(self) -> None:
        """Kill the kernel and all left in its sandbox, unmount the work folder, remove the cgroup (idempotent)."""
        self.kill_now()
        self.sandbox.release()

    async def _async_pre_start_kernel(self, **kw):
        self.sandbox.setup()  # the connection file and sockets go into the mounted work folder
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        kw["env"] = {}  # bwrap --clearenv sets the kernel's environment
        log = open(Path(self.connection_file).with_name("kernel.log"), "ab",  # noqa: SIM115
                   opener=lambda path, flags: os.open(path, flags | os.O_NOFOLLOW, 0o600))  # folder is the kernel's
        kw["stdout"] = kw["stderr"] = log
        return cmd, kw

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self.sandbox.release()

    cleanup_resources = _async_cleanup_resources
