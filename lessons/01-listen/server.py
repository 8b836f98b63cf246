# Lesson 01 — listen: open a port and wait for clients.
import errno
import os
import socket
import sys

# The port comes from the environment, so several servers (and tests) can run side by side.
PORT = int(os.environ.get("PORT", 7070))
HOST = "127.0.0.1"  # only this machine can connect: safe while we learn


def main():
    # Each print reaches the terminal at once, even when stdout is a pipe (tests, the inspector).
    sys.stdout.reconfigure(encoding="utf-8", line_buffering=True)
    with socket.create_server((HOST, PORT)) as server:
        # Ask the socket for its real port: with PORT=0 the system picks a free one.
        print(f"listening on {HOST}:{server.getsockname()[1]}")
        # Take the connections as they come, one at a time, and hold each until the client
        # closes it. We do nothing with them yet: lesson 02 gives each one a thread of its own.
        while True:
            conn, _ = server.accept()
            with conn:
                try:
                    while conn.recv(4096):  # b"" means the client closed its side
                        pass
                except OSError:
                    pass  # the client vanished abruptly: the connection is over all the same


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
