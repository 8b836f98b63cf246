# Lesson 13 — TLS: the same chat, encrypted. Only the transport changes: the socket is wrapped by ssl.
import base64
import binascii
import errno
import hashlib
import itertools
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
from pathlib import Path

# The port comes from the environment, so several servers (and tests) can run side by side.
PORT = int(os.environ.get("PORT", 7070))
HOST = "127.0.0.1"  # only this machine can connect: safe while we learn

# The protocol's limit for one frame, newline included.
MAX_FRAME_BYTES = 65536
# A user name: 1–32 characters of A–Z a–z 0–9 _ -
USER_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
# A room name: 1–32 characters of a–z 0–9 _ - (lower case only, so #Rust and #rust are one room).
ROOM_NAME = re.compile(r"[a-z0-9_-]{1,32}")
# The room everyone is in from login on. It is not in `rooms`: its members are simply `online`.
LOBBY = "lobby"
# The largest whole number every JSON reader keeps exactly (JavaScript's Number.MAX_SAFE_INTEGER).
MAX_SAFE_INTEGER = 2**53 - 1
# The deepest a frame may nest objects and arrays; the frame object is level 1. No chatlab/1
# frame needs more than 3, and the limit keeps a line of 30,000 "[" from wearing out the stack.
MAX_NESTING_DEPTH = 32
# File transfer limits: the largest file, the most bytes in one chunk (its base64 stays well
# under a frame), and how many chunks may wait for their file_ack, per receiver.
MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_CHUNK_BYTES = 32 * 1024
WINDOW = 8
# A file's SHA-256, as the offer gives it: 64 lower-case hex digits.
SHA256_HEX = re.compile(r"[0-9a-f]{64}")

# The server's private key and its certificate (the public half, which clients check). The demo
# pair next to this file is published with the lessons: fine on 127.0.0.1, worthless anywhere
# else, since anyone can read the key. Point these variables at a pair of your own.
KEY_FILE = os.environ.get("CHATLAB_TLS_KEY", Path(__file__).parent / "demo-key.pem")
CERT_FILE = os.environ.get("CHATLAB_TLS_CERT", Path(__file__).parent / "demo-cert.pem")

# The demo accounts, user name → password, shared by every lesson. Clear text keeps the lesson
# short; a real server keeps only a salted hash of each password (see the exercises).
ACCOUNTS = json.loads((Path(__file__).parent.parent / "accounts.json").read_text(encoding="utf-8"))

# Who is logged in: user name → their session. Only these users hear about each other.
# Every connection has its own thread, and they all read and change this table: the lock makes
# each change, and the frames that announce it, happen as one step no other thread can cut into.
online = {}
online_lock = threading.Lock()
# The other rooms: room name → the set of its members' names. A room exists while someone is in it.
rooms = {}
# Private messages waiting for a user who was offline: user name → their message frames.
mailboxes = {}
# Every relayed message gets the next number: clients can tell messages apart, and the reference
# server stores them under it for history (a server restart here starts again from 1).
last_msgid = 0
# File transfers in progress: transfer id → Transfer.
transfers = {}
last_transfer = 0
# rooms, mailboxes, last_msgid and transfers change with who is online: online_lock guards them all.


class Transfer:
    """One file on its way: who sends it, what was offered, and where each receiver stands."""

    def __init__(self, transfer_id, sender, name, size, recipients):
        self.id = transfer_id
        self.sender = sender
        self.name = name
        self.size = size
        self.sent = 0  # bytes relayed so far
        self.next_seq = 0  # the chunk number due next
        # Each user offered the file → {"state": "offered" | "accepted" | "ended", "acked": the
        # last chunk they acknowledged}.
        self.recipients = {user: {"state": "offered", "acked": -1} for user in recipients}


class Session:
    """Everything we know about one connection. Later lessons add to it."""

    def __init__(self, number, conn):
        self.id = number
        self.conn = conn
        # The name this connection logged in as; None until then.
        self.user = None
        # The rooms it joined (lobby is implied).
        self.rooms = set()
        # Set once we hung up our side (quit, or a frame too large): what still arrives is ignored.
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
        # On a TLS socket, shutdown() also ends TLS on this connection, without the close_notify
        # message TLS has for it: the bye already said the end is on purpose. What still arrives
        # is read as raw, encrypted bytes, and ignored like everything after hanging up.
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


