// Lesson 11 — private messages and rooms: say with `to`, say with `room`, join, leave, rooms.
import net from 'node:net';
import { readFileSync } from 'node:fs';

// The port comes from the environment, so several servers (and tests) can run side by side.
const port = Number(process.env.PORT ?? 7070);
const host = '127.0.0.1'; // only this machine can connect: safe while we learn

// The protocol's limit for one frame, newline included.
const MAX_FRAME_BYTES = 65536;
// Strict UTF-8: bytes that are not UTF-8 make a bad frame instead of being replaced by '�'.
// ignoreBOM keeps a byte order mark (EF BB BF) at the start of a line, which JSON does not
// allow, so JSON.parse refuses it: a TextDecoder would otherwise drop it without a word.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// The deepest a frame may nest objects and arrays; the frame object is level 1. No chatlab/1
// frame needs more than 3, and the limit keeps a line of 30,000 '[' from wearing out a stack.
const MAX_NESTING_DEPTH = 32;
// A user name: 1–32 characters of A–Z a–z 0–9 _ -
const USER_NAME = /^[A-Za-z0-9_-]{1,32}$/;
// A room name: 1–32 characters of a–z 0–9 _ - (lower case only, so #Rust and #rust are one room).
const ROOM_NAME = /^[a-z0-9_-]{1,32}$/;
// The room everyone is in from login on. It is not in `rooms`: its members are simply `online`.
const LOBBY = 'lobby';

// The demo accounts, user name → password, shared by every lesson. Clear text keeps the lesson
// short; a real server keeps only a salted hash of each password (see the exercises).
const accounts = JSON.parse(readFileSync(new URL('../accounts.json', import.meta.url), 'utf8'));

// What the server does with each type of frame. Each lesson adds one.
const handlers = { login, say, quit, join, leave: leaveRoom, rooms: listRooms };

// Who is logged in: user name → their socket. Only these users hear about each other.
const online = new Map();
// The other rooms: room name → the set of its members' names. A room exists while someone is in it.
const rooms = new Map();
// Private messages waiting for a user who was offline: user name → their message frames.
const mailboxes = new Map();
// Every relayed message gets the next number: clients can tell messages apart, and the reference
// server stores them under it for history (a server restart here starts again from 1).
let lastMsgid = 0;

// Number the connections, so the log can tell them apart.
let connections = 0;

// One frame on the wire = one JSON object on one line. JSON.stringify never writes a raw
// newline (it escapes them as \n), so the '\n' we add is the only one: it ends the frame.
function send(socket, frame) {
  socket.write(JSON.stringify(frame) + '\n');
}

// A request id: a string of at most 64 characters, or a whole number within ±(2^53−1). Larger
// numbers lose digits in JavaScript, and 1.5 or an object could not be matched reliably.
function isRequestId(id) {
  return (typeof id === 'string' && [...id].length <= 64) || Number.isSafeInteger(id);
}

// Whether a parsed value nests objects and arrays deeper than `limit` levels. It gives up as
// soon as it is past the limit, so even a frame nested 30,000 levels deep costs 33 calls.
function nestsDeeperThan(value, limit) {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  return Object.values(value).some((inner) => nestsDeeperThan(inner, limit - 1));
}

// A direct answer carries the request's id, when it has one, so the client can tell which
// of its requests this answers.
function reply(socket, request, frame) {
  if (isRequestId(request.id)) frame.id = request.id;
  send(socket, frame);
}

function fail(socket, request, code, message) {
  reply(socket, request, { type: 'error', code, message });
}

// Length in characters as the protocol counts them (code points): '👋' is 1, though '👋'.length is 2.
function characters(text) {
  return [...text].length;
}

// Send one frame to every logged-in user except one (the user the news is about).
function broadcast(frame, exceptUser) {
  const line = JSON.stringify(frame) + '\n'; // encoded once: the same bytes for everyone
  for (const [user, socket] of online) {
    if (user !== exceptUser) socket.write(line);
  }
}

// The same, for the members of one room only.
function broadcastToRoom(room, frame, exceptUser) {
  const line = JSON.stringify(frame) + '\n';
  for (const user of rooms.get(room)) {
    if (user !== exceptUser) online.get(user).write(line);
  }
}

// The members of a room, sorted; lobby's members are everyone online.
function membersOf(room) {
  return [...(room === LOBBY ? online.keys() : rooms.get(room))].sort();
}

