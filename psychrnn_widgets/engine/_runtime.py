"""Process-wide TensorFlow settings: a persistent XLA compilation cache, heap release, cores.

Compiling the update with XLA is most of the wait before the first update (1.4 to 2 s
measured on 2 cores). TensorFlow can keep compiled programs on disk and load them in any later
process that builds the same program: a restarted kernel, the next notebook, every page of a
classroom server.
:func:`enable_compilation_cache`, called when ``psychrnn_widgets.engine`` is imported, turns
that on.

The cache directory name contains the TensorFlow version and a fingerprint of the CPU and of
``XLA_FLAGS``. A program compiled for one CPU, one XLA version or other compiler options must
never be loaded with another, as in a home directory shared by cluster nodes. A cache entry
is about 0.7 MB. The directory is pruned to the newest entries when it passes
:data:`MAX_CACHE_BYTES`.

Set ``PSYCHRNN_WIDGETS_XLA_CACHE=off`` to turn the cache off, or to a directory to put it there.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
from importlib import metadata
import logging
import os
import platform
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "MAX_BATCH_SHARDS",
    "MAX_CACHE_BYTES",
    "MIN_SHARD_TRIALS",
    "auto_batch_shards",
    "cache_directory",
    "cgroup_cpu_limit",
    "enable_compilation_cache",
    "quiet_own_retracing_warnings",
    "release_free_memory",
    "usable_cores",
    "without_cache_load_message",
]

logger = logging.getLogger(__name__)

MAX_CACHE_BYTES = 256 * 2**20
_FLAG = "--tf_xla_persistent_cache_directory"
_OFF = {"0", "off", "false", "no", "none"}


def _cpu_fingerprint() -> str:
    # XLA_FLAGS contains compiler options (target ISA, fast math). Programs compiled with other
    # options go to another directory, so a changed option never meets a stale program.
    text = platform.machine() + platform.processor() + os.environ.get("XLA_FLAGS", "")
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith(("model name", "flags", "Features")):
                    text += line
                if line.strip() == "":
                    break  # the first processor describes them all
    except OSError:
        pass
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def cache_directory() -> Path | None:
    """Return the directory of the compilation cache, or None when it is turned off."""
    setting = os.environ.get("PSYCHRNN_WIDGETS_XLA_CACHE", "").strip()
    if setting.lower() in _OFF:
        return None
    if setting:
        root = Path(setting).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = Path(base) / "psychrnn_widgets" / "xla"
    return root / f"tf-{_tensorflow_version()}-{_cpu_fingerprint()}"


def _tensorflow_version() -> str:
    """Return the installed TensorFlow version without importing TensorFlow."""
    for distribution in ("tensorflow-cpu", "tensorflow"):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def _prune(directory: Path, limit: int) -> None:
    """Delete the least recently written entries until the directory is at most half of ``limit``."""
    entries = []
    for path in directory.glob("*.pb"):
        try:
            stat = path.stat()
        except OSError:
            continue
        entries.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in entries)
    if total <= limit:
        return
    for _, size, path in sorted(entries):
        if total <= limit // 2:
            break
        try:
            path.unlink()
            total -= size
        except OSError:
            pass


def enable_compilation_cache() -> Path | None:
    """Point TensorFlow's persistent XLA cache at :func:`cache_directory` and return it, or None.

    TensorFlow reads ``TF_XLA_FLAGS`` when it sets up its devices, at the first operation it
    runs, so this must come before that. ``import psychrnn_widgets.engine`` calls it. A cache
    directory the user set in ``TF_XLA_FLAGS`` is left alone. A directory that cannot be created
    turns the cache off.
    """
    flags = os.environ.get("TF_XLA_FLAGS", "")
    if _FLAG in flags:
        return None
    directory = cache_directory()
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _prune(directory, MAX_CACHE_BYTES)
    except OSError as error:
        logger.info("XLA compilation cache is off: cannot create %s (%s)", directory, error)
        return None
    os.environ["TF_XLA_FLAGS"] = f"{flags} {_FLAG}={directory}".strip()
    return directory


def release_free_memory() -> None:
    """Hand memory that the C heap has freed back to the operating system (glibc only).

    glibc keeps the memory that XLA compilation freed mapped. Returning it lowered the resident
    memory of a trained process by about 150 MB in one measurement.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # musl or another C library: nothing to do
        pass


