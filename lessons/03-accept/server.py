# Lesson 03 — accept: every connection gets its own session, and the server speaks first.
import errno
import json
import os
import socket
import sys
import threading

# The port comes from the environment, so several servers (and tests) can run side by side.
PORT = int(os.environ.get("PORT", 7070))
HOST = "127.0.0.1"  # only this machine can connect: safe while we learn


class Session:
    """Everything we know about one connection. Later lessons add to it."""

    def __init__(self, number, conn):
        self.id = number
        self.conn = conn

    def send(self, frame):
        try:
            self.conn.sendall(encode(frame))
        except OSError:
            pass  # the client is gone: serve() sees the connection end


# One frame on the wire = one JSON object on one line. json.dumps never writes a raw newline
# (it escapes them as \n), so the "\n" we add is the only one: it ends the frame.
def encode(frame):
    # Compact, and UTF-8 as it is ("👋", not "\ud83d\udc4b"). A lone surrogate (a "\ud800" a
    # client sent) cannot be UTF-8: backslashreplace writes it back as the same JSON escape.
    text = json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8", "backslashreplace")


# This function runs in a thread of its own for every client that connects; `conn` is our end
# of that connection. One thread per connection: each can wait in recv() for its own client
# without holding up the others (why threads and not asyncio: see this lesson's README).
def serve(number, conn):
    session = Session(number, conn)
    print(f"#{session.id} connected")

    # The server talks first: the client learns it reached a chatlab/1 server, not something else.
    session.send({"type": "hello", "protocol": "chatlab/1"})

    try:
        while conn.recv(4096):  # b"" means the client closed its side
            pass  # what the client sends is lesson 04's business
    except OSError:
        pass  # a client that vanishes abruptly (crash, kill, cable pulled) resets the connection
    # The connection is over, however it ended.
    conn.close()
    print(f"#{session.id} disconnected")


def main():
    # Each print reaches the terminal at once, even when stdout is a pipe (tests, the inspector).
    sys.stdout.reconfigure(encoding="utf-8", line_buffering=True)
    with socket.create_server((HOST, PORT)) as server:
        # Ask the socket for its real port: with PORT=0 the system picks a free one.
        print(f"listening on {HOST}:{server.getsockname()[1]}")
        # Number the connections, so the log can tell them apart.
        connections = 0
        while True:
            conn, _ = server.accept()
            connections += 1
            # A daemon thread does not keep the program alive once the main thread stops (Ctrl-C).
            threading.Thread(target=serve, args=(connections, conn), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass  # Ctrl-C stops the server: no traceback
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        # Another program holds the port (often a lesson server still running): one line, not a traceback.
        sys.exit(f"port {PORT} is busy: address already in use {HOST}:{PORT} (EADDRINUSE)")