// Steps 4 and 5: the client logs in; we check who it is, welcome it and tell the others.
function login(socket, session, frame) {
  const { user, password } = frame;
  // A client may send anything: check the fields before using them.
  if (typeof user !== 'string' || !USER_NAME.test(user)) {
    return fail(socket, frame, 'bad_request', 'a user name is 1–32 characters of A–Z a–z 0–9 _ -');
  }
  if (typeof password !== 'string' || password === '' || characters(password) > 1024) {
    return fail(socket, frame, 'bad_request', 'a password is 1–1024 characters');
  }
  if (session.user !== null) {
    return fail(socket, frame, 'already_logged_in', `this connection is already logged in as ${session.user}`);
  }
  // The same answer for an unknown user and a wrong password, so nobody can probe which names exist.
  if (!Object.hasOwn(accounts, user) || accounts[user] !== password) {
    console.log(`#${session.id} failed to log in as ${user}`); // never print the password
    return fail(socket, frame, 'auth_failed', 'wrong user name or password');
  }
  // One session per user: a second login would leave two sockets fighting over one name.
  if (online.has(user)) {
    return fail(socket, frame, 'already_online', `${user} is already logged in elsewhere`);
  }
  session.user = user;
  online.set(user, socket);
  console.log(`#${session.id} is ${user}`);
  // Welcome first, so the new user learns who is here before any news about them.
  reply(socket, frame, { type: 'welcome', user, users: [...online.keys()].sort() });
  broadcast({ type: 'presence', user, status: 'online' }, user);
  // Private messages that came while this user was away, marked as history, then the end of them.
  const waiting = mailboxes.get(user) ?? [];
  mailboxes.delete(user); // delivered once: they are never "new" again
  for (const message of waiting) send(socket, { ...message, history: true, queued: true });
  if (waiting.length > 0) send(socket, { type: 'history_end', count: waiting.length, last_msgid: waiting.at(-1).msgid });
}

// Steps 6 and 7: a user says something; the server relays it to everyone else in the room,
// or to one user only when the say names one with `to`.
function say(socket, session, frame) {
  const { text, to, room = LOBBY } = frame;
  if (typeof text !== 'string' || text === '' || characters(text) > 4000) {
    return fail(socket, frame, 'bad_request', 'a message is 1–4000 characters');
  }
  // JSON's \uXXXX escape can write half an emoji on its own (a lone surrogate, "\ud83d"):
  // UTF-8 cannot carry it, so we could not relay it faithfully.
  if (!text.isWellFormed()) {
    return fail(socket, frame, 'bad_request', 'field "text" of "say" contains a lone surrogate: not valid Unicode');
  }
  if (to !== undefined) return sayPrivately(socket, session, frame);
  if (typeof room !== 'string' || !ROOM_NAME.test(room)) {
    return fail(socket, frame, 'bad_request', 'a room name is 1–32 characters of a–z 0–9 _ -');
  }
  if (room !== LOBBY && !rooms.has(room)) return fail(socket, frame, 'unknown_room', `there is no room "${room}"`);
  if (room !== LOBBY && !rooms.get(room).has(session.user)) {
    return fail(socket, frame, 'not_in_room', `join "${room}" before speaking in it`);
  }
  console.log(room === LOBBY ? `${session.user} says: ${text}` : `${session.user} says in #${room}: ${text}`);
  // We build a new frame rather than pass the client's on: `from` is the name this connection
  // logged in as, never a field the client wrote, so nobody can speak as someone else; `ts` is
  // our clock. The sender gets no copy: its own screen already shows what it typed.
  const message = { type: 'message', from: session.user, room, text, ts: Date.now(), msgid: ++lastMsgid };
  if (room === LOBBY) broadcast(message, session.user);
  else broadcastToRoom(room, message, session.user);
  // The sender hears back only if it asked to, by giving its say an id.
  if (frame.id !== undefined) reply(socket, frame, { type: 'ok' });
}

