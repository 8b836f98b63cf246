# Lesson 13 — TLS: the same client, over an encrypted connection to a certificate it trusts.
import base64
import hashlib
import itertools
import json
import os
import re
import socket
import ssl
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

# Where the server is: the same variables the server reads, with the same defaults.
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", 7070))
# Who we log in as. The verifier and `chatlab lesson run` set these; the defaults are a demo account.
USER = os.environ.get("CHATLAB_USER", "alice")
PASSWORD = os.environ.get("CHATLAB_PASSWORD", "wonderland")
# The one certificate we trust: the server's own (self-signed, so no authority vouches for it).
CA_FILE = os.environ.get("CHATLAB_TLS_CA", Path(__file__).parent / "demo-cert.pem")
# Where the files we accept are saved: CHATLAB_DOWNLOADS, or downloads/<user> in this folder.
DOWNLOADS = os.environ.get("CHATLAB_DOWNLOADS", os.path.join("downloads", USER))

# The most bytes one file_chunk carries (base64 makes 43,692 characters of them: well under a
# frame), and how many chunks we send ahead of a receiver's file_ack.
CHUNK_BYTES = 32 * 1024
WINDOW = 8

# Both threads send now: the typing thread its lines, the reading thread the chunks and acks.
# sendall() may take several writes for a big chunk: one frame at a time, or their bytes interleave.
send_lock = threading.Lock()


