// Lesson 15 — the same chat over UDP. A chatlab/1 client over UDP.
import dgram from 'node:dgram';
import readline from 'node:readline';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 7070);
const user = process.env.CHATLAB_USER ?? 'alice';
const password = process.env.CHATLAB_PASSWORD ?? 'wonderland';

// With nothing to say for this long, we ping: the server forgets peers it does not hear from.
const KEEPALIVE_MS = 2000;
// How long we wait for an answer that may never come: a datagram can be lost on the way.
const ANSWER_MS = 3000;

// connect() on a UDP socket sends nothing: it only fixes where send() goes and which sender
// we accept datagrams from. It is also how we learn that nobody listens there (see 'error').
const socket = dgram.createSocket('udp4');
socket.connect(port, host, () => {
  console.log(`sending to ${host}:${port}`);
  // No connection, no hello: we speak first, and our login says who is at our address.
  send({ type: 'login', user, password });
  waitFor('the welcome');
});

let keepAlive;
let answerTimer;
let leaving = false;

// One frame = one datagram: no '\n' needed, UDP keeps the boundaries.
function send(frame) {
  socket.send(JSON.stringify(frame));
  // Anything we send shows we are alive: the next ping is due KEEPALIVE_MS from now.
  keepAlive?.refresh();
}

// Nobody tells us that a datagram was lost: we can only stop waiting.
function waitFor(what) {
  clearTimeout(answerTimer);
  answerTimer = setTimeout(() => {
    console.log(`no answer from the server (${what} never came): it may be down, or a datagram was lost`);
    finish(1);
  }, ANSWER_MS);
}

function quit() {
  if (leaving) return;
  leaving = true;
  send({ type: 'quit' });
  waitFor('the bye');
}

function finish(code) {
  clearTimeout(answerTimer);
  clearInterval(keepAlive);
  console.log('disconnected');
  socket.close();
  process.exit(code);
}

function startTyping() {
  keepAlive = setInterval(() => send({ type: 'ping' }), KEEPALIVE_MS);
  const keyboard = readline.createInterface({ input: process.stdin });
  keyboard.on('line', (text) => {
    if (leaving) return;
    if (text === '/quit') quit();
    else if (text !== '') send({ type: 'say', text });
  });
  keyboard.on('close', quit);
}

function handle(frame) {
  switch (frame?.type) {
    case 'welcome':
      clearTimeout(answerTimer);
      console.log(`logged in as ${frame.user}; online: ${frame.users.join(', ')}`);
      startTyping();
      break;
    case 'message':
      console.log(`${frame.from}: ${frame.text}`);
      break;
    case 'presence':
      console.log(`* ${frame.user} is ${frame.status}`);
      break;
    case 'pong': // the server is still there; nothing to show
      break;
    case 'bye':
      finish(0);
      break;
    case 'error':
      console.log(`! ${frame.code}: ${frame.message}`);
      if (frame.code === 'auth_failed' || frame.code === 'already_online') finish(1);
      break;
    default:
      console.log(`server sent: ${JSON.stringify(frame)}`);
  }
}

// Each 'message' event is one whole datagram: one frame.
socket.on('message', (bytes) => {
  let frame;
  try {
    frame = JSON.parse(bytes.toString('utf8'));
  } catch {
    console.log(`not a frame: ${bytes.toString('utf8')}`);
    return;
  }
  handle(frame);
});

// On a connected UDP socket, an ICMP "port unreachable" comes back as ECONNREFUSED: nothing
// listens there. (Over a real network this ICMP is often filtered: then we only time out.)
socket.on('error', (error) => {
  console.log(`cannot talk to ${host}:${port}: ${error.message}`);
  finish(1);
});
