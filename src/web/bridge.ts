import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { FrameDecoder, MAX_FRAME_BYTES, parseFrameLine, type DecodeResult } from '../protocol/index.ts';
import { now, type Endpoint, type WireEvent } from '../inspector/index.ts';

/** Bytes the bridge lets wait for a browser tab before it stops reading the server (default high-water mark). */
export const BROWSER_HIGH_WATER_BYTES = 1024 * 1024;
/** Once the tab has read its buffer down to this many bytes, the bridge reads the server again. */
export const BROWSER_LOW_WATER_BYTES = 256 * 1024;

/** WebSocket close codes the bridge uses (RFC 6455 §7.4.1). */
export const CLOSE_CODES = {
  /** The server closed the TCP connection. */
  normal: 1000,
  /** A message larger than a chatlab/1 frame (the protocol then closes the connection). */
  tooBig: 1009,
  /** The target could not be reached, or the connection failed. */
  failed: 1011,
} as const;

/** Options of {@link bridgeWebSocket}. */
export interface BridgeOptions {
  /** The chatlab/1 server every browser session is bridged to. */
  target: Endpoint;
  /** The browser's address, for the diagram's lifeline (`127.0.0.1:50412`). */
  peer: string;
  /** Called with every wire event of this session (the bytes as they went on the TCP side). */
  onEvent?: (event: WireEvent) => void;
  /** Pause the TCP socket while this many bytes wait for the tab (default {@link BROWSER_HIGH_WATER_BYTES}). */
  highWaterBytes?: number;
  /** Resume once the tab's backlog is down to this (default {@link BROWSER_LOW_WATER_BYTES}). */
  lowWaterBytes?: number;
}

const NEWLINE = Buffer.from('\n');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The protocol's error frame, as the bridge answers a WebSocket message that is not one frame. */
function errorLine(code: 'bad_frame' | 'frame_too_large', message: string): string {
  return JSON.stringify({ type: 'error', code, message });
}

/** A WebSocket message's bytes without one trailing `\n` (or `\r\n`), which a browser may add. */
function withoutTerminator(bytes: Buffer): Buffer {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  return bytes.subarray(0, end);
}

/** A close reason cut to the 123 bytes a WebSocket close frame allows (ws throws on longer ones). */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= 123) return text;
  return new TextDecoder().decode(bytes.subarray(0, 120)).replace(/\uFFFD+$/, '') + '…';
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Events of a {@link WebSocketBridge}: `flow` when one side is paused or resumed for backpressure. */
export interface BridgeEvents {
  /** `server`: the TCP socket is paused (the tab reads too slowly); `browser`: the WebSocket is (the server does). */
  flow: [side: 'server' | 'browser', paused: boolean];
}

/**
 * One browser session bridged to the target over TCP: each WebSocket text message is one
 * chatlab/1 frame, written to the TCP socket as it came with its `\n`; each frame the server
 * sends (split with the protocol's streaming decoder) goes to the tab as one text message, byte
 * for byte without its line terminator. A message that is not one frame is answered with the
 * protocol's error (never forwarded). Backpressure both ways: the TCP socket is paused while the
 * tab has more than the high-water mark waiting, and the WebSocket is paused while the TCP write
 * buffer is full. When one side closes, the other is closed too.
 */
