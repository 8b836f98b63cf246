# Lesson 02 — connect: a client opens a TCP connection, and the server sees it arrive.
import errno
import os
import socket
import sys
import threading

# The port comes from the environment, so several servers (and tests) can run side by side.
PORT = int(os.environ.get("PORT", 7070))
HOST = "127.0.0.1"  # only this machine can connect: safe while we learn


# This function runs in a thread of its own for every client that connects; `conn` is our end
# of that connection.
def serve(number, conn):
    print(f"#{number} connected")
    try:
        while conn.recv(4096):  # b"" means the client closed its side
            pass  # what the client sends is for later lessons
    except OSError:
        pass  # a client that vanishes abruptly (crash, kill, cable pulled) resets the connection
    # The connection is over, however it ended.
    conn.close()
    print(f"#{number} disconnected")


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
