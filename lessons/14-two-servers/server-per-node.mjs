// Lesson 14, BROKEN on purpose — the messages cross nodes through Redis, but each node keeps its own list of who is online.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

// The port comes from the environment, so several servers (and tests) can run side by side.
const port = Number(process.env.PORT ?? 7070);
const host = '127.0.0.1'; // only this machine can connect: safe while we learn
// Where the shared state lives, and this node's name in it (unique per running node).
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const nodeId = process.env.NODE_ID ?? `node-${process.pid}`;
// A node proves it is alive by renewing its lease every HEARTBEAT_MS; a lease not renewed for
// LEASE_MS expires, and the other nodes then send its users offline. So a dead node's users
// are ghosts for at most LEASE_MS + HEARTBEAT_MS.
const LEASE_MS = Number(process.env.LEASE_MS ?? 3000);
const HEARTBEAT_MS = Math.max(100, Math.floor(LEASE_MS / 3));

// What every node shares, in Redis: who is online (user → the node holding their connection),
// one lease key per live node, and the channel every broadcast goes through.
const ONLINE = 'chat:online';
const leaseKey = (node) => `chat:node:${node}`;
const EVENTS = 'chat:events';

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

// The demo accounts, user name → password, shared by every lesson. Clear text keeps the lesson
// short; a real server keeps only a salted hash of each password (see the exercises).
const accounts = JSON.parse(readFileSync(new URL('../accounts.json', import.meta.url), 'utf8'));

// What the server does with each type of frame. Each lesson adds one.
const handlers = { login, say, quit };

// Who is logged in on THIS node: user name → their socket. The whole chat's list is in Redis.
const online = new Map();

// Two connections to Redis: a subscribed connection can do nothing but listen.
let started = false;
const redis = new Redis(redisUrl, {
  lazyConnect: true, // connect below, where a failure is one clear line
  // At start-up, a Redis we cannot reach is a clear error (null: stop trying); later, keep
  // trying to reconnect.
  retryStrategy: (times) => (started ? Math.min(100 * times, 2000) : null),
  // While Redis is away, fail at once (the user gets an error) instead of queueing without bound.
  enableOfflineQueue: false,
});
const subscriber = redis.duplicate();
let redisDown = false;
let startError; // why the first connection failed, for the one line below
function redisError(error) {
  if (!started) return void (startError = error);
  if (!redisDown) console.log(`Redis unreachable (${error.message}); retrying`);
  redisDown = true;
}
redis.on('error', redisError);
subscriber.on('error', redisError);
redis.on('ready', () => {
  if (redisDown) console.log('Redis is back');
  redisDown = false;
});

// Scripts run inside Redis as one step: no other node's command can come in between.
// Remove a user, but only if this node still holds them (after a lease expired, another node may).
const RELEASE = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0`;
// Remove every user a node held, and say who they were: run by many nodes, it returns them once.
const REAP = `local gone = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i + 1] == ARGV[1] then redis.call('HDEL', KEYS[1], all[i]); gone[#gone + 1] = all[i] end
end
return gone`;

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

// Send one frame to every logged-in user of every node except one (the user the news is about):
// published once to Redis, which hands it to every node, this one included.
async function broadcast(frame, exceptUser) {
  await redis.publish(EVENTS, JSON.stringify({ frame, except: exceptUser ?? null }));
}

// Every node gets every broadcast and writes it to its own users.
function deliver(message) {
  const { frame, except } = JSON.parse(message);
  const line = JSON.stringify(frame) + '\n'; // encoded once per node: the same bytes for everyone here
  for (const [user, socket] of online) {
    if (user !== except) socket.write(line);
  }
}

// Steps 4 and 5: the client logs in; we check who it is, welcome it and tell the others.
async function login(socket, session, frame) {
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
  // One session per user — but only this node's users are checked.
  if (online.has(user)) {
    return fail(socket, frame, 'already_online', `${user} is already logged in elsewhere`);
  }
  const users = [...online.keys(), user].sort(); // only this node's users
  session.user = user;
  online.set(user, socket);
  console.log(`#${session.id} is ${user}`);
  // Welcome first, so the new user learns who is here before any news about them.
  reply(socket, frame, { type: 'welcome', user, users });
  await broadcast({ type: 'presence', user, status: 'online' }, user);
}

// Steps 6 and 7: a user says something; the server relays it to everyone else.
async function say(socket, session, frame) {
  const { text } = frame;
  if (typeof text !== 'string' || text === '' || characters(text) > 4000) {
    return fail(socket, frame, 'bad_request', 'a message is 1–4000 characters');
  }
  // JSON's \uXXXX escape can write half an emoji on its own (a lone surrogate, "\ud83d"):
  // UTF-8 cannot carry it, so we could not relay it faithfully.
  if (!text.isWellFormed()) {
    return fail(socket, frame, 'bad_request', 'field "text" of "say" contains a lone surrogate: not valid Unicode');
  }
  // `to` and `room` would choose who receives the message: one user, one room. This server has
  // neither, and relaying such a say to everyone would publish a private message. So, unlike
  // other unknown fields, they are refused, never ignored.
  for (const field of ['to', 'room']) {
    if (frame[field] !== undefined) return fail(socket, frame, 'bad_request', `this server does not support "${field}": no private messages or rooms`);
  }
  console.log(`${session.user} says: ${text}`);
  // We build a new frame rather than pass the client's on: `from` is the name this connection
  // logged in as, never a field the client wrote, so nobody can speak as someone else; `ts` is
  // our clock. The sender gets no copy: its own screen already shows what it typed.
  await broadcast({ type: 'message', from: session.user, text, ts: Date.now() }, session.user);
  // The sender hears back only if it asked to, by giving its say an id.
  if (frame.id !== undefined) reply(socket, frame, { type: 'ok' });
}

