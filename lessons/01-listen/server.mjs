// Lesson 01 — listen: open a port and wait for clients.
import net from 'node:net';

// The port comes from the environment, so several servers (and tests) can run side by side.
const port = Number(process.env.PORT ?? 7070);
const host = '127.0.0.1'; // only this machine can connect: safe while we learn

const server = net.createServer();

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
