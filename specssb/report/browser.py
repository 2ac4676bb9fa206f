"""Headless Chromium over the DevTools protocol: check a report as a browser shows it, print it to PDF.

No dependency beyond the standard library and a Chromium binary (Debian's ``chromium``). The
browser is started with ``--remote-debugging-pipe``: it reads commands from its file
descriptor 3 and writes replies and events to its descriptor 4, one JSON object per message,
each ended by a NUL byte (POSIX only).

Every page is opened with the network shut: each request other than the page's own file is
failed before it leaves the browser (DevTools ``Fetch`` interception) and recorded, and host
names resolve to nothing (``--host-resolver-rules``) as a second fence. Each browser gets a
fresh temporary profile, and is killed and its profile removed however the work ends.

.. code-block:: python

    page = inspect_report("report/report.html")
    assert not page.problems(), page.problems()
    print_pdf("report/report.html", "report/report.pdf")
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specssb._io import atomic_path
from specssb.errors import BrowserError

__all__ = ["ConsoleMessage", "ImageState", "PageReport", "find_chromium", "inspect_report", "print_pdf"]

#: Environment variable naming the Chromium binary to use (tried before ``PATH``).
CHROMIUM_VARIABLE = "SPECSSB_CHROMIUM"
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
_INSTALL_HINT = ("install Debian's chromium (apt-get install chromium) or name the binary in "
                 f"${CHROMIUM_VARIABLE}")
# --no-sandbox: needed when run as root and in most containers; the browser only ever opens a
# local file specssb wrote, with the network shut. The rest keep a fresh profile from calling
# Google's hosts (component updates, sync, field trials, first-run pages).
_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-extensions", "--disable-default-apps", "--disable-breakpad",
    "--disable-domain-reliability", "--metrics-recording-only", "--mute-audio",
    "--password-store=basic", "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-pipe",
)
_CLOSE_GRACE_S = 5.0
# run in the child: put the pipe's two ends on descriptors 3 and 4, then become the browser
_TRAMPOLINE = (
    "import os, sys\n"
    "commands, replies = int(sys.argv[1]), int(sys.argv[2])\n"
    "os.dup2(commands, 3); os.dup2(replies, 4); os.close(commands); os.close(replies)\n"
    "os.execv(sys.argv[3], sys.argv[3:])\n"
)
_LOG_TAIL = 800  # characters of the browser's own log quoted in an error


# ------------------------------------------------------------------------- results
@dataclass(frozen=True)
class ImageState:
    """One ``<img>`` as the browser rendered it.

    Attributes
    ----------
    src : str
        The source URL, cut to 100 characters (a ``data:`` URI is long).
    kind : {"data", "file", "other"}
        What the source is: an inline ``data:`` URI, a local file, or anything else.
    complete : bool
        The browser finished with the image (loaded or failed).
    natural_width, natural_height : int
        Decoded size, pixels; 0 when the image could not be loaded or decoded.
    width, height : float
        Rendered size on the page, CSS pixels.
    visible : bool
        Displayed: not ``display: none``, not hidden by ``visibility`` or ``opacity: 0``,
        on its own or through an ancestor.
    """

    src: str
    kind: str
    complete: bool
    natural_width: int
    natural_height: int
    width: float
    height: float
    visible: bool


@dataclass(frozen=True)
class ConsoleMessage:
    """One message the page wrote to its console (``level``: log, warning, error …)."""

    level: str
    text: str


@dataclass(frozen=True)
class PageReport:
    """What a page did when opened in headless Chromium with the network shut.

    Attributes
    ----------
    url : str
        The page's ``file://`` URL.
    images : tuple of ImageState
        Every ``<img>`` in document order.
    requests : tuple of str
        Every URL the page asked for beyond itself and its ``data:`` URIs (each was blocked).
    blocked : tuple of str
        The requests the checker failed before they left the browser.
    failed_loads : tuple of str
        ``"<url>: <net error>"`` for every load that failed (blocked ones included).
    console : tuple of ConsoleMessage
        Everything written to the console.
    exceptions : tuple of str
        Uncaught JavaScript exceptions.
    dialogs : tuple of str
        ``alert``/``confirm``/``prompt`` dialogs a script opened (each dismissed).
    probe : object
        The value of the ``probe`` expression given to :func:`inspect_report` (JSON types),
        None when there was none.
    """

    url: str
    images: tuple[ImageState, ...] = ()
    requests: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    failed_loads: tuple[str, ...] = ()
    console: tuple[ConsoleMessage, ...] = ()
    exceptions: tuple[str, ...] = ()
    dialogs: tuple[str, ...] = ()
    probe: Any = None

    def problems(self) -> list[str]:
        """Everything a self-contained report must not show, one line each (empty when fine)."""
        found = []
        for number, image in enumerate(self.images, start=1):
            where = f"image {number} ({image.src})"
            if not image.complete or image.natural_width == 0 or image.natural_height == 0:
                found.append(f"{where} not loaded")
            elif image.width <= 0 or image.height <= 0:
                found.append(f"{where} has zero size on the page")
            if not image.visible:
                found.append(f"{where} is hidden")
        found += [f"request beyond the page: {url}" for url in self.requests]
        found += [f"failed load: {line}" for line in self.failed_loads]
        found += [f"console {m.level}: {m.text}" for m in self.console if m.level in ("error", "assert")]
        found += [f"JavaScript exception: {text}" for text in self.exceptions]
        found += [f"script opened a dialog: {text}" for text in self.dialogs]
        return found


# ------------------------------------------------------------------------- public API
def find_chromium() -> Path | None:
    """The Chromium binary to drive, or None when there is none.

    ``$SPECSSB_CHROMIUM`` when set (a path, or a name looked up on ``PATH``; None if it names
    no executable), else the first of ``chromium``, ``chromium-browser``, ``google-chrome`` on
    ``PATH``.

    Returns
    -------
    Path or None
    """
    named = os.environ.get(CHROMIUM_VARIABLE)
    if named:
        path = Path(named).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        found = None if os.sep in named else shutil.which(named)  # a bare name: look on PATH
        return Path(found) if found else None
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def inspect_report(html_path: str | os.PathLike[str], *, timeout_s: float = 60.0,
                   probe: str | None = None) -> PageReport:
    """Open a report in headless Chromium, network shut, and record what it shows and asks for.

    Parameters
    ----------
    html_path : path
        The HTML file.
    timeout_s : float, default 60
        Bound on the whole visit (start, load, checks), seconds.
    probe : str, optional
        A JavaScript expression evaluated in the page after the checks; its JSON value is
        :attr:`PageReport.probe` (e.g. ``"typeof window.injected"``).

    Returns
    -------
    PageReport
        See :meth:`PageReport.problems` for the verdict.

    Raises
    ------
    BrowserError
        No Chromium, the file is missing, or the browser failed or did not answer in time.
    """
    with _opened(html_path, timeout_s) as (tab, record):
        images = tab.evaluate(_IMAGES_JS, await_promise=True)
        probed = tab.evaluate(probe) if probe is not None else None
        tab.drain()  # events already sent (late console output, failures) are recorded too
    return PageReport(
        url=record.page_url,
        images=tuple(_image_state(item) for item in images or ()),
        requests=tuple(dict.fromkeys(record.requests)),
        blocked=tuple(dict.fromkeys(record.blocked)),
        failed_loads=tuple(record.failed_loads),
        console=tuple(record.console),
        exceptions=tuple(record.exceptions),
        dialogs=tuple(record.dialogs),
        probe=probed,
    )


def print_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str], *,
              timeout_s: float = 120.0) -> Path:
    """Print an HTML file to PDF with headless Chromium (network shut), written atomically.

    Parameters
    ----------
    html_path : path
        The HTML file (a report).
    pdf_path : path
        The PDF to write (its folder is created if missing).
    timeout_s : float, default 120
        Bound on the whole job, seconds.

    Returns
    -------
    Path
        ``pdf_path``.

    Raises
    ------
    BrowserError
        No Chromium, the file is missing, or the browser failed or did not answer in time.
    """
    with _opened(html_path, timeout_s) as (tab, _):
        reply = tab.call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True})
    content = base64.b64decode(reply.get("data", ""))
    if not content.startswith(b"%PDF"):
        raise BrowserError(f"{html_path}: Chromium returned no PDF")
    target = Path(pdf_path)
    with atomic_path(target) as temporary:
        temporary.write_bytes(content)
    return target


# ------------------------------------------------------------------------- the page
_IMAGES_JS = """
(async () => {
  const images = Array.from(document.images);
  await Promise.all(images.map((image) => image.decode().catch(() => null)));
  return images.map((image) => {
    const box = image.getBoundingClientRect();
    const style = getComputedStyle(image);
    const src = image.currentSrc || image.getAttribute("src") || "";
    const shown = typeof image.checkVisibility === "function"
      ? image.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}) : true;
    return {
      src: src.slice(0, 100),
      kind: src.startsWith("data:") ? "data" : (src.startsWith("file:") ? "file" : "other"),
      complete: image.complete, natural_width: image.naturalWidth,
      natural_height: image.naturalHeight, width: box.width, height: box.height,
      visible: shown && style.display !== "none" && style.visibility === "visible",
    };
  });
})()
"""


def _image_state(item: dict[str, Any]) -> ImageState:
    return ImageState(src=str(item.get("src", "")), kind=str(item.get("kind", "other")),
                      complete=bool(item.get("complete")),
                      natural_width=int(item.get("natural_width") or 0),
                      natural_height=int(item.get("natural_height") or 0),
                      width=float(item.get("width") or 0.0), height=float(item.get("height") or 0.0),
                      visible=bool(item.get("visible")))


@dataclass
class _Record:
    """What the page's events told (filled while the browser runs)."""

    page_url: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    console: list[ConsoleMessage] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)  # request id → URL
    loaded: bool = False

    def beyond_page(self, url: str) -> bool:
        return not (url.startswith(("data:", "about:")) or url.split("#", 1)[0] == self.page_url)


