// Lesson 15 — the same chat over UDP: one frame per datagram, no connections. A chatlab/1 server over UDP.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';

// The port comes from the environment, so several servers (and tests) can run side by side.
const port = Number(process.env.PORT ?? 7070);
const host = '127.0.0.1'; // only this machine can send to us: safe while we learn

// The largest datagram we send or accept, in bytes. A UDP datagram can hold up to 65,507 bytes,
// but one larger than the path's MTU (1,500 bytes on Ethernet, less through tunnels) is cut into
// IP fragments, and losing any fragment loses the whole datagram. 1,200 bytes fits every path.
const MAX_DATAGRAM_BYTES = 1200;
// A peer we have heard nothing from (no frame, no ping) for this long is gone: there is no
// connection whose close would tell us. Clients ping every 2 s when they have nothing to say.
const PEER_TIMEOUT_MS = 5000;
// Strict UTF-8: bytes that are not UTF-8 make a bad frame instead of being replaced by '�'.
const utf8 = new TextDecoder('utf-8', { fatal: true });
// A user name: 1–32 characters of A–Z a–z 0–9 _ -
const USER_NAME = /^[A-Za-z0-9_-]{1,32}$/;

// The demo accounts, user name → password, shared by every lesson.
const accounts = JSON.parse(readFileSync(new URL('../accounts.json', import.meta.url), 'utf8'));

// What the server does with each type of frame.
const handlers = { login, say, quit, ping };

// There are no connections, so no sessions per connection: a peer is an address ("ip:port")
// that logged in. peers: address → { address, port, user, heardAt }; online: user → peer.
// Only logged-in addresses are remembered, so datagrams from strangers cost us no memory.
const peers = new Map();
const online = new Map();

const socket = dgram.createSocket('udp4');

// One frame = one datagram. UDP keeps message boundaries: what one send() sent arrives whole,
// in one 'message' event, or not at all. So no '\n' is needed to find where a frame ends.
function sendTo(peer, frame) {
  const bytes = Buffer.from(JSON.stringify(frame));
  socket.send(bytes, peer.port, peer.address);
}

// A request id: a string of at most 64 characters, or a whole number within ±(2^53−1).
function isRequestId(id) {
  return (typeof id === 'string' && [...id].length <= 64) || Number.isSafeInteger(id);
}

function reply(peer, request, frame) {
  if (isRequestId(request.id)) frame.id = request.id;
  sendTo(peer, frame);
}

function fail(peer, request, code, message) {
  reply(peer, request, { type: 'error', code, message });
}

function characters(text) {
  return [...text].length;
}

// Send one frame to every logged-in user except one. Encoded once: the same bytes for everyone.
function broadcast(frame, exceptUser) {
  const bytes = Buffer.from(JSON.stringify(frame));
  for (const [user, peer] of online) {
    if (user !== exceptUser) socket.send(bytes, peer.port, peer.address);
  }
}

// Steps 4 and 5: the first datagram of a peer is its login. There was no accept and no hello:
// the server only learns "who is at this address" from a login that succeeds.
function login(peer, frame) {
  const { user, password } = frame;
  if (typeof user !== 'string' || !USER_NAME.test(user)) {
    return fail(peer, frame, 'bad_request', 'a user name is 1–32 characters of A–Z a–z 0–9 _ -');
  }
  if (typeof password !== 'string' || password === '' || characters(password) > 1024) {
    return fail(peer, frame, 'bad_request', 'a password is 1–1024 characters');
  }
  if (peer.user !== null) {
    return fail(peer, frame, 'already_logged_in', `this address is already logged in as ${peer.user}`);
  }
  if (!Object.hasOwn(accounts, user) || accounts[user] !== password) {
    console.log(`${peer.key} failed to log in as ${user}`); // never print the password
    return fail(peer, frame, 'auth_failed', 'wrong user name or password');
  }
  if (online.has(user)) {
    return fail(peer, frame, 'already_online', `${user} is already logged in elsewhere`);
  }
  peer.user = user;
  peers.set(peer.key, peer);
  online.set(user, peer);
  // The address (peer.key) changes with every run of a client: the log names the user only.
  console.log(`${user} logged in`);
  reply(peer, frame, { type: 'welcome', user, users: [...online.keys()].sort() });
  broadcast({ type: 'presence', user, status: 'online' }, user);
}

