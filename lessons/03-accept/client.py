# Lesson 03 — accept: the client shows what the server sends it.
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
            # Whatever bytes arrive, show them as they are (lesson 04 learns to cut them into frames).
            while data := sock.recv(4096):  # b"" means the server closed its side
                print(f"server sent: {data.decode('utf-8', 'replace')}", end="", flush=True)
        except OSError as error:
            print(f"cannot talk to {HOST}:{PORT}: {error.strerror or error}")
    print("disconnected")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C: leave at once, without a traceback