@contextmanager
def _opened(html_path: str | os.PathLike[str], timeout_s: float) -> Iterator[tuple[_Tab, _Record]]:
    """Chromium with one tab that has loaded ``html_path``, network shut, events recorded."""
    path = Path(html_path)
    if not path.is_file():
        raise BrowserError(f"{path}: no such file to open in Chromium")
    binary = find_chromium()
    if binary is None:
        raise BrowserError(f"no Chromium found: {_INSTALL_HINT}")
    record = _Record(page_url=path.resolve().as_uri())
    deadline = time.monotonic() + timeout_s
    with _launched(binary, deadline) as pipe:
        target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        tab = _Tab(pipe, session)
        pipe.on_event = lambda message: _handle(tab, record, message)
        for domain in ("Page", "Runtime", "Network"):
            tab.call(f"{domain}.enable")
        tab.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})
        record.loaded = False  # from here on, only this page's load counts
        navigated = tab.call("Page.navigate", {"url": record.page_url})
        if navigated.get("errorText"):
            raise BrowserError(f"{path}: Chromium could not open it: {navigated['errorText']}")
        pipe.wait_until(lambda: record.loaded, f"{path}: the page did not finish loading in time")
        yield tab, record


def _handle(tab: _Tab, record: _Record, message: dict[str, Any]) -> None:
    """Record one event of the tab; fail every request beyond the page; dismiss dialogs."""
    if message.get("sessionId") != tab.session:
        return
    method, params = message.get("method"), message.get("params", {})
    if method == "Page.loadEventFired":
        record.loaded = True
    elif method == "Fetch.requestPaused":
        url = params["request"]["url"]
        if record.beyond_page(url):
            record.requests.append(url)
            record.blocked.append(url)
            tab.send("Fetch.failRequest", {"requestId": params["requestId"], "errorReason": "BlockedByClient"})
        else:
            tab.send("Fetch.continueRequest", {"requestId": params["requestId"]})
    elif method == "Network.requestWillBeSent":
        url = params["request"]["url"]
        record.urls[params["requestId"]] = url
        if record.beyond_page(url):
            record.requests.append(url)
    elif method == "Network.loadingFailed":
        url = record.urls.get(params["requestId"], "?")
        record.failed_loads.append(f"{url[:100]}: {params.get('errorText', 'failed')}")
    elif method == "Runtime.consoleAPICalled":
        text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
        record.console.append(ConsoleMessage(str(params.get("type", "log")), text))
    elif method == "Runtime.exceptionThrown":
        details = params.get("exceptionDetails", {})
        text = details.get("exception", {}).get("description") or details.get("text", "exception")
        record.exceptions.append(str(text))
    elif method == "Page.javascriptDialogOpening":
        record.dialogs.append(f"{params.get('type', 'dialog')}: {params.get('message', '')}")
        tab.send("Page.handleJavaScriptDialog", {"accept": False})