// Steps 6 and 7: relay to everyone else, with `from` and `ts` set by the server.
function say(peer, frame) {
  const { text } = frame;
  if (typeof text !== 'string' || text === '' || characters(text) > 4000) {
    return fail(peer, frame, 'bad_request', 'a message is 1–4000 characters');
  }
  for (const field of ['to', 'room']) {
    if (frame[field] !== undefined) return fail(peer, frame, 'bad_request', `this server does not support "${field}": no private messages or rooms`);
  }
  const message = { type: 'message', from: peer.user, text, ts: Date.now() };
  // The relayed frame is longer than the say (from, ts): it must fit in one datagram too.
  if (Buffer.byteLength(JSON.stringify(message)) > MAX_DATAGRAM_BYTES) {
    return fail(peer, frame, 'frame_too_large', `a message must fit in one datagram of ${MAX_DATAGRAM_BYTES} bytes`);
  }
  console.log(`${peer.user} says: ${text}`);
  broadcast(message, peer.user);
  if (frame.id !== undefined) reply(peer, frame, { type: 'ok' });
}

// Steps 8 and 9: a user asks to leave. The bye may be lost on the way: the client stops
// waiting for it after a while, and we forget the peer anyway.
function quit(peer, frame) {
  console.log(`${peer.user} quit`);
  reply(peer, frame, { type: 'bye' });
  leave(peer);
}

// Keep-alive: a client with nothing to say pings, so we know it is still there.
function ping(peer, frame) {
  reply(peer, frame, { type: 'pong' });
}

function leave(peer, reason) {
  const presence = { type: 'presence', user: peer.user, status: 'offline' };
  if (reason) presence.reason = reason;
  peers.delete(peer.key);
  online.delete(peer.user);
  broadcast(presence);
}

// What step 10 becomes: with no connection to close, silence is the only sign that a peer is
// gone (crashed, killed, network lost, or its quit was lost). Once a second, forget every peer
// silent for too long, and tell the others, as lesson 10 did for a dropped connection.
function expireSilentPeers() {
  const now = Date.now();
  for (const peer of peers.values()) {
    if (now - peer.heardAt > PEER_TIMEOUT_MS) {
      console.log(`${peer.user} expired (silent for ${PEER_TIMEOUT_MS / 1000} s)`);
      leave(peer, 'connection_lost');
    }
  }
}
setInterval(expireSilentPeers, 1000);

// Every datagram is one whole frame, from one address.
socket.on('message', (bytes, from) => {
  const key = `${from.address}:${from.port}`;
  // A known peer, or a stranger: a stranger is remembered only once its login succeeds.
  const peer = peers.get(key) ?? { key, address: from.address, port: from.port, user: null, heardAt: 0 };
  peer.heardAt = Date.now(); // any datagram is a sign of life
  if (bytes.length > MAX_DATAGRAM_BYTES) {
    return sendTo(peer, { type: 'error', code: 'frame_too_large', message: `a datagram may not exceed ${MAX_DATAGRAM_BYTES} bytes` });
  }
  let frame;
  try {
    frame = JSON.parse(utf8.decode(bytes)); // a trailing '\n' (from nc) is just whitespace to JSON
  } catch {
    return sendTo(peer, { type: 'error', code: 'bad_frame', message: 'a datagram is one JSON object, in UTF-8' });
  }
  if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string') {
    return sendTo(peer, { type: 'error', code: 'bad_frame', message: 'a frame is a JSON object with a string "type"' });
  }
  if (!Object.hasOwn(handlers, frame.type)) {
    return fail(peer, frame, 'unknown_type', `unknown frame type "${frame.type}"`);
  }
  if (peer.user === null && frame.type !== 'login' && frame.type !== 'ping') {
    return fail(peer, frame, 'not_logged_in', 'log in first');
  }
  if (frame.id !== undefined && !isRequestId(frame.id)) {
    return sendTo(peer, { type: 'error', code: 'bad_request', message: 'an "id" is a string of at most 64 characters or a whole number within ±(2^53−1)' });
  }
  handlers[frame.type](peer, frame);
});

// Before we listen, an error is the bind failing: nothing can work, so say why and stop.
// Once we listen, an error concerns one send to one peer, never the whole server.
let listening = false;
socket.on('error', (error) => {
  if (listening) return void console.log(`udp error: ${error.message}`);
  // The usual stumble is a port still taken (a lesson server left running): one line, not a stack trace.
  if (error.code === 'EADDRINUSE') console.error(`port ${port} is busy: address already in use ${host}:${port} (EADDRINUSE)`);
  else console.error(`cannot listen on ${host}:${port}: ${error.message}`);
  process.exit(1);
});

socket.bind(port, host, () => {
  listening = true;
  console.log(`listening on ${host}:${socket.address().port}`);
});
