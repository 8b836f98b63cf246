// Lesson 11 — private messages and rooms: /msg, /join, /leave, /rooms.
import net from 'node:net';
import readline from 'node:readline';

// Where the server is: the same variables the server reads, with the same defaults.
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 7070);
// Who we log in as. The verifier and `chatlab lesson run` set these; the defaults are a demo account.
const user = process.env.CHATLAB_USER ?? 'alice';
const password = process.env.CHATLAB_PASSWORD ?? 'wonderland';

// connect() returns at once; the callback runs when the TCP handshake has completed.
const socket = net.connect(port, host, () => console.log(`connected to ${host}:${port}`));
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
    default:
      console.log(`unknown command ${name}: try /msg USER TEXT, /join ROOM, /leave [ROOM], /rooms, /quit`);
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
  console.log('disconnected');
  process.exit(gotBye ? 0 : 1);
});
