// Lesson 13 — TLS: the same client, over an encrypted connection to a certificate it trusts.
import tls from 'node:tls';
import readline from 'node:readline';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';

// Where the server is: the same variables the server reads, with the same defaults.
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 7070);
// Who we log in as. The verifier and `chatlab lesson run` set these; the defaults are a demo account.
const user = process.env.CHATLAB_USER ?? 'alice';
const password = process.env.CHATLAB_PASSWORD ?? 'wonderland';
// Where the files we accept are saved: CHATLAB_DOWNLOADS, or downloads/<user> in this folder.
const downloads = process.env.CHATLAB_DOWNLOADS ?? join('downloads', user);

// The most bytes one file_chunk carries (base64 makes 43,692 characters of them: well under a
// frame), and how many chunks we send ahead of a receiver's file_ack.
const CHUNK_BYTES = 32 * 1024;
const WINDOW = 8;

// The one certificate we trust: the server's own (self-signed, so no authority vouches for it).
// Giving it as `ca` replaces the system's list of authorities: a server that cannot prove it
// holds this certificate's key, or anyone in between, fails the handshake. That is pinning.
const ca = readFileSync(process.env.CHATLAB_TLS_CA ?? new URL('demo-cert.pem', import.meta.url));

// connect() returns at once; the callback runs when the TCP and then the TLS handshake have
// completed and the certificate checked out (signature, dates, and that it names 127.0.0.1).
const socket = tls.connect({ host, port, ca }, () => {
  console.log(`connected to ${host}:${port} with ${socket.getProtocol()}`);
  console.log(`TLS certificate SHA-256 ${socket.getPeerCertificate().fingerprint256}`);
});
// Whether the server said bye: then the connection's end is the normal one.
let gotBye = false;

// One frame = one JSON object on one line, exactly as the server writes them.
function send(frame) {
  socket.write(JSON.stringify(frame) + '\n');
}

// The room our plain lines go to: lobby (everyone) until we /join another.
let room = 'lobby';

// Requests waiting for their answer: id → what to do with it. The server copies a request's id
// into its answer, so we can tell which answer is which, even with several on their way.
const waiting = new Map();
let lastId = 0;
function request(frame, onAnswer) {
  const id = ++lastId;
  waiting.set(id, onAnswer);
  send({ ...frame, id });
}

// A plain line is a message to the current room; lobby is the core's "everyone", no room needed.
function say(text) {
  send(room === 'lobby' ? { type: 'say', text } : { type: 'say', room, text });
}

