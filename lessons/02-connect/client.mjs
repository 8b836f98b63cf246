// Lesson 02 — connect: the client's first step, opening a TCP connection to the server.
import net from 'node:net';

// Where the server is: the same variables the server reads, with the same defaults.
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 7070);

// connect() returns at once; the callback runs when the TCP handshake has completed.
const socket = net.connect(port, host, () => console.log(`connected to ${host}:${port}`));

// No server listening there? The error arrives as an event, not as an exception.
socket.on('error', (error) => {
  console.log(`cannot talk to ${host}:${port}: ${error.message}`);
  process.exitCode = 1;
});
socket.on('close', () => console.log('disconnected'));
