# Lesson 15 — the same chat over UDP: one frame per datagram, no connections. A chatlab/1 server over UDP.
import errno
import json
import os
import re
import socket
import sys
import time
from pathlib import Path

# The port comes from the environment, so several servers (and tests) can run side by side.
PORT = int(os.environ.get("PORT", 7070))
HOST = "127.0.0.1"  # only this machine can send to us: safe while we learn

# The largest datagram we send or accept, in bytes. A UDP datagram can hold up to 65,507 bytes,
# but one larger than the path's MTU (1,500 bytes on Ethernet, less through tunnels) is cut into
# IP fragments, and losing any fragment loses the whole datagram. 1,200 bytes fits every path.
MAX_DATAGRAM_BYTES = 1200
# A peer we have heard nothing from (no frame, no ping) for this long, in seconds, is gone: there
# is no connection whose close would tell us. Clients ping every 2 s when they have nothing to say.
PEER_TIMEOUT = 5
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

# There are no connections, so no sessions per connection: a peer is an address (ip, port)
# that logged in. peers: address → Peer; online: user name → Peer. Only logged-in addresses
# are remembered, so datagrams from strangers cost us no memory.
peers = {}
online = {}

# One socket for everyone: every datagram, from any peer, arrives here, and every answer leaves
# from here. So one loop serves all the peers, one datagram at a time: no thread per client, and
# no lock (lesson 03's threads were there to wait on many connections at once).
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


class Peer:
    """Everything we know about one address. There is no connection: a peer is where its datagrams come from."""

    def __init__(self, address):
        self.address = address  # (ip, port), as recvfrom() returned it
        # The name this address logged in as; None until then.
        self.user = None
        # When we last heard from it (time.monotonic()): any datagram is a sign of life.
        self.heard_at = 0.0

    def write(self, data):
        try:
            server.sendto(data, self.address)
        except OSError as error:
            print(f"udp error: {error}")  # one send to one peer failed, never the whole server

    def send(self, frame):
        self.write(encode(frame))


# One frame = one datagram. UDP keeps message boundaries: what one sendto() sent arrives whole,
# in one recvfrom(), or not at all. So no "\n" is needed to find where a frame ends.
def encode(frame):
    # Compact, and UTF-8 as it is ("👋", not "\ud83d\udc4b"). A lone surrogate (a "\ud800" a
    # client sent) cannot be UTF-8: backslashreplace writes it back as the same JSON escape.
    text = json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace")


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
def reply(peer, request, frame):
    if is_request_id(request.get("id")):
        frame["id"] = request["id"]
    peer.send(frame)


def fail(peer, request, code, message):
    reply(peer, request, {"type": "error", "code": code, "message": message})


# Send one frame to every logged-in user except one (the user the news is about).
def broadcast(frame, except_user=None):
    data = encode(frame)  # encoded once: the same bytes for everyone
    for user, peer in online.items():
        if user != except_user:
            peer.write(data)


# Steps 4 and 5: the first datagram of a peer is its login. There was no accept and no hello:
# the server only learns "who is at this address" from a login that succeeds.
def login(peer, frame):
    user, password = frame.get("user"), frame.get("password")
    # A client may send anything: check the fields before using them.
    if not isinstance(user, str) or not USER_NAME.fullmatch(user):
        return fail(peer, frame, "bad_request", "a user name is 1–32 characters of A–Z a–z 0–9 _ -")
    if not isinstance(password, str) or not 1 <= len(password) <= 1024:
        return fail(peer, frame, "bad_request", "a password is 1–1024 characters")
    if peer.user is not None:
        return fail(peer, frame, "already_logged_in", f"this address is already logged in as {peer.user}")
    # The same answer for an unknown user and a wrong password, so nobody can probe which names exist.
    if ACCOUNTS.get(user) != password:
        print(f"{peer.address[0]}:{peer.address[1]} failed to log in as {user}")  # never print the password
        return fail(peer, frame, "auth_failed", "wrong user name or password")
    # One address per user: a second login would leave two addresses fighting over one name.
    if user in online:
        return fail(peer, frame, "already_online", f"{user} is already logged in elsewhere")
    peer.user = user
    peers[peer.address] = peer
    online[user] = peer
    # The address changes with every run of a client: the log names the user only.
    print(f"{user} logged in")
    # Welcome first, so the new user learns who is here before any news about them.
    reply(peer, frame, {"type": "welcome", "user": user, "users": sorted(online)})
    broadcast({"type": "presence", "user": user, "status": "online"}, user)


