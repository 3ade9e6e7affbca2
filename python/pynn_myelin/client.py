"""Client of `myelin serve`: starts the engine process and exchanges
length-delimited protobuf commands and replies with it (proto/serve.proto)."""

import os
import select
import shutil
import signal
import subprocess
import time

import serve_pb2

#: The most one command may hold (MaxCommandBytes of engine/serve).
MAX_COMMAND_BYTES = 1 << 30

#: The recorded data a run lets the engine hold unread, and so the most a
#: reply carries: the engine's default (max_reply_bytes 0) and the most a
#: run may ask for (DefaultMaxReplyBytes and MaxReplyBytesLimit of
#: engine/serve). A run that reaches it stops early; run_through goes on.
DEFAULT_MAX_REPLY_BYTES = 256 << 20
MAX_REPLY_BYTES = 1 << 30

#: How long, after Ctrl-C, the client waits for the engine to answer the
#: command it was running (the engine cuts a run short at its next block of
#: steps, a load soon, and gives up on a client after 2 s).
INTERRUPT_WAIT = 10.0

#: The reply each command gets, when it succeeds.
REPLY_KIND = {"load": "loaded", "run": "ran", "read": "data", "set_params": "done",
              "set_input": "done", "reset": "done", "close": "done"}


class EngineError(RuntimeError):
    """A command was refused or failed; the message names command and field.
    reply is the engine's whole reply: for a run interrupted by the engine's
    Ctrl-C it still holds the steps that ran (reply.ran, with
    reply.ran.interrupted set)."""

    def __init__(self, message, reply=None):
        super().__init__(message)
        self.reply = reply