export class WebSocketBridge extends EventEmitter<BridgeEvents> {
  private readonly tcp: Socket;
  private readonly decoder = new FrameDecoder();
  private readonly highWater: number;
  private readonly lowWater: number;
  private connected = false;
  private serverPaused = false;
  private browserGone = false;
  private serverGone = false;
  private readsFromServer = 0;
  private readsFromBrowser = 0;
  private tcpError?: string;
  private clientFinRecorded = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: BridgeOptions,
  ) {
    super();
    this.highWater = options.highWaterBytes ?? BROWSER_HIGH_WATER_BYTES;
    this.lowWater = options.lowWaterBytes ?? BROWSER_LOW_WATER_BYTES;
    this.record({ kind: 'open', t: now(), conn: 1, peer: options.peer });
    this.tcp = connect({ host: options.target.host, port: options.target.port });
    this.tcp.setNoDelay(true);
    this.tcp.on('connect', this.onServerConnect);
    this.tcp.on('data', this.onServerData);
    this.tcp.on('end', this.onServerEnd);
    this.tcp.on('error', this.onServerError);
    this.tcp.on('close', this.onServerClose);
    this.tcp.on('drain', this.onServerDrain);
    ws.on('message', this.onBrowserMessage);
    ws.on('close', this.onBrowserClose);
    ws.on('error', this.onBrowserError);
  }

  /** True while the TCP side is paused because the tab is not reading fast enough. */
  get isServerPaused(): boolean {
    return this.serverPaused;
  }

  /** True while the WebSocket side is paused because the TCP write buffer is full. */
  get isBrowserPaused(): boolean {
    return this.ws.isPaused;
  }

  /** Bytes waiting to go to the tab (ws's queue and its socket's buffer). */
  get browserBacklog(): number {
    return this.ws.bufferedAmount;
  }

  /** Bytes waiting to go to the server (the TCP socket's write buffer). */
  get serverBacklog(): number {
    return this.tcp.writableLength;
  }

  private record(event: WireEvent): void {
    this.options.onEvent?.(event);
  }

  private readonly onServerConnect = (): void => {
    this.connected = true;
    this.record({ kind: 'upstream', t: now(), conn: 1, local: `${this.tcp.localAddress}:${this.tcp.localPort}` });
  };

  private readonly onServerData = (chunk: Buffer): void => {
    this.record({ kind: 'data', t: now(), conn: 1, dir: 's2c', read: ++this.readsFromServer, bytes: chunk });
    for (const result of this.decoder.push(chunk)) this.toBrowser(result);
    if (!this.serverPaused && this.ws.bufferedAmount > this.highWater) {
      this.serverPaused = true;
      this.tcp.pause();
      this.emit('flow', 'server', true);
    }
  };

  /** Sends one decoded frame (or the bytes of a bad one) on to the tab. */
  private toBrowser(result: DecodeResult): void {
    if (this.browserGone) return;
    if (!result.ok && result.code === 'frame_too_large') {
      // The stream cannot be resynchronised: close both sides, as a client must.
      this.ws.close(CLOSE_CODES.tooBig, `the server sent a frame over ${MAX_FRAME_BYTES} bytes`);
      this.tcp.destroy();
      return;
    }
    const line = withoutTerminator(result.raw);
    // A bad frame still goes on (the app shows it as such); bytes that are not UTF-8 cannot be a
    // text message, so they go as a binary one.
    this.ws.send(line, { binary: !result.ok && !isUtf8(line) }, this.onBrowserSent);
  }

  private readonly onBrowserSent = (): void => {
    if (this.serverPaused && this.ws.bufferedAmount <= this.lowWater && !this.serverGone) {
      this.serverPaused = false;
      this.tcp.resume();
      this.emit('flow', 'server', false);
    }
  };

  private readonly onBrowserMessage = (data: RawData, isBinary: boolean): void => {
    if (this.serverGone) return;
    const bytes = withoutTerminator(asBuffer(data));
    if (bytes.length + 1 > MAX_FRAME_BYTES) {
      this.answer(errorLine('frame_too_large', `frame exceeds ${MAX_FRAME_BYTES} bytes (newline included)`));
      this.ws.close(CLOSE_CODES.tooBig, 'frame too large');
      this.closeServerSide();
      return;
    }
    const problem = isBinary ? 'send each frame as a WebSocket text message, not a binary one' : this.problemOf(bytes);
    if (problem !== undefined) {
      this.answer(errorLine('bad_frame', problem));
      return;
    }
    const line = Buffer.concat([bytes, NEWLINE]);
    this.record({ kind: 'data', t: now(), conn: 1, dir: 'c2s', read: ++this.readsFromBrowser, bytes: line });
    if (!this.tcp.write(line) && !this.ws.isPaused) {
      this.ws.pause();
      this.emit('flow', 'browser', true);
    }
  };

  /** Why a text message is not exactly one chatlab/1 frame, or undefined when it is one. */
  private problemOf(bytes: Buffer): string | undefined {
    if (bytes.includes(0x0a)) return 'one WebSocket message must hold one frame: this one holds a newline';
    const parsed = parseFrameLine(bytes);
    if (parsed === null) return 'an empty message is not a frame';
    return parsed.ok ? undefined : parsed.message;
  }

  private answer(line: string): void {
    if (!this.browserGone) this.ws.send(line, this.onBrowserSent);
  }

  private readonly onServerDrain = (): void => {
    if (this.browserGone || !this.ws.isPaused) return;
    this.ws.resume();
    this.emit('flow', 'browser', false);
  };

  private readonly onServerEnd = (): void => {
    for (const result of this.decoder.end()) this.toBrowser(result);
    this.record({ kind: 'end', t: now(), conn: 1, dir: 's2c' });
    // Node ends our side too right after this (allowHalfOpen is off): the client's FIN of step 10.
    this.recordClientFin();
  };

  private recordClientFin(): void {
    if (this.clientFinRecorded || !this.connected) return;
    this.clientFinRecorded = true;
    this.record({ kind: 'end', t: now(), conn: 1, dir: 'c2s' });
  }

  private readonly onServerError = (error: NodeJS.ErrnoException): void => {
    this.tcpError = error.code ?? error.message;
  };

  private readonly onServerClose = (): void => {
    this.serverGone = true;
    this.record({ kind: 'close', t: now(), conn: 1, side: 'server', ...(this.tcpError !== undefined && { error: this.tcpError }) });
    if (this.browserGone) return;
    const { host, port } = this.options.target;
    if (!this.connected) this.ws.close(CLOSE_CODES.failed, closeReason(`could not reach ${host}:${port} (${this.tcpError ?? 'closed'})`));
    else if (this.tcpError !== undefined) this.ws.close(CLOSE_CODES.failed, closeReason(`connection to the server failed (${this.tcpError})`));
    else this.ws.close(CLOSE_CODES.normal, 'the server closed the connection');
  };

  private readonly onBrowserClose = (): void => {
    this.browserGone = true;
    this.record({ kind: 'close', t: now(), conn: 1, side: 'client' });
    this.closeServerSide();
  };

  private readonly onBrowserError = (): void => {
    this.browserGone = true;
    this.tcp.destroy();
  };

  /** Half-closes the TCP side (FIN) as a client does, once what was written has gone out. */
  private closeServerSide(): void {
    if (this.serverGone || this.tcp.writableEnded) return;
    this.recordClientFin();
    this.tcp.end();
    // Read (and drop) what the server still sends, so its FIN is seen even when the tab had paused it.
    this.tcp.resume();
    // A server that never closes its side must not hold the socket forever.
    this.tcp.setTimeout(5_000, () => this.tcp.destroy());
  }
}
