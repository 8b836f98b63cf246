// Lesson 04 — login: read whole frames from a byte stream, however the bytes arrive.
import net from 'node:net';

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

// What the server does with each type of frame. Each lesson adds one.
const handlers = { login };

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

// Step 4: the client logs in. Checking the password is lesson 05's job; for now we only show
// that we read the whole frame. (Never print the password.)
function login(socket, session, frame) {
  console.log(`#${session.id} wants to log in as ${frame.user}`);
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
  const session = { id: ++connections, pending: Buffer.alloc(0) };
  console.log(`#${session.id} connected`);

  // The server talks first: the client learns it reached a chatlab/1 server, not something else.
  send(socket, { type: 'hello', protocol: 'chatlab/1' });

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
    }
    // No '\n' yet, and already too long to ever be a valid frame: don't wait for the rest.
    if (session.pending.length >= MAX_FRAME_BYTES) tooLarge(socket);
  });

  // A client that vanishes abruptly (crash, kill, cable pulled) makes Node emit 'error' on its
  // socket. Without a listener, that error would crash the whole server, not just this connection.
  socket.on('error', () => {});
  // 'close' comes last, however the connection ended.
  socket.on('close', () => console.log(`#${session.id} disconnected`));
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
