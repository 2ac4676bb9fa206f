"""Where work runs: serially, in local processes, or on a dask.distributed cluster.

This is the only module that knows how work is spread (DESIGN §6). Callers split their work
into independent chunks (blocks of spectra) and call :func:`map_chunks` with a top-level,
picklable function; the results come back in chunk order whichever way they ran, so a fit gives
the same table serially, on 2 local processes or on a cluster (a test asserts it).

BLAS is limited to one thread inside every worker: many small batched solves are faster that
way than one process fighting its own BLAS threads for the cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from specssb.errors import ConfigError, FitError

__all__ = ["cluster_snapshot", "map_chunks", "plan_chunks", "shares_files", "workers_see"]

#: Largest default chunk, in values (spectra × points). 2**17 float64 values are 1 MiB, the
#: L2 cache of one core on the machine we measured, so the batched solver's (spectra × points)
#: working arrays stay in cache. Measured on the fit benchmark, spectra/s for chunks of 2**15,
#: 2**16, 2**17, 2**18 values: S 2p (400 points) 2,832 / 2,934 / 2,808 / 2,761; Raman window
#: (82 points) 20,585 / 22,498 / 22,696 / 20,784; Raman whole axis (1,000 points) 2,154 /
#: 2,752 / 3,097 / 2,944.
CHUNK_VALUES = 2**17

#: Chunks submitted at once per dask worker thread (local processes: the executor's own queue
#: holds one more than the workers), so that inputs are read as they are needed.
IN_FLIGHT_PER_WORKER = 4

T = TypeVar("T")
R = TypeVar("R")


def plan_chunks(
    n_items: int, *, workers: int = 1, chunk_size: int | None = None, points: int = 1
) -> list[slice]:
    """Split ``n_items`` into contiguous slices.

    Parameters
    ----------
    n_items : int
        Number of spectra.
    workers : int
        Workers that will share them; by default each gets about four chunks, so a slow chunk
        does not leave the others idle, and no chunk holds more than :data:`CHUNK_VALUES`
        values (``points`` per spectrum).
    chunk_size : int, optional
        Spectra per chunk (overrides the default).
    points : int, default 1
        Values per spectrum (points of the fitted axis), for the default chunk size.

    Returns
    -------
    list of slice
    """
    if n_items <= 0:
        return []
    if chunk_size is None:
        chunk_size = max(1, -(-n_items // max(1, 4 * workers))) if workers > 1 else n_items
        chunk_size = min(chunk_size, max(1, CHUNK_VALUES // max(1, points)))
    return [slice(start, min(start + chunk_size, n_items)) for start in range(0, n_items, chunk_size)]


def _single_thread_blas() -> None:
    """Worker initializer: one BLAS/OpenMP thread."""
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl ships with scipy's stack
        pass


def map_chunks(
    function: Callable[[T], R],
    chunks: Sequence[T],
    *,
    workers: int = 1,
    scheduler: str | None = None,
) -> list[R]:
    """Apply ``function`` to every chunk and return the results in chunk order.

    Parameters
    ----------
    function : callable
        A module-level function (it is pickled to reach other processes).
    chunks : sequence
        Its inputs.
    workers : int, default 1
        1: run here, serially. N > 1: N local worker processes.
    scheduler : str, optional
        A dask.distributed scheduler address (``tcp://host:8786``), or ``"local"`` for an
        in-process ``LocalCluster`` with ``workers`` single-threaded worker processes. Needs
        the ``distributed`` extra. When the process's default ``Client`` is connected to that
        address it is used (and left open); otherwise a Client is opened for the call.

    Returns
    -------
    list
        One result per chunk.

    Raises
    ------
    ConfigError
        For ``workers < 1`` or dask missing.
    FitError
        When chunks failed; the message names them, and the chunks that succeeded are in
        ``error.results`` (None for the failed ones), so nothing computed is lost.
    """
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, not {workers}", key="workers")
    if scheduler is not None:
        return _collect(_run_dask(function, chunks, workers, scheduler))
    if workers == 1 or len(chunks) <= 1:
        return _collect([_attempt(function, chunk) for chunk in chunks])
    with ProcessPoolExecutor(max_workers=workers, initializer=_single_thread_blas) as pool:
        futures = [pool.submit(function, chunk) for chunk in chunks]
        outcomes = [_outcome(future) for future in futures]  # a dead worker loses no other
    return _collect(outcomes)


def shares_files(workers: int = 1, scheduler: str | None = None) -> bool:
    """Whether the processes that :func:`map_chunks` would use see this machine's files.

    True when the chunks run here or in local processes (``workers``), on a ``"local"``
    cluster, or on a dask cluster all of whose workers run on this host. Then a chunk of a map
    kept on disk can be sent as its place in the file
    (:class:`specssb._file_views.FileView`) instead of its bytes.
    """
    if scheduler is None or scheduler == "local":
        return True
    try:
        import distributed  # noqa: F401 - only whether it is installed
    except ImportError:
        return False
    return _ask_cluster(scheduler, lambda client: _all_local(_workers(client)))


#: Whether the workers of a dask cluster see a folder of this machine, per (Client id, workers,
#: folder): :func:`workers_see` asks them once.
_SEEN: dict[tuple[int, frozenset[str], str], bool] = {}


def workers_see(path: str | os.PathLike[str], workers: int = 1, scheduler: str | None = None) -> bool:
    """Whether every process :func:`map_chunks` would use can open ``path``, a file of this machine.

    True here, in local processes and on a ``"local"`` cluster. Workers of another dask
    cluster must run on this host (:func:`shares_files`) and find the file: a worker in a
    container on this host may have its own ``/dev/shm`` or mounts. They are asked once per
    client, set of workers and folder (one round trip).
    """
    if scheduler is None or scheduler == "local":
        return True
    if not shares_files(workers, scheduler):
        return False

    def ask(client: Any) -> bool:
        key = (id(client), frozenset(_workers(client)), str(Path(path).parent))
        if key not in _SEEN:
            answers = client.run(os.path.exists, str(path))
            _SEEN[key] = bool(answers) and all(answers.values())
        return _SEEN[key]

    return _ask_cluster(scheduler, ask)


def _ask_cluster(scheduler: str, question: Callable[[Any], bool]) -> bool:
    """``question(client)`` through the process's Client of ``scheduler``, or through a Client
    opened for it when there is none."""
    import distributed

    client = _existing_client(scheduler)
    if client is not None:
        return question(client)
    with distributed.Client(scheduler) as client:
        return question(client)


def _all_local(addresses: Any) -> bool:
    import socket

    from distributed.comm import get_address_host

    here = {"127.0.0.1", "::1", "localhost", socket.gethostname()}
    try:
        here.update(info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None))
    except OSError:  # no resolvable host name: loopback addresses only
        pass
    hosts = {get_address_host(address) for address in addresses}
    return bool(hosts) and hosts <= here


#: Within :func:`cluster_snapshot`: the workers of each dask Client (keyed by id), asked once.
_SNAPSHOT: ContextVar[dict[int, Any] | None] = ContextVar("specssb_cluster_snapshot", default=None)


@contextmanager
def cluster_snapshot() -> Iterator[None]:
    """Ask a dask cluster for its workers once for everything inside this block.

    A fit asks whether the workers run on this machine, whether they see its shared files,
    whether they were set to one BLAS thread and how many threads they have; each question is
    a round trip to the scheduler (about 0.5 ms on the machine we measured, on the cores the
    workers use). Inside the block the first answer serves them all.
    """
    token = _SNAPSHOT.set({})
    try:
        yield
    finally:
        _SNAPSHOT.reset(token)


def _workers(client: Any) -> dict[str, Any]:
    """The cluster's workers (address -> scheduler's information), once per snapshot."""
    cache = _SNAPSHOT.get()
    if cache is not None and id(client) in cache:
        return cache[id(client)]
    workers = client.scheduler_info()["workers"]
    if cache is not None:
        cache[id(client)] = workers
    return workers


def _attempt(function: Callable[[T], R], chunk: T) -> tuple[R | None, BaseException | None]:
    try:
        return function(chunk), None
    except Exception as exc:  # noqa: BLE001 - reported with the chunk number by _collect
        return None, exc


#: Workers already set to one BLAS thread, per reused Client (keyed by id).
_PREPARED: dict[int, set[str]] = {}


def _existing_client(address: str) -> Any:
    """The process's default dask Client when it is connected to ``address``, else None.

    A dask session usually holds one Client (``Client(cluster)``); fitting through it saves
    connecting, setting up the workers and closing on every call (about 15 ms, 10 % of fitting
    a 10,000-pixel map on two workers), and leaves its lifetime to its owner.
    """
    try:
        from distributed import default_client

        client = default_client()
    except ValueError:  # no client in this process
        return None
    scheduler = getattr(client, "scheduler", None)
    if client.status == "running" and scheduler is not None and scheduler.address == address:
        return client
    return None


def _run_dask(function: Callable[[T], R], chunks: Sequence[T], workers: int, scheduler: str) -> list:
    try:
        import distributed
    except ImportError as exc:
        raise ConfigError(
            "a dask scheduler needs the 'distributed' extra: pip install 'specssb[distributed]'",
            key="scheduler",
        ) from exc
    import dask

    if scheduler != "local":
        client = _existing_client(scheduler)
        if client is not None:
            workers_now = set(_workers(client))
            if _PREPARED.get(id(client)) != workers_now:  # new client or new workers
                client.run(_single_thread_blas)
                _PREPARED[id(client)] = workers_now
            return _gather(client, function, chunks)
        with distributed.Client(scheduler) as client:
            client.run(_single_thread_blas)
            return _gather(client, function, chunks)
    # dask's nannies set MALLOC_TRIM_THRESHOLD_=65536, which returns every freed block to
    # the system and makes the batched solver's large temporaries page-fault again (2.6x
    # slower); a remote cluster should be started with the same setting.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 1 << 30}):
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")  # any free port: no clash
    try:
        with distributed.Client(cluster) as client:
            client.run(_single_thread_blas)
            return _gather(client, function, chunks)
    finally:
        cluster.close()


def _gather(client: Any, function: Callable[[T], R], chunks: Sequence[T]) -> list:
    """Run every chunk on the cluster; a failed chunk's exception stands in for its result.

    At most :data:`IN_FLIGHT_PER_WORKER` chunks per worker thread are submitted at a time and
    the next ones as those finish, so a map kept on disk is read (and sent) a few chunks at a
    time rather than all at once.
    """
    from distributed import as_completed, wait

    threads = sum(info.get("nthreads", 1) for info in _workers(client).values())
    window = IN_FLIGHT_PER_WORKER * max(1, threads)
    if len(chunks) <= window:  # all at once: one wait and one gather (the fastest way)
        futures = client.map(function, list(chunks), pure=False)
        wait(futures)
        if all(future.status == "finished" for future in futures):
            return [(result, None) for result in client.gather(futures)]
        return [_outcome(future) for future in futures]
    outcomes: list[Any] = [None] * len(chunks)
    opening = client.map(function, list(chunks[:window]), pure=False)  # one message for many
    index = {future.key: i for i, future in enumerate(opening)}
    # results are fetched by the client's event loop as they arrive, not one round trip each
    queue = as_completed(opening, with_results=True, raise_errors=False)
    following = iter(range(len(opening), len(chunks)))
    for future, result in queue:
        i = index.pop(future.key)
        if future.status == "finished":
            outcomes[i] = (result, None)
        else:  # an error's (type, exception, traceback), or the cancellation itself
            outcomes[i] = (None, result[1] if isinstance(result, tuple) else result)
        future.release()
        nxt = next(following, None)
        if nxt is not None:
            future = client.submit(function, chunks[nxt], pure=False)
            index[future.key] = nxt
            queue.add(future)
    return outcomes


def _outcome(future: Any) -> tuple[Any, BaseException | None]:
    try:
        return future.result(), None
    except Exception as exc:  # noqa: BLE001 - reported with the chunk number by _collect
        return None, exc


def _collect(outcomes: list[tuple[Any, BaseException | None]]) -> list[Any]:
    failed = [(i, exc) for i, (_, exc) in enumerate(outcomes) if exc is not None]
    if failed:
        error = FitError(
            f"{len(failed)} of {len(outcomes)} chunks failed: "
            + "; ".join(f"chunk {i}: {type(exc).__name__}: {exc}" for i, exc in failed[:5])
        )
        error.results = [result for result, _ in outcomes]  # type: ignore[attr-defined]
        raise error from failed[0][1]
    return [result for result, _ in outcomes]
