// Lesson 02 — connect: a client opens a TCP connection, and the server sees it arrive.
import net from 'node:net';

// The port comes from the environment, so several servers (and tests) can run side by side.
const port = Number(process.env.PORT ?? 7070);
const host = '127.0.0.1'; // only this machine can connect: safe while we learn

// Number the connections, so the log can tell them apart.
let connections = 0;

// This function runs once for every client that connects; `socket` is our end of that connection.
const server = net.createServer((socket) => {
  const id = ++connections;
  console.log(`#${id} connected`);

  // A client that vanishes abruptly (crash, kill, cable pulled) makes Node emit 'error' on its
  // socket. Without a listener, that error would crash the whole server, not just this connection.
  socket.on('error', () => {});
  // 'close' comes last, however the connection ended.
  socket.on('close', () => console.log(`#${id} disconnected`));
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