def find_binary(backend="cpu"):
    """The myelin binary: $MYELIN_BIN, then bin/ of this checkout, then PATH.
    For backend 'cuda' a myelin-cuda beside it is preferred when it can
    drive a GPU here (`myelin-cuda gpu-probe`); otherwise the plain binary
    answers, with an error that says why CUDA cannot be used."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = []
    if os.environ.get("MYELIN_BIN"):
        candidates.append(os.environ["MYELIN_BIN"])
    candidates.append(os.path.join(here, "..", "..", "bin", "myelin"))
    found = shutil.which("myelin")
    if found:
        candidates.append(found)
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            if backend == "cuda":
                sib = os.path.join(os.path.dirname(c), "myelin-cuda")
                if os.path.isfile(sib) and os.access(sib, os.X_OK) and _gpu_usable(sib):
                    return sib
            return c
    raise RuntimeError("pynn_myelin: no myelin binary found: build it with `make build` "
                       "in the Myelin checkout or set MYELIN_BIN")


def _gpu_usable(binary):
    """Whether the cuda binary starts and finds a usable GPU. Without the
    NVIDIA driver it cannot even start (its CUDA library initialises at load)."""
    try:
        return subprocess.run([binary, "gpu-probe"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class Client:
    """One `myelin serve` process.

    Once the session cannot go on (the process ended, a reply that does not
    answer the command, a command cut short by Ctrl-C) the process is
    stopped, `alive` is false, and every later call raises EngineError
    saying why."""

    def __init__(self, binary=None, backend="cpu"):
        self.binary = binary or find_binary(backend)
        self.proc = subprocess.Popen([self.binary, "serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0)
        self._id = 0
        self._ended = None  # why the session ended, once it has
        self.dt = None  # dt_ms of the network loaded

    @property
    def alive(self):
        """Whether the engine can take commands."""
        return self.proc is not None and self._ended is None and self.proc.poll() is None

    def _status(self):
        """The engine's exit status, waiting briefly for a process whose
        output has ended."""
        try:
            return self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None

    def _gone(self):
        return "myelin serve ended unexpectedly (exit status %s)" % self._status()

    def _end(self, why):
        """Give up on the session: stop the engine, remember why."""
        if self._ended is None:
            self._ended = why
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def _fail(self, why, reply=None):
        self._end(why)
        return EngineError(why, reply)

    def _write_all(self, data):
        view = memoryview(data)
        while view:
            n = self.proc.stdin.write(view)
            view = view[n:]

    def _read_exact(self, n, deadline=None):
        buf = bytearray()
        fd = self.proc.stdout
        while len(buf) < n:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    raise TimeoutError("no reply within %g s" % INTERRUPT_WAIT)
            chunk = fd.read(min(n - len(buf), 1 << 24))
            if not chunk:
                raise self._fail(self._gone())
            buf += chunk
        return bytes(buf)

    def _read_reply(self, deadline=None):
        n, shift = 0, 0
        while True:
            b = self._read_exact(1, deadline)[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
            if shift > 63:
                raise self._fail("myelin serve: malformed reply length")
        rep = serve_pb2.Reply()
        try:
            rep.ParseFromString(self._read_exact(n, deadline))
        except Exception as err:  # protobuf's DecodeError
            hint = ""
            if n >= 1 << 31:
                hint = (" (protobuf for Python decodes at most 2 GiB in one message; an engine that bounds "
                        "its replies, max_reply_bytes, sends no such reply: is it an older one?)")
            raise self._fail("myelin serve: reply to command %d (%d bytes) could not be decoded: %s%s"
                             % (self._id, n, err, hint))
        return rep

    def _interrupted(self):
        """Ctrl-C while the engine worked on a command: have it stop too
        (it answers with what it did, a run with the steps that ran) and
        return that reply, or None."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
            return self._read_reply(time.monotonic() + INTERRUPT_WAIT)
        except (EngineError, OSError, TimeoutError):
            return None
        finally:
            # The engine stops after an interrupt.
            self._ended = "the engine was stopped by Ctrl-C during command %d" % self._id
            self._end(self._ended)

    def call(self, **kind):
        """Send one command, e.g. call(run=serve_pb2.RunCommand(duration_ms=10)),
        and return its reply; an error reply raises EngineError. Ctrl-C while
        the engine works stops it: the KeyboardInterrupt carries its last
        reply (or None) as .reply."""
        if self.proc is None:
            raise EngineError("the engine is closed")
        if self._ended is not None:
            raise EngineError(self._ended)
        self._id += 1
        cmd = serve_pb2.Command(id=self._id, **kind)
        (name,) = kind
        data = cmd.SerializeToString()
        if len(data) > MAX_COMMAND_BYTES:
            raise EngineError("%s: the command is %d bytes, more than the %d (1 GiB) myelin serve takes in one "
                              "command" % (name, len(data), MAX_COMMAND_BYTES))
        try:
            self._write_all(_varint(len(data)))
            self._write_all(data)
        except BrokenPipeError:
            raise self._fail(self._gone())
        except BaseException:
            # Cut short inside the command: the engine would read the next
            # one as its rest.
            self._end("the engine was stopped: command %d was interrupted while it was being sent" % self._id)
            raise
        try:
            rep = self._read_reply()
        except KeyboardInterrupt as ki:
            ki.reply = self._interrupted()
            raise
        if rep.id == 0 and rep.error:
            # The engine could not read the command stream, and stops.
            raise self._fail("myelin serve: " + rep.error, rep)
        if rep.id != self._id:
            raise self._fail("myelin serve: reply %d to command %d" % (rep.id, self._id), rep)
        if rep.error:
            raise EngineError(rep.error, rep)
        if rep.WhichOneof("kind") != REPLY_KIND[name]:
            raise self._fail("myelin serve: a reply of kind %s to command %d (%s); want %s"
                             % (rep.WhichOneof("kind"), self._id, name, REPLY_KIND[name]), rep)
        return rep

    def load(self, network, backend="cpu", threads=0):
        loaded = self.call(load=serve_pb2.LoadCommand(spec=network.SerializeToString(),
                                                      backend=backend, threads=threads)).loaded
        self.dt = loaded.dt_ms
        return loaded

    def run(self, ms, read=False, max_reply_bytes=0):
        """Run ms, or fewer steps: the engine stops once the recorded data
        it holds unread reach max_reply_bytes (0: DEFAULT_MAX_REPLY_BYTES),
        and the reply's .steps_left counts the steps that did not run. With
        read, the reply's .data holds what read() would."""
        return self.call(run=serve_pb2.RunCommand(duration_ms=ms, read=read, max_reply_bytes=max_reply_bytes)).ran

    def run_through(self, ms, max_reply_bytes=0):
        """Run ms whole, reading as it goes: yield the Ran of each reply,
        whose .data holds the data of its steps, until no step is left.
        Their data, in order, are those of one run; each reply's are at
        most max_reply_bytes (0: DEFAULT_MAX_REPLY_BYTES)."""
        ran = self.run(ms, read=True, max_reply_bytes=max_reply_bytes)
        yield ran
        while ran.steps_left:
            step = ran.step
            ran = self.run(ran.steps_left * self.dt, read=True, max_reply_bytes=max_reply_bytes)
            if ran.step <= step:
                raise EngineError("myelin serve: run %d did not advance from step %d (%d steps left)"
                                  % (self._id, step, ran.steps_left))
            yield ran

    def read(self):
        return self.call(read=serve_pb2.ReadCommand()).data

    def set_params(self, population, values):
        self.call(set_params=serve_pb2.SetParamsCommand(population=population, values=values))

    def set_input(self, name, rate_hz=None, amplitude=None):
        c = serve_pb2.SetInputCommand(input=name)
        if rate_hz is not None:
            c.rate_hz = rate_hz
        if amplitude is not None:
            c.amplitude = amplitude
        self.call(set_input=c)

    def reset(self):
        self.call(reset=serve_pb2.ResetCommand())

    def close(self):
        """Close the session and wait for the process."""
        if self.proc is None:
            return
        if self.alive:
            try:
                self.call(close=serve_pb2.CloseCommand())
            except (EngineError, OSError):
                pass
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc = None