class _Tab:
    """Commands to one attached page (a flat DevTools session)."""

    def __init__(self, pipe: _Pipe, session: str):
        self.pipe, self.session = pipe, session

    def send(self, method: str, params: dict[str, Any] | None = None) -> int:
        return self.pipe.send(method, params, session=self.session)

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.pipe.call(method, params, session=self.session)

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        reply = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                               "awaitPromise": await_promise})
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"evaluating in the page failed: {text}")
        return reply.get("result", {}).get("value")

    def drain(self) -> None:
        """Handle the events that have already arrived (a round trip orders them before)."""
        self.pipe.call("Browser.getVersion")


# ------------------------------------------------------------------------- the browser
class _Pipe:
    """The DevTools pipe of one browser: NUL-ended JSON both ways, every wait bounded."""

    def __init__(self, process: subprocess.Popen[bytes], commands: int, replies: int,
                 deadline: float, log: Path):
        self.process, self.commands, self.replies = process, commands, replies
        self.deadline, self.log = deadline, log
        self.on_event: Callable[[dict[str, Any]], None] = lambda message: None
        self._pending: list[bytes] = []  # the unfinished message, in pieces
        self._next_id = 0
        self._answers: dict[int, dict[str, Any]] = {}

    def send(self, method: str, params: dict[str, Any] | None = None, *,
             session: str | None = None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        data = json.dumps(message).encode("utf-8") + b"\0"
        while data:
            if not select.select([], [self.commands], [], self._remaining(method))[1]:
                raise self._failure(f"Chromium did not take the command {method} in time")
            try:
                data = data[os.write(self.commands, data):]
            except BrokenPipeError as exc:
                raise self._failure(f"Chromium closed its command pipe ({method})") from exc
        return self._next_id

    def call(self, method: str, params: dict[str, Any] | None = None, *,
             session: str | None = None) -> dict[str, Any]:
        number = self.send(method, params, session=session)
        self.wait_until(lambda: number in self._answers, f"Chromium did not answer {method} in time")
        answer = self._answers.pop(number)
        if "error" in answer:
            raise BrowserError(f"Chromium refused {method}: {answer['error'].get('message', answer['error'])}")
        return answer.get("result", {})

    def wait_until(self, done: Callable[[], bool], what: str) -> None:
        while not done():
            if not select.select([self.replies], [], [], self._remaining(what))[0]:
                raise self._failure(what)
            chunk = os.read(self.replies, 1 << 20)
            if not chunk:
                raise self._failure("Chromium exited")
            if b"\0" not in chunk:  # a long reply (a PDF) arrives in many pieces
                self._pending.append(chunk)
                continue
            *messages, rest = (b"".join(self._pending) + chunk).split(b"\0")
            self._pending = [rest]
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    self._answers[message["id"]] = message
                else:
                    self.on_event(message)

    def _remaining(self, what: str) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._failure(what)
        return left

    def _failure(self, what: str) -> BrowserError:
        try:
            lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
            # a container has no D-Bus; Chromium says so on every start, which explains nothing
            tail = "\n".join(line for line in lines if "dbus" not in line)[-_LOG_TAIL:].strip()
        except OSError:
            tail = ""
        return BrowserError(f"{what}" + (f"; its log ends: {tail}" if tail else ""))


@contextmanager
def _launched(binary: Path, deadline: float) -> Iterator[_Pipe]:
    """Start Chromium on a fresh profile; on leaving, close it, kill what remains, remove the profile."""
    workspace = Path(tempfile.mkdtemp(prefix="specssb-chromium-"))
    log = workspace / "chromium.log"
    command_read, command_write = os.pipe()
    reply_read, reply_write = os.pipe()
    process: subprocess.Popen[bytes] | None = None
    answering = False  # a browser that failed is killed at once, without a graceful close
    try:
        # the browser wants the pipe on its descriptors 3 and 4: a small Python moves them there
        # (no preexec_fn, which is unsafe with threads; no shell, which stops at descriptor 9)
        child_in, child_out = _high(command_read), _high(reply_write)
        arguments = [*_FLAGS, f"--user-data-dir={workspace / 'profile'}", "about:blank"]
        try:
            with open(log, "wb") as log_stream:
                process = subprocess.Popen(
                    [sys.executable, "-c", _TRAMPOLINE, str(child_in), str(child_out), str(binary),
                     *arguments],
                    stdin=subprocess.DEVNULL, stdout=log_stream, stderr=log_stream,
                    pass_fds=(child_in, child_out), start_new_session=True)
        except OSError as exc:
            raise BrowserError(f"could not start Chromium ({binary}): {exc}") from exc
        finally:
            os.close(child_in)
            os.close(child_out)
        for descriptor in (command_read, reply_write):
            os.close(descriptor)
        command_read = reply_write = -1
        yield _Pipe(process, command_write, reply_read, deadline, log)
        answering = True
    finally:
        if process is not None:
            _close(process, command_write, grace_s=_CLOSE_GRACE_S if answering else 0.0)
        for descriptor in (command_read, command_write, reply_read, reply_write):
            if descriptor >= 0:
                try:
                    os.close(descriptor)
                except OSError:
                    pass
        shutil.rmtree(workspace, ignore_errors=True)


def _high(descriptor: int) -> int:
    """A copy of ``descriptor`` numbered 10 or more, so moving it onto 3 or 4 clobbers nothing."""
    import fcntl

    return fcntl.fcntl(descriptor, fcntl.F_DUPFD_CLOEXEC, 10)


def _close(process: subprocess.Popen[bytes], commands: int, *, grace_s: float) -> None:
    """Ask the browser to quit (waiting up to ``grace_s`` seconds), then kill its whole process
    group (renderers included).

    The group is killed before its leader is reaped, so its number cannot have been reused.
    """
    if grace_s > 0:
        try:
            os.write(commands, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        except OSError:
            pass
    give_up = time.monotonic() + grace_s
    while time.monotonic() < give_up:
        try:
            exited = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
        except ChildProcessError:
            break
        if exited is not None:
            break
        time.sleep(0.05)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the group this browser leads: its own children
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=_CLOSE_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
