# Lesson 06 — send: a logged-in user says something, and the server reads it.
import errno
import json
import os
import re
import socket
import sys
import threading
from pathlib import Path

# The port comes from the environment, so several servers (and tests) can run side by side.
PORT = int(os.environ.get("PORT", 7070))
HOST = "127.0.0.1"  # only this machine can connect: safe while we learn

# The protocol's limit for one frame, newline included.
MAX_FRAME_BYTES = 65536
# A user name: 1–32 characters of A–Z a–z 0–9 _ -
USER_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
# The largest whole number every JSON reader keeps exactly (JavaScript's Number.MAX_SAFE_INTEGER).
MAX_SAFE_INTEGER = 2**53 - 1
# The deepest a frame may nest objects and arrays; the frame object is level 1. No chatlab/1
# frame needs more than 3, and the limit keeps a line of 30,000 "[" from wearing out the stack.
MAX_NESTING_DEPTH = 32

# The demo accounts, user name → password, shared by every lesson. Clear text keeps the lesson
# short; a real server keeps only a salted hash of each password (see the exercises).
ACCOUNTS = json.loads((Path(__file__).parent.parent / "accounts.json").read_text(encoding="utf-8"))

# Who is logged in: user name → their session. Only these users hear about each other.
# Every connection has its own thread, and they all read and change this table: the lock makes
# each change, and the frames that announce it, happen as one step no other thread can cut into.
online = {}
online_lock = threading.Lock()


class Session:
    """Everything we know about one connection. Later lessons add to it."""

    def __init__(self, number, conn):
        self.id = number
        self.conn = conn
        # The name this connection logged in as; None until then.
        self.user = None
        # Set once we hung up our side (a frame too large): what still arrives is ignored.
        self.closing = False
        # A reply (from this connection's thread) and a broadcast (from another's) may write to
        # this socket at the same moment: one frame at a time, or their bytes could interleave.
        self.write_lock = threading.Lock()

    def write(self, data):
        with self.write_lock:
            try:
                self.conn.sendall(data)
            except OSError:
                pass  # the client is gone: its own thread sees the connection end and cleans up

    def send(self, frame):
        self.write(encode(frame))

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


# Send one frame to every logged-in user except one (the user the news is about).
# The caller holds online_lock, so nobody joins or leaves halfway through.
def broadcast(frame, except_user=None):
    data = encode(frame)  # encoded once: the same bytes for everyone
    for user, session in online.items():
        if user != except_user:
            session.write(data)


# Steps 4 and 5: the client logs in; we check who it is, welcome it and tell the others.
def login(session, frame):
    user, password = frame.get("user"), frame.get("password")
    # A client may send anything: check the fields before using them.
    if not isinstance(user, str) or not USER_NAME.fullmatch(user):
        return fail(session, frame, "bad_request", "a user name is 1–32 characters of A–Z a–z 0–9 _ -")
    if not isinstance(password, str) or not 1 <= len(password) <= 1024:
        return fail(session, frame, "bad_request", "a password is 1–1024 characters")
    if session.user is not None:
        return fail(session, frame, "already_logged_in", f"this connection is already logged in as {session.user}")
    # The same answer for an unknown user and a wrong password, so nobody can probe which names exist.
    if ACCOUNTS.get(user) != password:
        print(f"#{session.id} failed to log in as {user}")  # never print the password
        return fail(session, frame, "auth_failed", "wrong user name or password")
    with online_lock:
        # One session per user: a second login would leave two sockets fighting over one name.
        if user in online:
            return fail(session, frame, "already_online", f"{user} is already logged in elsewhere")
        session.user = user
        online[user] = session
        print(f"#{session.id} is {user}")
        # Welcome first, so the new user learns who is here before any news about them.
        reply(session, frame, {"type": "welcome", "user": user, "users": sorted(online)})
        broadcast({"type": "presence", "user": user, "status": "online"}, user)


# Step 6: a user says something. Relaying it to the others is lesson 07's job; for now the
# server shows what it read.
def say(session, frame):
    text = frame.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= 4000:
        return fail(session, frame, "bad_request", "a message is 1–4000 characters")
    # JSON's \uXXXX escape can write half an emoji on its own (a lone surrogate, "\ud83d"):
    # UTF-8 cannot carry it, so we could not relay it faithfully.
    if any("\ud800" <= char <= "\udfff" for char in text):
        return fail(session, frame, "bad_request", 'field "text" of "say" contains a lone surrogate: not valid Unicode')
    print(f"{session.user} says: {text}")


# What the server does with each type of frame. Each lesson adds one.
HANDLERS = {"login": login, "say": say}


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
    # Only login is allowed before logging in: nobody may speak before we know who they are.
    if session.user is None and frame["type"] != "login":
        return fail(session, frame, "not_logged_in", "log in first")
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
    # The connection is over, however it ended. Forget the user, or they could never log in
    # again ("already online" forever). Telling the others comes in lesson 10.
    if session.user is not None:
        with online_lock:
            del online[session.user]
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