// Steps 8 and 9: a user asks to leave; the server lets them go and tells the others.
async function quit(socket, session, frame) {
  console.log(`${session.user} quit`);
  // Free the name before bye: the user may log in again at once, through another node.
  const presence = await leave(session);
  send(socket, { type: 'bye' }); // the last frame this user gets
  // Step 10: we have nothing more to say, so close our side. Node closes the socket fully when
  // the client closes its side too, and we ignore whatever it sends until then.
  socket.end();
  await broadcast(presence);
}

// Forget who this connection was, here and in Redis; returns the presence that tells everyone
// still here that they went offline (and why, when they did not say goodbye).
async function leave(session, reason) {
  const presence = { type: 'presence', user: session.user, status: 'offline' };
  if (reason) presence.reason = reason;
  online.delete(session.user);
  session.user = null;
  return presence;
}

// A node died (its lease expired): its users' connections died with it. Take them off the list
// and tell everyone, or they would be ghosts, online forever.
async function reap(node) {
  const gone = await redis.eval(REAP, 1, ONLINE, node);
  for (const user of gone) {
    console.log(`${user} was on ${node}, which stopped answering: offline`);
    await broadcast({ type: 'presence', user, status: 'offline', reason: 'connection_lost' }, user);
  }
}

// Every HEARTBEAT_MS: renew this node's lease, and reap the nodes whose lease has expired.
async function heartbeat() {
  await redis.set(leaseKey(nodeId), String(Date.now()), 'PX', LEASE_MS);
  const owners = new Set(Object.values(await redis.hgetall(ONLINE)));
  owners.delete(nodeId);
  for (const node of owners) {
    if (!(await redis.exists(leaseKey(node)))) await reap(node);
  }
}

// One complete line (without its '\n') is one frame: decode it, check it, hand it on.
async function handleLine(socket, session, line) {
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
  try {
    await handlers[frame.type](socket, session, frame);
  } catch (error) {
    // Redis is away: this frame did nothing, and the user may try again.
    console.log(`#${session.id}: ${frame.type} failed: ${error.message}`);
    fail(socket, frame, 'internal', 'the chat is briefly unavailable (its shared state is unreachable); try again');
  }
}

// Cut every complete line off what was received, and handle each frame in turn.
async function handleRead(socket, session) {
  let end;
  while ((end = session.pending.indexOf('\n')) !== -1) {
    const line = session.pending.subarray(0, end);
    session.pending = session.pending.subarray(end + 1);
    // The frame is the line plus its '\n': one byte over the limit is too much.
    if (line.length >= MAX_FRAME_BYTES) return tooLarge(socket);
    await handleLine(socket, session, line);
    if (socket.writableEnded) return; // that frame ended the conversation (quit)
  }
  // No '\n' yet, and already too long to ever be a valid frame: don't wait for the rest.
  if (session.pending.length >= MAX_FRAME_BYTES) tooLarge(socket);
}

// The connection is gone. A user still logged in here dropped without quit (crash, kill,
// network lost): tell the others all the same, or they would see a ghost, online forever.
async function closed(session) {
  if (session.user !== null) {
    console.log(`${session.user} dropped`);
    try {
      await broadcast(await leave(session, 'connection_lost'));
    } catch (error) {
      // Redis is away: our lease will lapse if it stays away, and the others reap the user then.
      console.log(`could not announce that a user dropped: ${error.message}`);
    }
  }
  console.log(`#${session.id} disconnected`);
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
  // `user` is the name this connection logged in as; null until then.
  // `turn` is the work of this connection so far: the next read waits for it.
  const session = { id: ++connections, pending: Buffer.alloc(0), user: null, turn: Promise.resolve() };
  console.log(`#${session.id} connected`);

  // The server talks first: the client learns it reached a chatlab/1 server, not something else.
  send(socket, { type: 'hello', protocol: 'chatlab/1' });

  // TCP delivers a stream of bytes, not messages: one read may hold half a frame, or three.
  // So we add each read to what we kept, cut off every complete line, and keep the rest.
  socket.on('data', (bytes) => {
    if (socket.writableEnded) return; // we hung up: whatever still arrives is ignored
    session.pending = Buffer.concat([session.pending, bytes]);
    // Handling a frame now waits for Redis. Frames of one connection must still be handled in
    // order, one after the other: each read waits its turn, and we read no more meanwhile.
    socket.pause();
    session.turn = session.turn.then(() => handleRead(socket, session)).then(() => socket.resume());
  });

  // A client that vanishes abruptly (crash, kill, cable pulled) makes Node emit 'error' on its
  // socket. Without a listener, that error would crash the whole server, not just this connection.
  socket.on('error', () => {});
  // 'close' comes last, however the connection ended; it too waits for the frames still being
  // handled (a login in flight must finish before we can log that user out).
  socket.on('close', () => {
    session.turn = session.turn.then(() => closed(session));
  });
});

// Join the cluster before accepting anyone: connect to Redis, take our lease, listen to the
// broadcasts, and clear what a previous life of this node left behind.
try {
  await redis.connect();
  await subscriber.connect();
} catch (error) {
  console.log(`cannot reach Redis at ${redisUrl}: ${(startError ?? error).message}`);
  process.exit(1);
}
started = true;
subscriber.on('message', (channel, message) => deliver(message));
await subscriber.subscribe(EVENTS);
await heartbeat();
await reap(nodeId); // users this node name held before a restart: their connections are long gone
setInterval(() => heartbeat().catch(redisError), HEARTBEAT_MS);
console.log(`node ${nodeId} joined the chat at ${redisUrl}`);

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