# TensorFlow first tries to read a cache entry as a text protobuf, which fails and logs this
# line on stderr, and then reads the binary file it wrote. The line is noise, and in a notebook
# ipykernel shows it under the cell.
_CACHE_LOAD_MESSAGE = b"Error parsing text-format tensorflow.XlaSerializedCacheEntry"


@contextlib.contextmanager
def without_cache_load_message() -> Iterator[None]:
    """Hold back the harmless cache-load line from file descriptor 2 while the block runs.

    Everything else written to the descriptor meanwhile is written back when the block ends,
    in order, so no message is lost, only delayed.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no descriptor 2 (some embedded hosts)
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().splitlines(keepends=True)
            other_lines = b"".join(line for line in lines if _CACHE_LOAD_MESSAGE not in line)
            if other_lines:
                os.write(2, other_lines)


# Each network and trainer traces its own functions once, by design, because they capture their
# own variables. TensorFlow counts traces per Python function across instances and then warns
# about "retracing" in any notebook that builds a few networks, which misleads users.
_OWN_FUNCTIONS = ("CompiledUpdate.", "NetworkBase.", "RateRNN.", "LSTM.", "GRU.", "_GatedNetwork.")


class _OwnRetracingFilter(logging.Filter):
    """Drop TensorFlow's retracing warning when it is about this package's functions."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "tf.function retracing" not in message:
            return True
        return not any(name in message for name in _OWN_FUNCTIONS)


def quiet_own_retracing_warnings() -> None:
    """Install :class:`_OwnRetracingFilter` on TensorFlow's logger once."""
    tf_logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _OwnRetracingFilter) for f in tf_logger.filters):
        tf_logger.addFilter(_OwnRetracingFilter())


# Limits of auto_batch_shards.
MAX_BATCH_SHARDS = 8
MIN_SHARD_TRIALS = 4


def cgroup_cpu_limit(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """Return the CPU quota of this process's cgroup in cores, or None when it has none."""
    try:
        # cgroup v2: "max 100000" (no quota) or "200000 100000" (2 cores).
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        # cgroup v1: a quota of -1 means none.
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None


def usable_cores() -> int:
    """Return how many CPU cores this process can use.

    That is the cores it may run on, capped by a container's CPU quota: a Binder or JupyterHub
    pod may see every core of its host and still get only one or two cores' worth of time.
    """
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    if limit is not None:
        cores = min(cores, max(int(limit + 0.5), 1))
    return max(cores, 1)


def auto_batch_shards(n_batch: int, cores: int | None = None, inter_op_threads: int = 0) -> int:
    """Return how many parts a training batch of ``n_batch`` trials is split into on a CPU.

    Each part runs its forward pass and gradients as a separate compiled program, and TensorFlow
    runs the programs side by side on its inter-op threads. XLA runs the steps of one
    recurrence on a single core, so this is how an update uses more than one. On 2 cores, two
    parts made the LSTM's forward pass and gradients 1.9 times faster (N_batch 50, N_rec 50,
    200 steps), and even parts of 4 trials were faster than one part of 8.

    The count is the usable cores (:func:`usable_cores`, or ``cores``), at most
    ``inter_op_threads`` when that is set (0: TensorFlow's default, one per core), at most
    :data:`MAX_BATCH_SHARDS`, and small enough that every part has :data:`MIN_SHARD_TRIALS`
    trials.

    NOTE: measured on 2 cores only. Whether 8 parts pay off on 8 or more cores is untested.
    """
    available = usable_cores() if cores is None else int(cores)
    if inter_op_threads > 0:
        available = min(available, int(inter_op_threads))
    return max(1, min(available, MAX_BATCH_SHARDS, int(n_batch) // MIN_SHARD_TRIALS))
