# Lesson 04 — login: read whole frames from a byte stream, however the bytes arrive.
import errno
import json
import os
import socket
import sys
import threading

# The port comes from the environment, so several servers (and tests) can run side by side.
PORT = int(os.environ.get("PORT", 7070))
HOST = "127.0.0.1"  # only this machine can connect: safe while we learn

# The protocol's limit for one frame, newline included.
MAX_FRAME_BYTES = 65536
# The largest whole number every JSON reader keeps exactly (JavaScript's Number.MAX_SAFE_INTEGER).
MAX_SAFE_INTEGER = 2**53 - 1
# The deepest a frame may nest objects and arrays; the frame object is level 1. No chatlab/1
# frame needs more than 3, and the limit keeps a line of 30,000 "[" from wearing out the stack.
MAX_NESTING_DEPTH = 32


class Session:
    """Everything we know about one connection. Later lessons add to it."""

    def __init__(self, number, conn):
        self.id = number
        self.conn = conn
        # Set once we hung up our side (a frame too large): what still arrives is ignored.
        self.closing = False

    def send(self, frame):
        try:
            self.conn.sendall(encode(frame))
        except OSError:
            pass  # the client is gone: serve() sees the connection end

    def hang_up(self):
        """We have nothing more to say: close our side (a FIN), and keep reading until the client closes its."""
        self.closing = True
        try:
            self.conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass


# One frame on the wire = one JSON object on one line. json.dumps never writes a raw newline
# (it escapes them as \n), so the "\n" we add is the only one: it ends the frame.
def encode(frame):
    # Compact, and UTF-8 as it is ("👋", not "\ud83d\udc4b"). A lone surrogate (a "\ud800" a
    # client sent) cannot be UTF-8: backslashreplace writes it back as the same JSON escape.
    text = json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8", "backslashreplace")


# A request id: a string of at most 64 characters, or a whole number within ±(2^53−1): larger
# numbers lose digits in JavaScript, and 1.5 or an object could not be matched reliably.
def is_request_id(value):
    if isinstance(value, str):
        return len(value) <= 64
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_SAFE_INTEGER


# Whether a parsed value nests objects and arrays deeper than `limit` levels. It gives up as
# soon as it is past the limit, so even a frame nested 900 levels deep costs 33 calls.
def nests_deeper_than(value, limit):
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list):
        return False
    return limit == 0 or any(nests_deeper_than(inner, limit - 1) for inner in value)


# A direct answer carries the request's id, when it has one, so the client can tell which
# of its requests this answers.
def reply(session, request, frame):
    if is_request_id(request.get("id")):
        frame["id"] = request["id"]
    session.send(frame)


def fail(session, request, code, message):
    reply(session, request, {"type": "error", "code": code, "message": message})


# Step 4: the client logs in. Checking the password is lesson 05's job; for now we only show
# that we read the whole frame. (Never print the password.)
def login(session, frame):
    print(f"#{session.id} wants to log in as {frame.get('user')}")


# What the server does with each type of frame. Each lesson adds one.
HANDLERS = {"login": login}


def no_constants(name):
    raise ValueError(f"{name} is not JSON")  # Python reads NaN and Infinity; JSON has neither


# One complete line (without its "\n") is one frame: decode it, check it, hand it on.
def handle_line(session, line):
    try:
        text = line.decode("utf-8")  # strict: bytes that are not UTF-8 make a bad frame
        if text.strip() == "":
            return  # a blank line (Enter pressed twice in nc) is not a frame
        frame = json.loads(text, parse_constant=no_constants)  # a "\r" before the "\n" (telnet, nc -C) is just whitespace to JSON
        too_deep = nests_deeper_than(frame, MAX_NESTING_DEPTH)
    except ValueError:  # UnicodeDecodeError and json.JSONDecodeError are both ValueErrors
        return session.send({"type": "error", "code": "bad_frame", "message": "a frame is one JSON object, in UTF-8, on one line"})
    except RecursionError:  # json.loads gives up at about 1,000 levels (a line of "[[[["): far too deep
        too_deep = True
    if too_deep:
        return session.send({"type": "error", "code": "bad_frame", "message": f"a frame nests at most {MAX_NESTING_DEPTH} levels of objects and arrays"})
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        return session.send({"type": "error", "code": "bad_frame", "message": 'a frame is a JSON object with a string "type"'})
    if frame["type"] not in HANDLERS:
        return fail(session, frame, "unknown_type", f'unknown frame type "{frame["type"]}"')
    # An id must be something the client can match exactly. An invalid one is not echoed: the
    # error goes out without an id.
    if "id" in frame and not is_request_id(frame["id"]):
        return session.send({"type": "error", "code": "bad_request", "message": 'an "id" is a string of at most 64 characters or a whole number within ±(2^53−1)'})
    HANDLERS[frame["type"]](session, frame)


# We cannot know where the next frame would start, so: say why, and hang up.
def too_large(session):
    session.send({"type": "error", "code": "frame_too_large", "message": f"a frame may not exceed {MAX_FRAME_BYTES} bytes"})
    session.hang_up()


# This function runs in a thread of its own for every client that connects; `conn` is our end
# of that connection. One thread per connection: each can wait in recv() for its own client
# without holding up the others (why threads and not asyncio: see lesson 03's README).
def serve(number, conn):
    session = Session(number, conn)
    print(f"#{session.id} connected")

    # The server talks first: the client learns it reached a chatlab/1 server, not something else.
    session.send({"type": "hello", "protocol": "chatlab/1"})

    # TCP delivers a stream of bytes, not messages: one recv() may hold half a frame, or three.
    # So we add each read to what we kept, cut off every complete line, and keep the rest.
    pending = b""
    try:
        while data := conn.recv(4096):  # b"" means the client closed its side
            if session.closing:
                continue  # we hung up: whatever still arrives is ignored
            pending += data
            while b"\n" in pending and not session.closing:
                line, _, pending = pending.partition(b"\n")
                # The frame is the line plus its "\n": one byte over the limit is too much.
                if len(line) >= MAX_FRAME_BYTES:
                    too_large(session)
                else:
                    handle_line(session, line)
            # No "\n" yet, and already too long to ever be a valid frame: don't wait for the rest.
            if len(pending) >= MAX_FRAME_BYTES and not session.closing:
                too_large(session)
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