# Steps 6 and 7: a user says something; the server relays it to everyone else.
def say(peer, frame):
    text = frame.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= 4000:
        return fail(peer, frame, "bad_request", "a message is 1–4000 characters")
    # JSON's \uXXXX escape can write half an emoji on its own (a lone surrogate, "\ud83d"):
    # UTF-8 cannot carry it, so we could not relay it faithfully.
    if any("\ud800" <= char <= "\udfff" for char in text):
        return fail(peer, frame, "bad_request", 'field "text" of "say" contains a lone surrogate: not valid Unicode')
    # `to` and `room` would choose who receives the message: one user, one room. This server has
    # neither, and relaying such a say to everyone would publish a private message. So, unlike
    # other unknown fields, they are refused, never ignored.
    for field in ("to", "room"):
        if field in frame:
            return fail(peer, frame, "bad_request", f'this server does not support "{field}": no private messages or rooms')
    # We build a new frame rather than pass the client's on: `from` is the name this address
    # logged in as, never a field the client wrote, so nobody can speak as someone else; `ts` is
    # our clock. The sender gets no copy: its own screen already shows what it typed.
    message = {"type": "message", "from": peer.user, "text": text, "ts": time.time_ns() // 1_000_000}
    # The relayed frame is longer than the say (from, ts): it must fit in one datagram too.
    if len(encode(message)) > MAX_DATAGRAM_BYTES:
        return fail(peer, frame, "frame_too_large", f"a message must fit in one datagram of {MAX_DATAGRAM_BYTES} bytes")
    print(f"{peer.user} says: {text}")
    broadcast(message, peer.user)
    # The sender hears back only if it asked to, by giving its say an id.
    if "id" in frame:
        reply(peer, frame, {"type": "ok"})


# Steps 8 and 9: a user asks to leave. The bye may be lost on the way: the client stops
# waiting for it after a while, and we forget the peer anyway.
def quit(peer, frame):
    print(f"{peer.user} quit")
    reply(peer, frame, {"type": "bye"})
    leave(peer)


# Keep-alive: a client with nothing to say pings, so we know it is still there.
def ping(peer, frame):
    reply(peer, frame, {"type": "pong"})


# Forget who this address was, and tell everyone still here that they went offline
# (and why, when they did not say goodbye).
def leave(peer, reason=None):
    presence = {"type": "presence", "user": peer.user, "status": "offline"}
    if reason:
        presence["reason"] = reason
    del peers[peer.address]
    del online[peer.user]
    peer.user = None
    broadcast(presence)


# What step 10 becomes: with no connection to close, silence is the only sign that a peer is
# gone (crashed, killed, network lost, or its quit was lost). Forget every peer silent for too
# long, and tell the others, as lesson 10 did for a dropped connection.
def expire_silent_peers():
    now = time.monotonic()
    for peer in list(peers.values()):  # a copy: leave() removes peers from the table
        if now - peer.heard_at > PEER_TIMEOUT:
            print(f"{peer.user} expired (silent for {PEER_TIMEOUT} s)")
            leave(peer, "connection_lost")


# What the server does with each type of frame. Each lesson adds one.
HANDLERS = {"login": login, "say": say, "quit": quit, "ping": ping}


def no_constants(name):
    raise ValueError(f"{name} is not JSON")  # Python reads NaN and Infinity; JSON has neither


# Every datagram is one whole frame, from one address: decode it, check it, hand it on.
def handle_datagram(data, address):
    # A known peer, or a stranger: a stranger is remembered only once its login succeeds.
    peer = peers.get(address) or Peer(address)
    peer.heard_at = time.monotonic()  # any datagram is a sign of life
    if len(data) > MAX_DATAGRAM_BYTES:
        return peer.send({"type": "error", "code": "frame_too_large", "message": f"a datagram may not exceed {MAX_DATAGRAM_BYTES} bytes"})
    try:
        text = data.decode("utf-8")  # strict: bytes that are not UTF-8 make a bad frame
        frame = json.loads(text, parse_constant=no_constants)  # a trailing "\n" (from nc) is just whitespace to JSON
        too_deep = nests_deeper_than(frame, MAX_NESTING_DEPTH)
    except ValueError:  # UnicodeDecodeError and json.JSONDecodeError are both ValueErrors
        return peer.send({"type": "error", "code": "bad_frame", "message": "a datagram is one JSON object, in UTF-8"})
    except RecursionError:  # json.loads gives up at about 1,000 levels (a line of "[[[["): far too deep
        too_deep = True
    if too_deep:
        return peer.send({"type": "error", "code": "bad_frame", "message": f"a frame nests at most {MAX_NESTING_DEPTH} levels of objects and arrays"})
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        return peer.send({"type": "error", "code": "bad_frame", "message": 'a frame is a JSON object with a string "type"'})
    if frame["type"] not in HANDLERS:
        return fail(peer, frame, "unknown_type", f'unknown frame type "{frame["type"]}"')
    # Only login (and ping) is allowed before logging in: nobody may speak before we know who they are.
    if peer.user is None and frame["type"] not in ("login", "ping"):
        return fail(peer, frame, "not_logged_in", "log in first")
    # An id must be something the client can match exactly. An invalid one is not echoed: the
    # error goes out without an id.
    if "id" in frame and not is_request_id(frame["id"]):
        return peer.send({"type": "error", "code": "bad_request", "message": 'an "id" is a string of at most 64 characters or a whole number within ±(2^53−1)'})
    HANDLERS[frame["type"]](peer, frame)


def main():
    # Each print reaches the terminal at once, even when stdout is a pipe (tests, the inspector).
    sys.stdout.reconfigure(encoding="utf-8", line_buffering=True)
    # bind() takes the place of listen(): there is nothing to accept, the datagrams just come.
    server.bind((HOST, PORT))
    # Ask the socket for its real port: with PORT=0 the system picks a free one.
    print(f"listening on {HOST}:{server.getsockname()[1]}")
    # recvfrom() waits at most a second, so the loop can expire the silent peers even when
    # nobody sends anything.
    server.settimeout(1)
    next_sweep = time.monotonic() + 1
    while True:
        try:
            # 65,535 bytes: the largest a datagram can be, so a too large one arrives whole and is
            # refused, rather than cut to our size without a word.
            data, address = server.recvfrom(65535)
        except TimeoutError:
            pass  # a quiet second: time to look for the silent
        except ConnectionResetError:
            pass  # Windows reports here that an earlier datagram found nobody listening: one peer's problem
        else:
            handle_datagram(data, address)
        if time.monotonic() >= next_sweep:
            expire_silent_peers()
            next_sweep = time.monotonic() + 1


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
