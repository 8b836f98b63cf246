# Lesson 04 — login: cut the byte stream into frames, and log in when the server says hello.
import json
import os
import socket
import sys

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

    # What the client does with each frame from the server.
    def handle(self, frame):
        match frame:
            case {"type": "hello"}:  # the server is ready for us: log in
                send(self.sock, {"type": "login", "user": USER, "password": PASSWORD})
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
    # Each print reaches the terminal at once, even when stdout is a pipe.
    sys.stdout.reconfigure(encoding="utf-8", line_buffering=True)
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
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C: leave at once, without a traceback
