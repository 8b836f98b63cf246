# Lesson 08 — quit: /quit, or the end of input, asks the server to let us go.
import json
import os
import socket
import sys
import threading

# Where the server is: the same variables the server reads, with the same defaults.
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", 7070))
# Who we log in as. The verifier and `chatlab lesson run` set these; the defaults are a demo account.
USER = os.environ.get("CHATLAB_USER", "alice")
PASSWORD = os.environ.get("CHATLAB_PASSWORD", "wonderland")


# One frame = one JSON object on one line, exactly as the server writes them.
def send(sock, frame):
    sock.sendall((json.dumps(frame, ensure_ascii=False, separators=(",", ":")) + "\n").encode())


class Chat:
    """The client's side of the conversation: what it has seen so far."""

    def __init__(self, sock):
        self.sock = sock
        # Whether we asked to leave: set by the typing thread, read by both.
        self.leaving = False
        # Whether our name and password were refused: then the program fails.
        self.refused = False

    # Ask the server to let us go, once. We don't just vanish: the server can then tell the
    # others we left on purpose.
    def quit(self):
        if self.leaving:
            return
        self.leaving = True
        send(self.sock, {"type": "quit"})

    # Every line typed (or piped into stdin) is sent as a message. This runs in a thread of its
    # own, so reading the keyboard never stops us reading the server.
    def type_lines(self):
        for line in sys.stdin:
            if self.leaving:
                return  # after /quit, the rest of the input is not ours to send
            text = line.rstrip("\r\n")
            if text == "/quit":
                self.quit()
            elif text != "":
                send(self.sock, {"type": "say", "text": text})  # an empty message is not allowed
        # Ctrl-D, or the end of a piped file, means the same as /quit.
        self.quit()

    # What the client does with each frame from the server.
    def handle(self, frame):
        match frame:
            case {"type": "hello"}:  # the server is ready for us: log in
                send(self.sock, {"type": "login", "user": USER, "password": PASSWORD})
            case {"type": "welcome", "user": user, "users": users}:
                print(f"logged in as {user}; online: {', '.join(users)}")
                # Only now do we read the keyboard: a say sent before the welcome would only earn
                # a not_logged_in error. A daemon thread does not keep the program alive.
                threading.Thread(target=self.type_lines, daemon=True).start()
            case {"type": "message", "from": sender, "text": text}:
                print(f"{sender}: {text}")
            case {"type": "presence", "user": user, "status": status}:
                print(f"* {user} is {status}")
            case {"type": "error", "code": code, "message": message}:
                print(f"! {code}: {message}")
                # Our name and password come from the environment: if they are refused, there is
                # nothing else to try. Close our side and report the failure in the exit code.
                if code in ("auth_failed", "already_online"):
                    self.refused = True
                    self.sock.shutdown(socket.SHUT_WR)
            case _:  # not understood yet: show it as it came
                print(f"server sent: {json.dumps(frame, ensure_ascii=False, separators=(',', ':'))}")

    # The same framing as the server: bytes arrive in reads of any size, so keep the start of an
    # unfinished frame until its "\n" arrives.
    def read_frames(self):
        pending = b""
        while data := self.sock.recv(4096):  # b"" means the server closed its side
            pending += data
            while b"\n" in pending:
                raw, _, pending = pending.partition(b"\n")
                line = raw.decode("utf-8", "replace")
                if line.strip() == "":
                    continue  # blank lines are not frames
                try:
                    frame = json.loads(line)
                except ValueError:
                    print(f"not a frame: {line}")
                    continue
                self.handle(frame)


def main():
    # Each print reaches the terminal at once, even when stdout is a pipe; stdin is read as UTF-8.
    sys.stdout.reconfigure(encoding="utf-8", line_buffering=True)
    sys.stdin.reconfigure(encoding="utf-8")
    try:
        # create_connection() returns once the TCP handshake has completed.
        sock = socket.create_connection((HOST, PORT))
    except OSError as error:  # no server listening there?
        print(f"cannot talk to {HOST}:{PORT}: {error.strerror or error}")
        return 1
    print(f"connected to {HOST}:{PORT}")
    chat = Chat(sock)
    with sock:
        try:
            chat.read_frames()
        except OSError as error:
            print(f"cannot talk to {HOST}:{PORT}: {error.strerror or error}")
    print("disconnected")
    return 1 if chat.refused else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C: leave at once, without a traceback