// A private message: to one user only, whoever else is online. Kept for later if they are away.
function sayPrivately(socket, session, frame) {
  const { text, to } = frame;
  if (frame.room !== undefined) return fail(socket, frame, 'bad_request', 'a message goes to a user or to a room, not both');
  if (typeof to !== 'string' || !USER_NAME.test(to)) return fail(socket, frame, 'bad_request', '"to" is a user name');
  if (to === session.user) return fail(socket, frame, 'bad_request', 'you cannot send a private message to yourself');
  // Only names that exist: a typo must not vanish into a mailbox nobody will ever read.
  if (!Object.hasOwn(accounts, to)) return fail(socket, frame, 'unknown_user', `there is no user "${to}"`);
  const message = { type: 'message', from: session.user, to, text, ts: Date.now(), msgid: ++lastMsgid };
  const recipient = online.get(to);
  if (recipient) {
    console.log(`${session.user} says to ${to}: ${text}`);
    send(recipient, message);
  } else {
    console.log(`${session.user} says to ${to} (offline, kept for later): ${text}`);
    mailboxes.set(to, [...(mailboxes.get(to) ?? []), message]);
  }
  if (frame.id !== undefined) {
    const ok = { type: 'ok', msgid: message.msgid };
    if (!recipient) ok.queued = true; // the sender learns it will wait
    reply(socket, frame, ok);
  }
}

// A room name from a join or a leave, checked; undefined (after answering) when it is not one.
function roomOf(socket, frame) {
  if (typeof frame.room === 'string' && ROOM_NAME.test(frame.room)) return frame.room;
  fail(socket, frame, 'bad_request', 'a room name is 1–32 characters of a–z 0–9 _ -');
  return undefined;
}

// Enter a room (it is created by the first one to join). The answer lists its members, self
// included; the members already there are told who came in.
function join(socket, session, frame) {
  const room = roomOf(socket, frame);
  if (room === undefined) return;
  // Joining a room you are in (lobby, always) changes nothing: the same answer again.
  const isNew = room !== LOBBY && !rooms.get(room)?.has(session.user);
  if (isNew) {
    if (!rooms.has(room)) rooms.set(room, new Set());
    rooms.get(room).add(session.user);
    session.rooms.add(room);
    console.log(`${session.user} joined #${room}`);
  }
  // The answer first, so the newcomer learns who is there before any news about them.
  reply(socket, frame, { type: 'users', room, users: membersOf(room) });
  if (isNew) broadcastToRoom(room, { type: 'presence', user: session.user, status: 'online', room }, session.user);
}

// Leave a room: the others in it are told; the last one out closes it. Nobody leaves lobby:
// it is how everyone reaches everyone.
function leaveRoom(socket, session, frame) {
  const room = roomOf(socket, frame);
  if (room === undefined) return;
  if (room === LOBBY) return fail(socket, frame, 'bad_request', 'everyone stays in lobby');
  if (!rooms.has(room)) return fail(socket, frame, 'unknown_room', `there is no room "${room}"`);
  if (!rooms.get(room).has(session.user)) return fail(socket, frame, 'not_in_room', `you are not in "${room}"`);
  exitRoom(session, room);
  console.log(`${session.user} left #${room}`);
  if (frame.id !== undefined) reply(socket, frame, { type: 'ok' }); // like say: only when asked
  broadcastToRoom(room, { type: 'presence', user: session.user, status: 'offline', room });
  if (rooms.get(room).size === 0) rooms.delete(room);
}

function exitRoom(session, room) {
  rooms.get(room).delete(session.user);
  session.rooms.delete(room);
}

// Which rooms exist, and how many are in each, sorted by name.
function listRooms(socket, session, frame) {
  const list = [LOBBY, ...rooms.keys()].sort().map((room) => ({ room, users: membersOf(room).length }));
  reply(socket, frame, { type: 'room_list', rooms: list });
}

// Steps 8 and 9: a user asks to leave; the server lets them go and tells the others.
function quit(socket, session, frame) {
  console.log(`${session.user} quit`);
  send(socket, { type: 'bye' }); // the last frame this user gets
  leave(session);
  // Step 10: we have nothing more to say, so close our side. Node closes the socket fully when
  // the client closes its side too, and we ignore whatever it sends until then.
  socket.end();
}

// Forget who this connection was, and tell everyone still here that they went offline
// (and why, when they did not say goodbye).
function leave(session, reason) {
  const presence = { type: 'presence', user: session.user, status: 'offline' };
  if (reason) presence.reason = reason;
  // Out of every room, silently: the offline below, to everyone, says it all.
  for (const room of session.rooms) {
    exitRoom(session, room);
    if (rooms.get(room).size === 0) rooms.delete(room);
  }
  online.delete(session.user);
  session.user = null;
  broadcast(presence);
}

