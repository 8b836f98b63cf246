# Lesson 11 — private messages and rooms: /msg, /join, /leave, /rooms.
import json
import os
import socket
import sys
import threading

# Where the server is: the same variables the server reads, with the same defaults.
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", 7070))
# Who we log in as. The verifier and `chatlab lesson run` set these; the defaults are a demo account.
USER = os.environ.get("CHATLAB_USER", "alice")
PASSWORD = os.environ.get("CHATLAB_PASSWORD", "wonderland")


# One frame = one JSON object on one line, exactly as the server writes them.
def send(sock, frame):
    sock.sendall((json.dumps(frame, ensure_ascii=False, separators=(",", ":")) + "\n").encode())


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
        # The room our plain lines go to: lobby (everyone) until we /join another.
        self.room = "lobby"
        # Requests waiting for their answer: id → what to do with it. The server copies a
        # request's id into its answer, so we can tell which answer is which, even with several
        # on their way. The typing thread adds to it, the reading thread takes from it: a dict's
        # setitem and pop are each one step for Python's threads, so no lock is needed.
        self.waiting = {}
        self.last_id = 0

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
            case _:
                print(f"unknown command {name}: try /msg USER TEXT, /join ROOM, /leave [ROOM], /rooms, /quit")

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
            case {"type": "history_end", "count": count}:  # the messages that waited for us are all here
                print(f"* end of history ({count} message{'' if count == 1 else 's'})")
            case {"type": "presence", "user": user, "status": status, "room": room}:  # someone came into or went out of a room we are in
                print(f"* {user} {'joined' if status == 'online' else 'left'} #{room}")
            case {"type": "presence", "user": user, "status": status}:
                print(f"* {user} is {status}")
            case {"type": "bye"}:  # the server has let us go: close our side too
                self.got_bye = True
                self.sock.shutdown(socket.SHUT_WR)
            case {"type": "error", "code": code, "message": message}:
                print(f"! {code}: {message}")
                # Our name and password come from the environment: if they are refused, there is
                # nothing else to try. Close our side and report the failure in the exit code.
                if code in ("auth_failed", "already_online"):
                    self.sock.shutdown(socket.SHUT_WR)
            case _:  # not understood yet: show it as it came
                print(f"server sent: {json.dumps(frame, ensure_ascii=False, separators=(',', ':'))}")

    # The same framing as the server: bytes arrive in reads of any size, so keep the start of an
    # unfinished frame until its "\n" arrives.
    def read_frames(self):
        pending = b""
        while data := self.sock.recv(4096):  # b"" means the server closed its side
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
    try:
        # create_connection() returns once the TCP handshake has completed.
        sock = socket.create_connection((HOST, PORT))
    except OSError as error:  # no server listening there?
        print(f"cannot talk to {HOST}:{PORT}: {error.strerror or error}")
        return 1
    print(f"connected to {HOST}:{PORT}")
    chat = Chat(sock)
    with sock:
        try:
            chat.read_frames()
        except OSError as error:
            print(f"cannot talk to {HOST}:{PORT}: {error.strerror or error}")
    # The connection is over, by bye or not. Returning from main ends the program: the typing
    # thread is a daemon. Without a bye, we were cut off: a failure.
    print("disconnected")
    return 0 if chat.got_bye else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl-C: leave at once, without a traceback