# One frame = one JSON object on one line, exactly as the server writes them.
def send(sock, frame):
    data = (json.dumps(frame, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    with send_lock:
        sock.sendall(data)


# A file we offered: where to read it, and for each receiver that accepted, the last chunk it
# acknowledged.
@dataclass
class Outgoing:
    name: str
    path: str
    size: int
    next_seq: int = 0
    acked: dict = field(default_factory=dict)
    ended: bool = False


# A file offered to us; once accepted, the temporary file it goes to and its hash so far.
@dataclass
class Incoming:
    sender: str
    name: str
    size: int
    sha256: str
    temp: str = None
    file: object = None
    hash: object = None
    received: int = 0


# One chunk of a file, read when it is about to be sent.
def read_chunk(path, position):
    with open(path, "rb") as file:
        file.seek(position)
        return file.read(CHUNK_BYTES)


# Someone else chose this name: keep only what is safe to create in our folder. The base name
# only ("../../.profile" would otherwise land two folders up), no control characters, no
# leading dots (no hidden files, no "..").
def safe_name(offered):
    base = re.split(r"[/\\]", offered)[-1]
    name = re.sub(r"^[.\s]+", "", re.sub(r"[\x00-\x1f\x7f]", "", base)).strip()
    return name or "file"


# A path that does not exist yet: cat.png, else cat (1).png, cat (2).png… Never overwrite.
def free_path(folder, name):
    dot = name.rfind(".")
    stem, extension = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    path = os.path.join(folder, name)
    for n in itertools.count(1):
        if not os.path.exists(path):
            return path
        path = os.path.join(folder, f"{stem} ({n}){extension}")


# Where a message was said: privately to us, in a room, or in lobby (nothing to add).
def where(message):
    if "to" in message:
        return "(private) "
    if message.get("room", "lobby") != "lobby":
        return f"#{message['room']} "
    return ""


class Chat:
    """The client's side of the conversation: what it has seen so far."""

    def __init__(self, sock):
        self.sock = sock
        # Whether we asked to leave: set by the typing thread, read by both.
        self.leaving = False
        # Whether the server said bye: then the connection's end is the normal one.
        self.got_bye = False
        # Whether we closed our side: then what still arrives is not frames (see hang_up).
        self.hung_up = False
        # The room our plain lines go to: lobby (everyone) until we /join another.
        self.room = "lobby"
        # Requests waiting for their answer: id → what to do with it. The server copies a
        # request's id into its answer, so we can tell which answer is which, even with several
        # on their way. The typing thread adds to it, the reading thread takes from it: a dict's
        # setitem and pop are each one step for Python's threads, so no lock is needed.
        self.waiting = {}
        self.last_id = 0
        # Files we offered, and offers made to us, by transfer id; the latest offer is what
        # /accept takes.
        self.outgoing = {}
        self.incoming = {}
        self.last_offer = None

    def request(self, frame, on_answer):
        self.last_id += 1
        self.waiting[self.last_id] = on_answer
        send(self.sock, {**frame, "id": self.last_id})

    # A plain line is a message to the current room; lobby is the core's "everyone", no room needed.
    def say(self, text):
        room = self.room
        send(self.sock, {"type": "say", "text": text} if room == "lobby" else {"type": "say", "room": room, "text": text})

    # The slash commands. The last argument of /msg is the rest of the line, spaces included.
    def command(self, line):
        name, _, rest = line.partition(" ")
        arg, _, text = rest.partition(" ")
        match name:
            case "/msg":
                if arg == "" or text == "":
                    return print("usage: /msg USER TEXT")

                # With an id, the server tells us whether the message waits for an offline user.
                def sent(answer):
                    if answer.get("queued"):
                        print(f"({arg} is offline: the message waits for their next login)")

                self.request({"type": "say", "to": arg, "text": text}, sent)
            case "/join":

                def joined(answer):
                    self.room = answer["room"]  # from now on, our lines go there
                    print(f"joined #{answer['room']}; members: {', '.join(answer['users'])}")

                self.request({"type": "join", "room": arg}, joined)
            case "/leave":
                left = arg or self.room

                def gone(answer):
                    if left == self.room:
                        self.room = "lobby"
                    print(f"left #{left}; your lines go to #{self.room}")

                self.request({"type": "leave", "room": left}, gone)
            case "/rooms":
                self.request({"type": "rooms"}, lambda answer: print("rooms: " + ", ".join(f"#{r['room']} ({r['users']})" for r in answer["rooms"])))
            case "/send":
                if arg == "" or text == "":
                    return print("usage: /send USER PATH (or /send #ROOM PATH)")
                self.offer_file(arg, text)
            case "/accept" | "/decline":
                self.answer_offer(name == "/accept", arg or self.last_offer)
            case _:
                print(f"unknown command {name}: try /msg USER TEXT, /join ROOM, /leave [ROOM], /rooms, /send USER PATH, /accept, /decline, /quit")

    # ---- Sending a file.

    # Step 1: offer the file, with its size and checksum. No data moves until someone accepts.
    def offer_file(self, target, path):
        try:
            size = os.path.getsize(path)
            with open(path, "rb") as file:
                sha256 = hashlib.file_digest(file, "sha256").hexdigest()  # a piece at a time: a big file never has to fit in memory
        except OSError as error:
            return print(f"cannot read {path}: {error.strerror or error}")
        name = os.path.basename(path)  # only the name: where it sits on our disk is nobody's business
        to = {"room": target[1:]} if target.startswith("#") else {"to": target}

        def offered(answer):
            self.outgoing[answer["transfer"]] = Outgoing(name, path, size)
            print(f"offered {name} ({size} bytes) to {target}: transfer {answer['transfer']}")

        self.request({"type": "file_offer", **to, "name": name, "size": size, "sha256": sha256}, offered)

    # Step 3: send chunks while the slowest receiver has fewer than WINDOW unacknowledged; each
    # file_ack calls this again. A slow receiver slows us down instead of filling the server's memory.
    def pump(self, transfer):
        out = self.outgoing.get(transfer)
        if out is None or not out.acked:
            return
        slowest = min(out.acked.values())
        while not out.ended and out.next_seq - slowest <= WINDOW:
            position = out.next_seq * CHUNK_BYTES
            if position >= out.size:
                out.ended = True  # step 4: all sent; the receivers check it now
                send(self.sock, {"type": "file_end", "transfer": transfer})
            else:
                data = base64.b64encode(read_chunk(out.path, position)).decode("ascii")
                send(self.sock, {"type": "file_chunk", "transfer": transfer, "seq": out.next_seq, "data": data})
                out.next_seq += 1

    # What the sender hears about its file, from one receiver.
    def on_receiver_news(self, frame):
        out = self.outgoing.get(frame["transfer"])
        if out is None:
            return
        match frame["type"]:
            case "file_accept":
                print(f"{frame['user']} accepted {out.name}")
                out.acked[frame["user"]] = -1  # nothing acknowledged yet
                self.pump(frame["transfer"])
            case "file_ack":
                out.acked[frame["user"]] = frame["seq"]
                self.pump(frame["transfer"])
            case "file_decline":
                print(f"{frame['user']} declined {out.name}")
            case "file_result":
                out.acked.pop(frame["user"], None)
                print(f"{frame['user']} saved {out.name}: SHA-256 verified" if frame["ok"] else f"{frame['user']} could not save {out.name}: {frame.get('reason')}")
            case "file_cancel":
                out.acked.pop(frame["user"], None)
                print(f"{frame['user']} cancelled {out.name} ({frame['reason']})")

    # ---- Receiving a file.

    # Step 2: say yes or no to an offer. Yes opens a temporary file: the real name appears only
    # once the whole file is there and its checksum is right.
    def answer_offer(self, yes, transfer):
        offer = self.incoming.get(transfer)
        if offer is None or offer.file is not None:
            return print(f"there is no offer {transfer or 'to answer'}")
        if not yes:
            del self.incoming[transfer]
            return send(self.sock, {"type": "file_decline", "transfer": transfer})
        os.makedirs(DOWNLOADS, exist_ok=True)
        offer.temp = os.path.join(DOWNLOADS, f".{transfer}.part")
        offer.file = open(offer.temp, "wb")
        offer.hash = hashlib.sha256()
        print(f"receiving {safe_name(offer.name)} from {offer.sender}…")
        send(self.sock, {"type": "file_accept", "transfer": transfer})

    # Step 3: write each chunk, hash it on the way, and acknowledge it (that opens the window).
    def receive_chunk(self, frame):
        offer = self.incoming.get(frame["transfer"])
        if offer is None or offer.file is None:
            return
        data = base64.b64decode(frame["data"])
        offer.file.write(data)
        offer.hash.update(data)
        offer.received += len(data)
        send(self.sock, {"type": "file_ack", "transfer": frame["transfer"], "seq": frame["seq"]})

    # Step 4: check the size and the SHA-256. A good file gets its real name; a bad one is deleted.
    def finish_file(self, transfer):
        offer = self.incoming.get(transfer)
        if offer is None or offer.file is None:
            return
        del self.incoming[transfer]
        offer.file.close()
        if offer.received != offer.size:
            problem = "size mismatch"
        elif offer.hash.hexdigest() != offer.sha256:
            problem = "checksum mismatch"
        else:
            problem = None
        if problem:
            os.remove(offer.temp)
            print(f"! {safe_name(offer.name)} from {offer.sender} failed its check ({problem}): deleted")
            return send(self.sock, {"type": "file_result", "transfer": transfer, "ok": False, "reason": problem})
        path = free_path(DOWNLOADS, safe_name(offer.name))
        os.rename(offer.temp, path)
        print(f"saved {os.path.basename(path)} ({offer.size} bytes, SHA-256 verified)")
        send(self.sock, {"type": "file_result", "transfer": transfer, "ok": True})

    # Step 5: a transfer stopped half-way. Nothing half-written stays behind.
    def drop_incoming(self, transfer):
        offer = self.incoming.pop(transfer, None)
        if offer is None or offer.file is None:
            return
        offer.file.close()
        try:
            os.remove(offer.temp)
        except FileNotFoundError:
            pass

    # Ask the server to let us go, once. We don't just vanish: the server can then tell the
    # others we left on purpose.
    def quit(self):
        if self.leaving:
            return
        self.leaving = True
        send(self.sock, {"type": "quit"})

    # Every line typed (or piped into stdin) is sent as a message. This runs in a thread of its
    # own, so reading the keyboard never stops us reading the server.
    def type_lines(self):
        for line in sys.stdin:
            if self.leaving:
                return  # after /quit, the rest of the input is not ours to send
            text = line.rstrip("\r\n")
            if text == "/quit":
                self.quit()
            elif text.startswith("/"):
                self.command(text)
            elif text != "":
                self.say(text)  # an empty message is not allowed
        # Ctrl-D, or the end of a piped file, means the same as /quit.
        self.quit()

    # What the client does with each frame from the server.
    def handle(self, frame):
        # The answer to one of our requests goes to whoever asked; an error is shown as any other.
        on_answer = self.waiting.pop(frame.get("id"), None) if isinstance(frame, dict) else None
        if on_answer and frame.get("type") != "error":
            return on_answer(frame)
        match frame:
            case {"type": "hello"}:  # the server is ready for us: log in
                send(self.sock, {"type": "login", "user": USER, "password": PASSWORD})
            case {"type": "welcome", "user": user, "users": users}:
                print(f"logged in as {user}; online: {', '.join(users)}")
                # Only now do we read the keyboard: a say sent before the welcome would only earn
                # a not_logged_in error. A daemon thread does not keep the program alive.
                threading.Thread(target=self.type_lines, daemon=True).start()
            case {"type": "message", "from": sender, "text": text}:
                print(f"{where(frame)}{sender}: {text}")
            case {"type": "file_offer", "transfer": transfer, "from": sender, "name": name, "size": size, "sha256": sha256}:
                self.incoming[transfer] = Incoming(sender, name, size, sha256)
                self.last_offer = transfer
                # The name is shown as sent (JSON-quoted), tricks included.
                print(f"{sender} offers {json.dumps(name, ensure_ascii=False)} ({size} bytes, transfer {transfer}): /accept or /decline")
            case {"type": "file_chunk"}:
                self.receive_chunk(frame)
            case {"type": "file_end", "transfer": transfer}:
                self.finish_file(transfer)
            case {"type": "file_cancel", "transfer": transfer} if transfer in self.incoming:
                print(f"* {frame['user']} cancelled transfer {transfer} ({frame['reason']})")
                self.drop_incoming(transfer)
            case {"type": "file_accept" | "file_decline" | "file_ack" | "file_result" | "file_cancel"}:
                self.on_receiver_news(frame)
            case {"type": "history_end", "count": count}:  # the messages that waited for us are all here
                print(f"* end of history ({count} message{'' if count == 1 else 's'})")
            case {"type": "presence", "user": user, "status": status, "room": room}:  # someone came into or went out of a room we are in
                print(f"* {user} {'joined' if status == 'online' else 'left'} #{room}")
            case {"type": "presence", "user": user, "status": status}:
                print(f"* {user} is {status}")
            case {"type": "bye"}:  # the server has let us go: close our side too
                self.got_bye = True
                self.hang_up()
            case {"type": "error", "code": code, "message": message}:
                print(f"! {code}: {message}")
                # Our name and password come from the environment: if they are refused, there is
                # nothing else to try. Close our side and report the failure in the exit code.
                if code in ("auth_failed", "already_online"):
                    self.hang_up()
            case _:  # not understood yet: show it as it came
                print(f"server sent: {json.dumps(frame, ensure_ascii=False, separators=(',', ':'))}")

    # Close our side, and wait for the server to close its. On a TLS socket, shutdown() also ends
    # TLS here (without the close_notify TLS has for it: the bye said the end is on purpose), so
    # what still arrives is raw, encrypted bytes: read, but no longer taken for frames.
    def hang_up(self):
        self.hung_up = True
        self.sock.shutdown(socket.SHUT_WR)

    # The same framing as the server: bytes arrive in reads of any size (TLS hands them over a
    # record at a time, and a record is no more a frame than a TCP segment), so keep the start of
    # an unfinished frame until its "\n" arrives.
    def read_frames(self):
        pending = b""
        while data := self.sock.recv(4096):  # b"" means the server closed its side
            if self.hung_up:
                continue
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
    # Each print reaches the terminal at once, even when stdout is a pipe; stdin is read as UTF-8.
    sys.stdout.reconfigure(encoding="utf-8", line_buffering=True)
    sys.stdin.reconfigure(encoding="utf-8")
    # Trust only CA_FILE: given a file, create_default_context() leaves out the system's list of
    # authorities, so a server that cannot prove it holds this certificate's key, or anyone in
    # between, fails the handshake. That is pinning. It also checks the dates, and that the
    # certificate names the host we asked for (127.0.0.1).
    context = ssl.create_default_context(cafile=CA_FILE)
    try:
        # create_connection() returns once the TCP handshake has completed; wrap_socket() once
        # the TLS handshake has too, and the certificate checked out.
        sock = context.wrap_socket(socket.create_connection((HOST, PORT)), server_hostname=HOST)
    except ssl.SSLCertVerificationError as error:  # a certificate we do not trust
        print(f"cannot talk to {HOST}:{PORT}: {error.verify_message}")
        return 1
    except OSError as error:  # no server listening there? (ssl.SSLError is an OSError too)
        print(f"cannot talk to {HOST}:{PORT}: {error.strerror or error}")
        return 1
    print(f"connected to {HOST}:{PORT} with {sock.version()}")
    fingerprint = hashlib.sha256(sock.getpeercert(binary_form=True)).digest().hex(":").upper()
    print(f"TLS certificate SHA-256 {fingerprint}")
    chat = Chat(sock)
    with sock:
        try:
            chat.read_frames()
        except OSError as error:
            print(f"cannot talk to {HOST}:{PORT}: {error.strerror or error}")
    # The connection is over, by bye or not. Returning from main ends the program: the typing
    # thread is a daemon. Without a bye, we were cut off: a failure.
    for transfer in list(chat.incoming):
        chat.drop_incoming(transfer)  # no half-received file stays behind
    print("disconnected")
    return 0 if chat.got_bye else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C: leave at once, without a traceback