// One complete line (without its '\n') is one frame: decode it, check it, hand it on.
function handleLine(socket, session, line) {
  let frame;
  try {
    const text = utf8.decode(line);
    if (text.trim() === '') return; // a blank line (Enter pressed twice in nc) is not a frame
    frame = JSON.parse(text); // a '\r' before the '\n' (telnet, nc -C) is just whitespace to JSON
  } catch {
    return send(socket, { type: 'error', code: 'bad_frame', message: 'a frame is one JSON object, in UTF-8, on one line' });
  }
  if (nestsDeeperThan(frame, MAX_NESTING_DEPTH)) {
    return send(socket, { type: 'error', code: 'bad_frame', message: `a frame nests at most ${MAX_NESTING_DEPTH} levels of objects and arrays` });
  }
  if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string') {
    return send(socket, { type: 'error', code: 'bad_frame', message: 'a frame is a JSON object with a string "type"' });
  }
  if (!Object.hasOwn(handlers, frame.type)) {
    return fail(socket, frame, 'unknown_type', `unknown frame type "${frame.type}"`);
  }
  // Only login is allowed before logging in: nobody may speak before we know who they are.
  if (session.user === null && frame.type !== 'login') {
    return fail(socket, frame, 'not_logged_in', 'log in first');
  }
  // An id must be something the client can match exactly. An invalid one is not echoed: the
  // error goes out without an id.
  if (frame.id !== undefined && !isRequestId(frame.id)) {
    return send(socket, { type: 'error', code: 'bad_request', message: 'an "id" is a string of at most 64 characters or a whole number within ±(2^53−1)' });
  }
  handlers[frame.type](socket, session, frame);
}

// We cannot know where the next frame would start, so: say why, and hang up.
function tooLarge(socket) {
  send(socket, { type: 'error', code: 'frame_too_large', message: `a frame may not exceed ${MAX_FRAME_BYTES} bytes` });
  socket.end();
}

// This function runs once for every client that connects; `socket` is our end of that connection.
const server = net.createServer((socket) => {
  // Everything we know about this one connection lives in its session. Later lessons add to it.
  // `pending` holds the bytes received after the last '\n': the start of a frame not yet complete.
  // `user` is the name this connection logged in as; null until then. `rooms`: the rooms it
  // joined (lobby is implied).
  const session = { id: ++connections, pending: Buffer.alloc(0), user: null, rooms: new Set() };
  console.log(`#${session.id} connected`);

  // The server talks first: the client learns it reached a chatlab/1 server, not something else.
  // `features` tells clients which extensions beyond the core they may use here.
  send(socket, { type: 'hello', protocol: 'chatlab/1', features: ['private', 'rooms'] });

  // TCP delivers a stream of bytes, not messages: one read may hold half a frame, or three.
  // So we add each read to what we kept, cut off every complete line, and keep the rest.
  socket.on('data', (bytes) => {
    if (socket.writableEnded) return; // we hung up: whatever still arrives is ignored
    session.pending = Buffer.concat([session.pending, bytes]);
    let end;
    while ((end = session.pending.indexOf('\n')) !== -1) {
      const line = session.pending.subarray(0, end);
      session.pending = session.pending.subarray(end + 1);
      // The frame is the line plus its '\n': one byte over the limit is too much.
      if (line.length >= MAX_FRAME_BYTES) return tooLarge(socket);
      handleLine(socket, session, line);
      if (socket.writableEnded) return; // that frame ended the conversation (quit)
    }
    // No '\n' yet, and already too long to ever be a valid frame: don't wait for the rest.
    if (session.pending.length >= MAX_FRAME_BYTES) tooLarge(socket);
  });

  // A client that vanishes abruptly (crash, kill, cable pulled) makes Node emit 'error' on its
  // socket. Without a listener, that error would crash the whole server, not just this connection.
  socket.on('error', () => {});
  // 'close' comes last, however the connection ended. A user still logged in here dropped
  // without quit (crash, kill, network lost): tell the others all the same, or they would
  // see a ghost, online forever.
  socket.on('close', () => {
    if (session.user !== null) {
      console.log(`${session.user} dropped`);
      leave(session, 'connection_lost');
    }
    console.log(`#${session.id} disconnected`);
  });
});

// The usual stumble is a port still taken (a lesson server left running): one line, not a stack trace.
server.on('error', (error) => {
  if (error.code === 'EADDRINUSE') console.error(`port ${port} is busy: address already in use ${host}:${port} (EADDRINUSE)`);
  else console.error(`cannot listen on ${host}:${port}: ${error.message}`);
  process.exit(1);
});

server.listen(port, host, () => {
  // Ask the server for its real port: with PORT=0 the system picks a free one.
  console.log(`listening on ${host}:${server.address().port}`);
});
