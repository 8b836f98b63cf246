# Lesson 15 — the same chat over UDP. A chatlab/1 client over UDP.
import json
import os
import socket
import sys
import threading
import time

# Where the server is: the same variables the server reads, with the same defaults.
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", 7070))
# Who we log in as. The verifier and `chatlab lesson run` set these; the defaults are a demo account.
USER = os.environ.get("CHATLAB_USER", "alice")
PASSWORD = os.environ.get("CHATLAB_PASSWORD", "wonderland")

# With nothing to say for this long, in seconds, we ping: the server forgets peers it does not hear from.
KEEPALIVE = 2
# How long we wait for an answer that may never come: a datagram can be lost on the way.
ANSWER = 3


class Chat:
    """The client's side of the conversation: what it has seen so far."""

    def __init__(self, sock):
        self.sock = sock
        # Whether we asked to leave: set by the typing thread, read by both.
        self.leaving = False
        # Whether the server welcomed us: from then on, we ping when we have nothing to say.
        self.logged_in = False
        # When we last sent anything (time.monotonic()): the next ping is due KEEPALIVE after it.
        self.sent_at = time.monotonic()
        # The answer we wait for ("the welcome", "the bye") and until when; None when we wait for nothing.
        self.waiting_for = None
        self.deadline = None
        # How the program ends: 0 once the server said bye, 1 if it refused us; None while we chat.
        self.exit_code = None

    # One frame = one datagram: no "\n" needed, UDP keeps the boundaries.
    def send(self, frame):
        self.sock.send(json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode())
        self.sent_at = time.monotonic()  # anything we send shows we are alive

    # Nobody tells us that a datagram was lost: we can only stop waiting, at the deadline.
    def wait_for(self, what):
        self.waiting_for = what
        self.deadline = time.monotonic() + ANSWER

    # Ask the server to let us go, once. We don't just vanish: the server can then tell the
    # others we left on purpose.
    def quit(self):
        if self.leaving:
            return
        self.leaving = True
        self.send({"type": "quit"})
        self.wait_for("the bye")

    # On a connected UDP socket, an ICMP "port unreachable" comes back as ConnectionRefusedError
    # from a send() or recv(): nothing listens there. (Over a real network this ICMP is often
    # filtered: then we only time out.)
    def cannot_talk(self, error):
        print(f"cannot talk to {HOST}:{PORT}: {error.strerror or error}")
        self.exit_code = 1

    # Every line typed (or piped into stdin) is sent as a message. This runs in a thread of its
    # own, so reading the keyboard never stops us reading the server.
    def type_lines(self):
        try:
            for line in sys.stdin:
                if self.leaving:
                    return  # after /quit, the rest of the input is not ours to send
                text = line.rstrip("\r\n")
                if text == "/quit":
                    self.quit()
                elif text != "":
                    self.send({"type": "say", "text": text})  # an empty message is not allowed
            # Ctrl-D, or the end of a piped file, means the same as /quit.
            self.quit()
        except OSError as error:
            self.cannot_talk(error)  # the reading loop sees the exit code and ends

    # What the client does with each frame from the server.
    def handle(self, frame):
        match frame:
            case {"type": "welcome", "user": user, "users": users}:
                self.deadline = None
                print(f"logged in as {user}; online: {', '.join(users)}")
                self.logged_in = True
                # Only now do we read the keyboard: a say sent before the welcome would only earn
                # a not_logged_in error. A daemon thread does not keep the program alive.
                threading.Thread(target=self.type_lines, daemon=True).start()
            case {"type": "message", "from": sender, "text": text}:
                print(f"{sender}: {text}")
            case {"type": "presence", "user": user, "status": status}:
                print(f"* {user} is {status}")
            case {"type": "pong"}:  # the server is still there; nothing to show
                pass
            case {"type": "bye"}:  # the server has let us go
                self.exit_code = 0
            case {"type": "error", "code": code, "message": message}:
                print(f"! {code}: {message}")
                # Our name and password come from the environment: if they are refused, there is
                # nothing else to try. Stop, and report the failure in the exit code.
                if code in ("auth_failed", "already_online"):
                    self.exit_code = 1
            case _:  # not understood yet: show it as it came
                print(f"server sent: {json.dumps(frame, ensure_ascii=False, separators=(',', ':'))}")

    # No connection, no hello: we speak first, and our login says who is at our address. Then
    # each recv() is one whole datagram: one frame, no framing.
    def read_frames(self):
        self.send({"type": "login", "user": USER, "password": PASSWORD})
        self.wait_for("the welcome")
        while self.exit_code is None:
            now = time.monotonic()
            if self.deadline is not None and now >= self.deadline:
                print(f"no answer from the server ({self.waiting_for} never came): it may be down, or a datagram was lost")
                self.exit_code = 1
                break
            if self.logged_in and now - self.sent_at >= KEEPALIVE:
                self.send({"type": "ping"})
            # recv() waits only until the next thing we must do ourselves: ping, or stop waiting.
            wake = self.sent_at + KEEPALIVE if self.logged_in else self.deadline
            if self.deadline is not None:
                wake = min(wake, self.deadline)
            self.sock.settimeout(max(wake - time.monotonic(), 0.01))
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                continue
            text = data.decode("utf-8", "replace")
            try:
                frame = json.loads(text)
            except ValueError:
                print(f"not a frame: {text}")
                continue
            self.handle(frame)


def main():
    # Each print reaches the terminal at once, even when stdout is a pipe; stdin is read as UTF-8.
    sys.stdout.reconfigure(encoding="utf-8", line_buffering=True)
    sys.stdin.reconfigure(encoding="utf-8")
    # connect() on a UDP socket sends nothing: it only fixes where send() goes and which sender
    # we accept datagrams from. It is also how we learn that nobody listens there (see below).
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    chat = Chat(sock)
    with sock:
        try:
            sock.connect((HOST, PORT))
            print(f"sending to {HOST}:{PORT}")
            chat.read_frames()
        except OSError as error:
            chat.cannot_talk(error)
    # Over, by bye or not. Returning from main ends the program: the typing thread is a daemon.
    print("disconnected")
    return chat.exit_code


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C: leave at once, without a traceback