# The same, for the members of one room only (the caller holds online_lock).
def broadcast_to_room(room, frame, except_user=None):
    data = encode(frame)
    for user in rooms[room]:
        if user != except_user:
            online[user].write(data)


# The members of a room, sorted; lobby's members are everyone online.
def members_of(room):
    return sorted(online if room == LOBBY else rooms[room])


def next_msgid():
    global last_msgid
    last_msgid += 1
    return last_msgid


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
        # Private messages that came while this user was away, marked as history, then the end of them.
        waiting = mailboxes.pop(user, [])  # delivered once: they are never "new" again
        for message in waiting:
            session.send({**message, "history": True, "queued": True})
        if waiting:
            session.send({"type": "history_end", "count": len(waiting), "last_msgid": waiting[-1]["msgid"]})


# Steps 6 and 7: a user says something; the server relays it to everyone else in the room,
# or to one user only when the say names one with `to`.
def say(session, frame):
    text, room = frame.get("text"), frame.get("room", LOBBY)
    if not isinstance(text, str) or not 1 <= len(text) <= 4000:
        return fail(session, frame, "bad_request", "a message is 1–4000 characters")
    # JSON's \uXXXX escape can write half an emoji on its own (a lone surrogate, "\ud83d"):
    # UTF-8 cannot carry it, so we could not relay it faithfully.
    if any("\ud800" <= char <= "\udfff" for char in text):
        return fail(session, frame, "bad_request", 'field "text" of "say" contains a lone surrogate: not valid Unicode')
    if "to" in frame:
        return say_privately(session, frame)
    if not isinstance(room, str) or not ROOM_NAME.fullmatch(room):
        return fail(session, frame, "bad_request", "a room name is 1–32 characters of a–z 0–9 _ -")
    with online_lock:
        if room != LOBBY and room not in rooms:
            return fail(session, frame, "unknown_room", f'there is no room "{room}"')
        if room != LOBBY and session.user not in rooms[room]:
            return fail(session, frame, "not_in_room", f'join "{room}" before speaking in it')
        print(f"{session.user} says: {text}" if room == LOBBY else f"{session.user} says in #{room}: {text}")
        # We build a new frame rather than pass the client's on: `from` is the name this connection
        # logged in as, never a field the client wrote, so nobody can speak as someone else; `ts` is
        # our clock. The sender gets no copy: its own screen already shows what it typed.
        message = {"type": "message", "from": session.user, "room": room, "text": text, "ts": time.time_ns() // 1_000_000, "msgid": next_msgid()}
        if room == LOBBY:
            broadcast(message, session.user)
        else:
            broadcast_to_room(room, message, session.user)
    # The sender hears back only if it asked to, by giving its say an id.
    if "id" in frame:
        reply(session, frame, {"type": "ok"})


# A private message: to one user only, whoever else is online. Kept for later if they are away.
def say_privately(session, frame):
    text, to = frame["text"], frame["to"]
    if "room" in frame:
        return fail(session, frame, "bad_request", "a message goes to a user or to a room, not both")
    if not isinstance(to, str) or not USER_NAME.fullmatch(to):
        return fail(session, frame, "bad_request", '"to" is a user name')
    if to == session.user:
        return fail(session, frame, "bad_request", "you cannot send a private message to yourself")
    # Only names that exist: a typo must not vanish into a mailbox nobody will ever read.
    if to not in ACCOUNTS:
        return fail(session, frame, "unknown_user", f'there is no user "{to}"')
    with online_lock:
        message = {"type": "message", "from": session.user, "to": to, "text": text, "ts": time.time_ns() // 1_000_000, "msgid": next_msgid()}
        recipient = online.get(to)
        if recipient:
            print(f"{session.user} says to {to}: {text}")
            recipient.send(message)
        else:
            print(f"{session.user} says to {to} (offline, kept for later): {text}")
            mailboxes.setdefault(to, []).append(message)
    if "id" in frame:
        ok = {"type": "ok", "msgid": message["msgid"]}
        if not recipient:
            ok["queued"] = True  # the sender learns it will wait
        reply(session, frame, ok)


# A room name from a join or a leave, checked; None (after answering) when it is not one.
def room_of(session, frame):
    room = frame.get("room")
    if isinstance(room, str) and ROOM_NAME.fullmatch(room):
        return room
    fail(session, frame, "bad_request", "a room name is 1–32 characters of a–z 0–9 _ -")
    return None


# Enter a room (it is created by the first one to join). The answer lists its members, self
# included; the members already there are told who came in.
def join(session, frame):
    room = room_of(session, frame)
    if room is None:
        return
    with online_lock:
        # Joining a room you are in (lobby, always) changes nothing: the same answer again.
        is_new = room != LOBBY and session.user not in rooms.get(room, ())
        if is_new:
            rooms.setdefault(room, set()).add(session.user)
            session.rooms.add(room)
            print(f"{session.user} joined #{room}")
        # The answer first, so the newcomer learns who is there before any news about them.
        reply(session, frame, {"type": "users", "room": room, "users": members_of(room)})
        if is_new:
            broadcast_to_room(room, {"type": "presence", "user": session.user, "status": "online", "room": room}, session.user)


# Leave a room: the others in it are told; the last one out closes it. Nobody leaves lobby:
# it is how everyone reaches everyone.
def leave_room(session, frame):
    room = room_of(session, frame)
    if room is None:
        return
    if room == LOBBY:
        return fail(session, frame, "bad_request", "everyone stays in lobby")
    with online_lock:
        if room not in rooms:
            return fail(session, frame, "unknown_room", f'there is no room "{room}"')
        if session.user not in rooms[room]:
            return fail(session, frame, "not_in_room", f'you are not in "{room}"')
        exit_room(session, room)
        print(f"{session.user} left #{room}")
        if "id" in frame:
            reply(session, frame, {"type": "ok"})  # like say: only when asked
        if room in rooms:
            broadcast_to_room(room, {"type": "presence", "user": session.user, "status": "offline", "room": room})


# Out of a room; the last one out closes it (the caller holds online_lock).
def exit_room(session, room):
    rooms[room].discard(session.user)
    session.rooms.discard(room)
    if not rooms[room]:
        del rooms[room]


# Which rooms exist, and how many are in each, sorted by name.
def list_rooms(session, frame):
    with online_lock:
        listing = [{"room": room, "users": len(members_of(room))} for room in sorted([LOBBY, *rooms])]
    reply(session, frame, {"type": "room_list", "rooms": listing})


# A whole number JSON can carry exactly (True is an int to Python, but not a number to JSON).
def is_whole_number(value):
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_SAFE_INTEGER


# File transfer, step 1: an offer to one user or to the others in a room. The server gives the
# transfer its id and passes the offer on; no byte of the file has moved yet.
def offer_file(session, frame):
    global last_transfer
    to, room, name, size, sha256 = frame.get("to"), frame.get("room"), frame.get("name"), frame.get("size"), frame.get("sha256")
    if ("to" in frame) == ("room" in frame):
        return fail(session, frame, "bad_request", 'a file goes to one user ("to") or to a room ("room")')
    if not isinstance(name, str) or not 1 <= len(name) <= 255:
        return fail(session, frame, "bad_request", "a file name is 1–255 characters")
    if not is_whole_number(size) or size < 0:
        return fail(session, frame, "bad_request", "size is a number of bytes")
    if not isinstance(sha256, str) or not SHA256_HEX.fullmatch(sha256):
        return fail(session, frame, "bad_request", "sha256 is 64 lower-case hex digits")
    if size > MAX_FILE_BYTES:
        return fail(session, frame, "file_too_large", f"a file may not exceed {MAX_FILE_BYTES} bytes")
    with online_lock:
        if "to" in frame:
            if to == session.user:
                return fail(session, frame, "bad_request", "you cannot send a file to yourself")
            # Nothing is stored for later: the receiver must be there to take the bytes.
            if not isinstance(to, str) or to not in online:
                return fail(session, frame, "unknown_user", f"{to} is not online (files go to online users only)")
            recipients = [to]
        else:
            if room != LOBBY and (not isinstance(room, str) or room not in rooms):
                return fail(session, frame, "unknown_room", f'there is no room "{room}"')
            if room != LOBBY and session.user not in rooms[room]:
                return fail(session, frame, "not_in_room", f'join "{room}" before offering files to it')
            recipients = [user for user in members_of(room) if user != session.user]
            if not recipients:
                return fail(session, frame, "bad_request", f'nobody else is in "{room}"')
        last_transfer += 1
        transfer = Transfer(f"t{last_transfer}", session.user, name, size, recipients)
        transfers[transfer.id] = transfer
        print(f"{session.user} offers {name} ({size} bytes) to {to if 'to' in frame else '#' + room}: transfer {transfer.id}")
        # The offerer learns the transfer id and who the offer went to (sorted): for a room, it
        # could not know otherwise who has to answer.
        reply(session, frame, {"type": "ok", "transfer": transfer.id, "users": sorted(recipients)})
        offer = {"type": "file_offer", "transfer": transfer.id, "from": session.user, **({"to": to} if "to" in frame else {"room": room}), "name": name, "size": size, "sha256": sha256}
        for user in recipients:
            online[user].send(offer)


# The transfer a frame is about, if this user takes part in it (as the sender, or as a receiver
# when `role` says so); otherwise answer with an error and return None. The caller holds online_lock.
def transfer_of(session, frame, role=None):
    # The field first, then what it names: a transfer id is a string of 1–64 characters.
    transfer_id = frame.get("transfer")
    if not isinstance(transfer_id, str) or not 1 <= len(transfer_id) <= 64:
        fail(session, frame, "bad_request", 'field "transfer" must be a transfer id: a string of 1–64 characters')
        return None
    transfer = transfers.get(transfer_id)
    if transfer is None or (transfer.sender != session.user and session.user not in transfer.recipients):
        fail(session, frame, "unknown_transfer", f'there is no transfer "{transfer_id}" that you take part in')
        return None
    if role is not None and (role == "sender") != (transfer.sender == session.user):
        fail(session, frame, "bad_request", f"only {transfer.sender} sends {frame['type']}" if role == "sender" else f"only a receiver sends {frame['type']}")
        return None
    return transfer


# The receivers who said yes, as (user, state) pairs.
def accepted(transfer):
    return [(user, recipient) for user, recipient in transfer.recipients.items() if recipient["state"] == "accepted"]


def drop_recipient(transfer, user):
    del transfer.recipients[user]
    if not transfer.recipients:
        transfers.pop(transfer.id, None)


# Step 2: a receiver says yes or no; the sender is told who.
def answer_offer(session, frame):
    with online_lock:
        transfer = transfer_of(session, frame, "receiver")
        if transfer is None:
            return
        if transfer.recipients[session.user]["state"] != "offered":
            return fail(session, frame, "bad_request", f"you already answered transfer {transfer.id}")
        yes = frame["type"] == "file_accept"
        print(f"{session.user} {'accepts' if yes else 'declines'} transfer {transfer.id}")
        online[transfer.sender].send({"type": frame["type"], "transfer": transfer.id, "user": session.user})
        if yes:
            transfer.recipients[session.user]["state"] = "accepted"
        else:
            drop_recipient(transfer, session.user)


# The data starts: whoever has not answered the offer yet is too late (they would miss chunks).
def close_offer(transfer):
    for user, recipient in list(transfer.recipients.items()):
        if recipient["state"] == "offered":
            online[user].send({"type": "file_cancel", "transfer": transfer.id, "reason": "too_late", "user": transfer.sender})
            drop_recipient(transfer, user)


# The bytes a chunk's base64 data stands for, or None when it is not base64 at all.
def chunk_bytes(data):
    if not isinstance(data, str):
        return None
    try:
        return len(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        return None


# Step 3: a chunk, in order, relayed to every receiver who accepted. A receiver that is WINDOW
# chunks behind gets nothing more until it acknowledges: no queue here grows without bound.
def relay_chunk(session, frame):
    seq, data = frame.get("seq"), frame.get("data")
    with online_lock:
        transfer = transfer_of(session, frame, "sender")
        if transfer is None:
            return
        receivers = accepted(transfer)
        if not receivers:
            return fail(session, frame, "bad_request", "wait for a file_accept before sending chunks")
        if not is_whole_number(seq) or seq != transfer.next_seq:
            return fail(session, frame, "bad_request", f"chunk {transfer.next_seq} is due, not {json.dumps(seq)}")
        size = chunk_bytes(data)
        if size is None or size > MAX_CHUNK_BYTES or transfer.sent + size > transfer.size:
            return fail(session, frame, "bad_request", f"a chunk is base64 data of at most {MAX_CHUNK_BYTES} bytes, within the offered size")
        if any(seq - recipient["acked"] > WINDOW for _, recipient in receivers):
            return fail(session, frame, "rate_limited", f"at most {WINDOW} chunks may wait for their file_ack")
        if seq == 0:
            close_offer(transfer)
        transfer.next_seq += 1
        transfer.sent += size
        chunk = encode({"type": "file_chunk", "transfer": transfer.id, "seq": seq, "data": data, "from": session.user})
        for user, _ in receivers:
            online[user].write(chunk)  # encoded once, as in broadcast


# Flow control: a receiver has chunk `seq` (and all before it); the sender may send more.
def relay_ack(session, frame):
    seq = frame.get("seq")
    with online_lock:
        transfer = transfer_of(session, frame, "receiver")
        if transfer is None:
            return
        recipient = transfer.recipients[session.user]
        if recipient["state"] == "offered" or not is_whole_number(seq) or seq >= transfer.next_seq:
            return fail(session, frame, "bad_request", "acknowledge only chunks you were sent")
        recipient["acked"] = max(recipient["acked"], seq)
        online[transfer.sender].send({"type": "file_ack", "transfer": transfer.id, "seq": seq, "user": session.user})


# Step 4: every byte has been sent; the receivers now check what they got.
def end_file(session, frame):
    with online_lock:
        transfer = transfer_of(session, frame, "sender")
        if transfer is None:
            return
        if not accepted(transfer):
            return fail(session, frame, "bad_request", "wait for a file_accept first")
        if transfer.sent != transfer.size:
            return fail(session, frame, "bad_request", f"{transfer.sent} of {transfer.size} bytes sent: that is not the end")
        close_offer(transfer)  # a file of 0 bytes has no chunk 0
        print(f"{session.user} sent all {transfer.size} bytes of transfer {transfer.id}")
        for user, recipient in accepted(transfer):
            recipient["state"] = "ended"
            online[user].send({"type": "file_end", "transfer": transfer.id, "from": session.user})


# Step 4, the verdict: the receiver checked size and SHA-256; the sender learns the outcome.
def relay_result(session, frame):
    with online_lock:
        transfer = transfer_of(session, frame, "receiver")
        if transfer is None:
            return
        if transfer.recipients[session.user]["state"] != "ended" or not isinstance(frame.get("ok"), bool):
            return fail(session, frame, "bad_request", 'file_result comes after file_end, with "ok": true or false')
        result = {"type": "file_result", "transfer": transfer.id, "ok": frame["ok"], "user": session.user}
        if isinstance(frame.get("reason"), str):
            result["reason"] = frame["reason"]
        verdict = "saved" if frame["ok"] else f"rejected ({result.get('reason')})"
        print(f"{session.user} {verdict} transfer {transfer.id}")
        online[transfer.sender].send(result)
        drop_recipient(transfer, session.user)


# Step 5: either side gives up. The sender's cancel ends it for everyone; a receiver's, for itself.
def cancel_file(session, frame):
    reason = frame.get("reason")
    with online_lock:
        transfer = transfer_of(session, frame)
        if transfer is None:
            return
        drop_from_transfer(transfer, session.user, reason if isinstance(reason, str) else "cancelled")


# `user` is out of this transfer; the other side hears why (the caller holds online_lock).
def drop_from_transfer(transfer, user, reason):
    cancel = encode({"type": "file_cancel", "transfer": transfer.id, "reason": reason, "user": user})
    if transfer.sender == user:
        for recipient in transfer.recipients:
            online[recipient].write(cancel)
        transfers.pop(transfer.id, None)
    else:
        online[transfer.sender].write(cancel)
        drop_recipient(transfer, user)


# Steps 8 and 9: a user asks to leave; the server lets them go and tells the others.
def quit(session, frame):
    print(f"{session.user} quit")
    session.send({"type": "bye"})  # the last frame this user gets
    leave(session)
    # Step 10: we have nothing more to say, so close our side; the connection ends when the
    # client closes its side too, and we ignore whatever it sends until then.
    session.hang_up()


# Forget who this connection was, and tell everyone still here that they went offline
# (and why, when they did not say goodbye).
def leave(session, reason=None):
    presence = {"type": "presence", "user": session.user, "status": "offline"}
    if reason:
        presence["reason"] = reason
    with online_lock:
        # Their file transfers stop, and the other side learns why.
        for transfer in list(transfers.values()):
            if transfer.sender == session.user or session.user in transfer.recipients:
                drop_from_transfer(transfer, session.user, reason or "quit")
        # Out of every room, silently: the offline below, to everyone, says it all.
        for room in list(session.rooms):
            exit_room(session, room)
        del online[session.user]
        session.user = None
        broadcast(presence)


# What the server does with each type of frame. Each lesson adds one.
HANDLERS = {
    "login": login, "say": say, "quit": quit, "join": join, "leave": leave_room, "rooms": list_rooms,
    "file_offer": offer_file, "file_accept": answer_offer, "file_decline": answer_offer, "file_chunk": relay_chunk,
    "file_ack": relay_ack, "file_end": end_file, "file_result": relay_result, "file_cancel": cancel_file,
}


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
def serve(conn):
    # The TLS handshake first, here in the connection's own thread: a client that is slow to
    # shake hands holds up nobody else. A connection that does not speak TLS (nc, a chatlab/1
    # client without TLS) or does not trust our certificate fails it: it never becomes a
    # session, and never gets a hello.
    try:
        conn.do_handshake()
    except OSError as error:  # ssl.SSLError is an OSError
        print(f"a connection failed the TLS handshake: {handshake_failure(error)}")
        conn.close()
        return
    # From here on, conn reads and writes plain text, and TLS encrypts and decrypts underneath.
    session = Session(next(connection_numbers), conn)
    print(f"#{session.id} connected ({conn.version()})")

    # The server talks first: the client learns it reached a chatlab/1 server, not something else.
    # `features` tells clients which extensions beyond the core they may use here.
    session.send({"type": "hello", "protocol": "chatlab/1", "features": ["private", "rooms", "files"]})

    # TCP delivers a stream of bytes, not messages: one recv() may hold half a frame, or three.
    # TLS changes nothing here: recv() returns what one TLS record decrypted to, and a record is
    # no more a frame than a TCP segment (the client's TLS library cuts its writes where it
    # likes, at most 16 KiB a record). So we add each read to what we kept, cut off every
    # complete line, and keep the rest.
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
                    handle_line(session, line)  # a quit ends the conversation: the loop stops
            # No "\n" yet, and already too long to ever be a valid frame: don't wait for the rest.
            if len(pending) >= MAX_FRAME_BYTES and not session.closing:
                too_large(session)
    except OSError:
        pass  # a client that vanishes abruptly (crash, kill, cable pulled) resets the connection
    # The connection is over, however it ended. A user still logged in here dropped without quit
    # (crash, kill, network lost): tell the others all the same, or they would see a ghost,
    # online forever.
    if session.user is not None:
        print(f"{session.user} dropped")
        leave(session, "connection_lost")
    conn.close()
    print(f"#{session.id} disconnected")


# Why a handshake failed, as OpenSSL names it (ERR_SSL_WRONG_VERSION_NUMBER: not TLS at all;
# ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: the client does not trust our certificate), as Node prints it.
def handshake_failure(error):
    if isinstance(error, ssl.SSLError) and error.reason:
        return f"ERR_{error.library}_{error.reason}"
    return error.strerror or str(error) or type(error).__name__


# A certificate's SHA-256 fingerprint, as browsers and Node show it: AB:CD:…
def fingerprint(der):
    return hashlib.sha256(der).digest().hex(":").upper()


# Number the connections that complete the handshake, so the log can tell them apart. Each
# connection's thread takes its number: next() on a count is one step for Python's threads.
connection_numbers = itertools.count(1)


def main():
    # Each print reaches the terminal at once, even when stdout is a pipe (tests, the inspector).
    sys.stdout.reconfigure(encoding="utf-8", line_buffering=True)
    # What every connection's TLS uses: our key and certificate, TLS 1.2 or later (the default).
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CERT_FILE, KEY_FILE)
    # Wrapping the listening socket makes every socket accept() returns a TLS one. Its handshake
    # waits for the connection's thread (do_handshake_on_connect=False): done in accept(), one
    # client that never finishes it would stop every connection after it.
    with socket.create_server((HOST, PORT)) as plain, context.wrap_socket(plain, server_side=True, do_handshake_on_connect=False) as server:
        # Ask the socket for its real port: with PORT=0 the system picks a free one.
        print(f"listening on {HOST}:{server.getsockname()[1]}")
        # The certificate's fingerprint: clients print the one they were shown, to compare.
        pem = Path(CERT_FILE).read_text()
        der = ssl.PEM_cert_to_DER_cert(pem[pem.index("-----BEGIN CERTIFICATE-----") :])  # past the demo file's warning
        print(f"TLS certificate SHA-256 {fingerprint(der)}")
        while True:
            conn, _ = server.accept()
            # A daemon thread does not keep the program alive once the main thread stops (Ctrl-C).
            threading.Thread(target=serve, args=(conn,), daemon=True).start()


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
