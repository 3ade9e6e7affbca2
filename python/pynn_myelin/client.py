"""Client of `myelin serve`: starts the engine process and exchanges
length-delimited protobuf commands and replies with it (proto/serve.proto)."""

import os
import shutil
import subprocess

import serve_pb2


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
    """One `myelin serve` process."""

    def __init__(self, binary=None, backend="cpu"):
        self.binary = binary or find_binary(backend)
        self.proc = subprocess.Popen([self.binary, "serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0)
        self._id = 0

    def _read_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.proc.stdout.read(n - len(buf))
            if not chunk:
                raise EngineError("myelin serve ended unexpectedly (exit status %s)" % self.proc.poll())
            buf += chunk
        return bytes(buf)

    def _read_reply(self):
        n, shift = 0, 0
        while True:
            b = self._read_exact(1)[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
            if shift > 63:
                raise EngineError("myelin serve: malformed reply length")
        rep = serve_pb2.Reply()
        rep.ParseFromString(self._read_exact(n))
        return rep

    def call(self, **kind):
        """Send one command, e.g. call(run=serve_pb2.RunCommand(duration_ms=10)),
        and return its reply; an error reply raises EngineError."""
        if self.proc is None:
            raise EngineError("the engine is closed")
        self._id += 1
        cmd = serve_pb2.Command(id=self._id, **kind)
        data = cmd.SerializeToString()
        try:
            self.proc.stdin.write(_varint(len(data)) + data)
        except BrokenPipeError:
            raise EngineError("myelin serve ended unexpectedly (exit status %s)" % self.proc.poll())
        rep = self._read_reply()
        if rep.id != self._id:
            raise EngineError("reply %d to command %d" % (rep.id, self._id))
        if rep.error:
            raise EngineError(rep.error, rep)
        return rep

    def load(self, network, backend="cpu", threads=0):
        return self.call(load=serve_pb2.LoadCommand(spec=network.SerializeToString(),
                                                    backend=backend, threads=threads)).loaded

    def run(self, ms, read=False):
        """Run ms; with read, the reply's .data holds what read() would."""
        return self.call(run=serve_pb2.RunCommand(duration_ms=ms, read=read)).ran

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
