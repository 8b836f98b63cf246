// Lesson 03 — accept: the client shows what the server sends it.
import net from 'node:net';

// Where the server is: the same variables the server reads, with the same defaults.
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 7070);

// connect() returns at once; the callback runs when the TCP handshake has completed.
const socket = net.connect(port, host, () => console.log(`connected to ${host}:${port}`));

// Whatever bytes arrive, show them as they are (lesson 04 learns to cut them into frames).
socket.on('data', (bytes) => process.stdout.write(`server sent: ${bytes}`));

// No server listening there? The error arrives as an event, not as an exception.
socket.on('error', (error) => {
  console.log(`cannot talk to ${host}:${port}: ${error.message}`);
  process.exitCode = 1;
});
socket.on('close', () => console.log('disconnected'));