// The slash commands. The last argument of /msg is the rest of the line, spaces included.
function command(line) {
  const [name, arg = '', ...rest] = line.split(' ');
  switch (name) {
    case '/msg': {
      const text = rest.join(' ');
      if (arg === '' || text === '') return console.log('usage: /msg USER TEXT');
      // With an id, the server tells us whether the message waits for an offline user.
      return request({ type: 'say', to: arg, text }, (answer) => {
        if (answer.queued) console.log(`(${arg} is offline: the message waits for their next login)`);
      });
    }
    case '/join':
      return request({ type: 'join', room: arg }, (answer) => {
        room = answer.room; // from now on, our lines go there
        console.log(`joined #${answer.room}; members: ${answer.users.join(', ')}`);
      });
    case '/leave': {
      const left = arg || room;
      return request({ type: 'leave', room: left }, () => {
        if (left === room) room = 'lobby';
        console.log(`left #${left}; your lines go to #${room}`);
      });
    }
    case '/rooms':
      return request({ type: 'rooms' }, (answer) => {
        console.log(`rooms: ${answer.rooms.map((r) => `#${r.room} (${r.users})`).join(', ')}`);
      });
    case '/send': {
      const path = rest.join(' ');
      if (arg === '' || path === '') return console.log('usage: /send USER PATH (or /send #ROOM PATH)');
      return offerFile(arg, path);
    }
    case '/accept':
    case '/decline':
      return answerOffer(name === '/accept', arg || lastOffer);
    default:
      console.log(`unknown command ${name}: try /msg USER TEXT, /join ROOM, /leave [ROOM], /rooms, /send USER PATH, /accept, /decline, /quit`);
  }
}

// ---- Sending a file. Files we offered, by transfer id: where to read them, and for each
// receiver that accepted, the last chunk it acknowledged.
const outgoing = new Map();

// A file's SHA-256, read a piece at a time: a big file never has to fit in memory.
function hashFile(path) {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(64 * 1024);
  const fd = openSync(path, 'r');
  try {
    let n;
    while ((n = readSync(fd, buffer)) > 0) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

// Step 1: offer the file, with its size and checksum. No data moves until someone accepts.
function offerFile(target, path) {
  let size, sha256;
  try {
    size = statSync(path).size;
    sha256 = hashFile(path);
  } catch (error) {
    return console.log(`cannot read ${path}: ${error.message}`);
  }
  const name = basename(path); // only the name: where it sits on our disk is nobody's business
  const to = target.startsWith('#') ? { room: target.slice(1) } : { to: target };
  request({ type: 'file_offer', ...to, name, size, sha256 }, (answer) => {
    outgoing.set(answer.transfer, { name, path, size, nextSeq: 0, acked: new Map(), ended: false });
    console.log(`offered ${name} (${size} bytes) to ${target}: transfer ${answer.transfer}`);
  });
}

// One chunk of the file, read when it is about to be sent.
function readChunk(path, position) {
  const buffer = Buffer.alloc(CHUNK_BYTES);
  const fd = openSync(path, 'r');
  try {
    return buffer.subarray(0, readSync(fd, buffer, 0, CHUNK_BYTES, position));
  } finally {
    closeSync(fd);
  }
}

// Step 3: send chunks while the slowest receiver has fewer than WINDOW unacknowledged; each
// file_ack calls this again. A slow receiver slows us down instead of filling the server's memory.
function pump(id) {
  const file = outgoing.get(id);
  if (!file || file.acked.size === 0) return;
  const slowest = Math.min(...file.acked.values());
  while (!file.ended && file.nextSeq - slowest <= WINDOW) {
    const position = file.nextSeq * CHUNK_BYTES;
    if (position >= file.size) {
      file.ended = true; // step 4: all sent; the receivers check it now
      send({ type: 'file_end', transfer: id });
    } else {
      send({ type: 'file_chunk', transfer: id, seq: file.nextSeq++, data: readChunk(file.path, position).toString('base64') });
    }
  }
}

// ---- Receiving a file. Offers made to us, by transfer id; the latest is what /accept takes.
const incoming = new Map();
let lastOffer;

// Someone else chose this name: keep only what is safe to create in our folder. The base name
// only ('../../.profile' would otherwise land two folders up), no control characters, no
// leading dots (no hidden files, no '..').
function safeName(offered) {
  const base = offered.split(/[/\\]/).pop();
  const name = base.replace(/[\u0000-\u001f\u007f]/g, '').replace(/^[.\s]+/, '').trim();
  return name === '' ? 'file' : name;
}

// A path that does not exist yet: cat.png, else cat (1).png, cat (2).png… Never overwrite.
function freePath(folder, name) {
  const dot = name.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  let path = join(folder, name);
  for (let n = 1; existsSync(path); n++) path = join(folder, `${stem} (${n})${extension}`);
  return path;
}

// Step 2: say yes or no to an offer. Yes opens a temporary file: the real name appears only
// once the whole file is there and its checksum is right.
function answerOffer(yes, id) {
  const file = incoming.get(id);
  if (!file || file.fd !== undefined) return console.log(`there is no offer ${id ?? 'to answer'}`);
  if (!yes) {
    incoming.delete(id);
    return send({ type: 'file_decline', transfer: id });
  }
  mkdirSync(downloads, { recursive: true });
  file.temp = join(downloads, `.${id}.part`);
  file.fd = openSync(file.temp, 'w');
  file.hash = createHash('sha256');
  file.received = 0;
  console.log(`receiving ${safeName(file.name)} from ${file.from}…`);
  send({ type: 'file_accept', transfer: id });
}

// Step 3: write each chunk, hash it on the way, and acknowledge it (that opens the window).
function receiveChunk(frame) {
  const file = incoming.get(frame.transfer);
  if (file?.fd === undefined) return;
  const bytes = Buffer.from(frame.data, 'base64');
  writeSync(file.fd, bytes);
  file.hash.update(bytes);
  file.received += bytes.length;
  send({ type: 'file_ack', transfer: frame.transfer, seq: frame.seq });
}

// Step 4: check the size and the SHA-256. A good file gets its real name; a bad one is deleted.
function finishFile(id) {
  const file = incoming.get(id);
  if (file?.fd === undefined) return;
  incoming.delete(id);
  closeSync(file.fd);
  const sha256 = file.hash.digest('hex');
  const problem = file.received !== file.size ? 'size mismatch' : sha256 !== file.sha256 ? 'checksum mismatch' : null;
  if (problem) {
    rmSync(file.temp);
    console.log(`! ${safeName(file.name)} from ${file.from} failed its check (${problem}): deleted`);
    return send({ type: 'file_result', transfer: id, ok: false, reason: problem });
  }
  const path = freePath(downloads, safeName(file.name));
  renameSync(file.temp, path);
  console.log(`saved ${basename(path)} (${file.size} bytes, SHA-256 verified)`);
  send({ type: 'file_result', transfer: id, ok: true });
}

// Step 5: a transfer stopped half-way. Nothing half-written stays behind.
function dropIncoming(id) {
  const file = incoming.get(id);
  incoming.delete(id);
  if (file?.fd === undefined) return;
  closeSync(file.fd);
  rmSync(file.temp, { force: true });
}

// What the sender hears about its file, from one receiver.
function onReceiverNews(frame) {
  const file = outgoing.get(frame.transfer);
  if (!file) return;
  switch (frame.type) {
    case 'file_accept':
      console.log(`${frame.user} accepted ${file.name}`);
      file.acked.set(frame.user, -1); // nothing acknowledged yet
      return pump(frame.transfer);
    case 'file_ack':
      file.acked.set(frame.user, frame.seq);
      return pump(frame.transfer);
    case 'file_decline':
      return console.log(`${frame.user} declined ${file.name}`);
    case 'file_result':
      file.acked.delete(frame.user);
      return console.log(frame.ok ? `${frame.user} saved ${file.name}: SHA-256 verified` : `${frame.user} could not save ${file.name}: ${frame.reason}`);
    case 'file_cancel':
      file.acked.delete(frame.user);
      return console.log(`${frame.user} cancelled ${file.name} (${frame.reason})`);
  }
}

// Where a message was said: privately to us, in a room, or in lobby (nothing to add).
function where(message) {
  if (message.to !== undefined) return '(private) ';
  if (message.room !== undefined && message.room !== 'lobby') return `#${message.room} `;
  return '';
}

// Ask the server to let us go, once. We don't just vanish: the server can then tell the
// others we left on purpose.
let leaving = false;
function quit() {
  if (leaving) return;
  leaving = true;
  send({ type: 'quit' });
}

// Once logged in, every line typed (or piped into stdin) is sent as a message. We wait for the
// welcome: a say sent before it would only earn a not_logged_in error.
function startTyping() {
  const keyboard = readline.createInterface({ input: process.stdin });
  keyboard.on('line', (text) => {
    if (leaving) return; // after /quit, the rest of the input is not ours to send
    if (text === '/quit') quit();
    else if (text.startsWith('/')) command(text);
    else if (text !== '') say(text); // an empty message is not allowed
  });
  // Ctrl-D, or the end of a piped file, means the same as /quit.
  keyboard.on('close', quit);
}

// What the client does with each frame from the server.
function handle(frame) {
  // The answer to one of our requests goes to whoever asked; an error is shown as any other.
  const onAnswer = waiting.get(frame?.id);
  if (onAnswer) {
    waiting.delete(frame.id);
    if (frame.type !== 'error') return onAnswer(frame);
  }
  switch (frame?.type) {
    case 'hello': // the server is ready for us: log in
      send({ type: 'login', user, password });
      break;
    case 'welcome':
      console.log(`logged in as ${frame.user}; online: ${frame.users.join(', ')}`);
      startTyping();
      break;
    case 'message':
      console.log(`${where(frame)}${frame.from}: ${frame.text}`);
      break;
    case 'file_offer': // the name is shown as sent (JSON-quoted), tricks included
      incoming.set(frame.transfer, { from: frame.from, name: frame.name, size: frame.size, sha256: frame.sha256 });
      lastOffer = frame.transfer;
      console.log(`${frame.from} offers ${JSON.stringify(frame.name)} (${frame.size} bytes, transfer ${frame.transfer}): /accept or /decline`);
      break;
    case 'file_chunk':
      receiveChunk(frame);
      break;
    case 'file_end':
      finishFile(frame.transfer);
      break;
    case 'file_cancel':
      if (incoming.has(frame.transfer)) {
        console.log(`* ${frame.user} cancelled transfer ${frame.transfer} (${frame.reason})`);
        dropIncoming(frame.transfer);
      } else onReceiverNews(frame);
      break;
    case 'file_accept':
    case 'file_decline':
    case 'file_ack':
    case 'file_result':
      onReceiverNews(frame);
      break;
    case 'history_end': // the messages that waited for us are all here
      console.log(`* end of history (${frame.count} message${frame.count === 1 ? '' : 's'})`);
      break;
    case 'presence': // with a room: someone came into or went out of a room we are in
      if (frame.room !== undefined) console.log(`* ${frame.user} ${frame.status === 'online' ? 'joined' : 'left'} #${frame.room}`);
      else console.log(`* ${frame.user} is ${frame.status}`);
      break;
    case 'bye': // the server has let us go: close our side too
      gotBye = true;
      socket.end();
      break;
    case 'error':
      console.log(`! ${frame.code}: ${frame.message}`);
      // Our name and password come from the environment: if they are refused, there is
      // nothing else to try. Close our side and report the failure in the exit code.
      if (frame.code === 'auth_failed' || frame.code === 'already_online') {
        process.exitCode = 1;
        socket.end();
      }
      break;
    default: // not understood yet: show it as it came
      console.log(`server sent: ${JSON.stringify(frame)}`);
  }
}

// The same framing as the server: bytes arrive in reads of any size, so keep the start of an
// unfinished frame until its '\n' arrives.
let pending = Buffer.alloc(0);
socket.on('data', (bytes) => {
  pending = Buffer.concat([pending, bytes]);
  let end;
  while ((end = pending.indexOf('\n')) !== -1) {
    const line = pending.subarray(0, end).toString('utf8');
    pending = pending.subarray(end + 1);
    if (line.trim() === '') continue; // blank lines are not frames
    let frame;
    try {
      frame = JSON.parse(line);
    } catch {
      console.log(`not a frame: ${line}`);
      continue;
    }
    handle(frame);
  }
});

// No server listening there? The error arrives as an event, not as an exception.
socket.on('error', (error) => {
  console.log(`cannot talk to ${host}:${port}: ${error.message}`);
  process.exitCode = 1;
});
// The connection is over, by bye or not. Stop the program here: the keyboard would otherwise
// keep it waiting for input that has nowhere to go. Without a bye, we were cut off: a failure.
socket.on('close', () => {
  for (const id of incoming.keys()) dropIncoming(id); // no half-received file stays behind
  console.log('disconnected');
  process.exit(gotBye ? 0 : 1);
});
