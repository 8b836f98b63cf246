# Lesson 02 — connect: the client's first step, opening a TCP connection to the server.
import os
import socket
import sys

# Where the server is: the same variables the server reads, with the same defaults.
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", 7070))


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
    with sock:
        try:
            while sock.recv(4096):  # b"" means the server closed its side
                pass  # the server says nothing yet (lesson 03)
        except OSError as error:
            print(f"cannot talk to {HOST}:{PORT}: {error.strerror or error}")
    print("disconnected")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C: leave at once, without a traceback
