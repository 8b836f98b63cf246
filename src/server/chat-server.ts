import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { PACKAGE_VERSION } from '../package-version.ts';
import { DEFAULT_PORT, type ClientFrame } from '../protocol/index.ts';
import { AccountStore, type AccountBook } from './accounts.ts';
import { Connection } from './connection.ts';
import { SYSTEM_CLOCK } from './clock.ts';
import { ChatCore, type AcceptRefusal } from './core.ts';
import { MEMORY_DATABASE } from './database.ts';
import { ChatServerEventStream } from './events.ts';
import { HistoryStore } from './history.ts';
import { Hub, type Member } from './hub.ts';
import { resolveLimits, type ServerLimits } from './limits.ts';
import { defaultListenBacklog } from './listen-backlog.ts';
import { LoginThrottle } from './login-throttle.ts';
import type { MessageStore } from './message-store.ts';
import { FileRelay } from './transfers.ts';
import { FlushScheduler } from './outbox.ts';
import { OutputBudget, type OutputStats } from './output-budget.ts';
import type { ScryptParams } from './password.ts';
import { checkTlsCredentials, type TlsCredentials } from './tls-credentials.ts';
import { attachVerboseLog } from './verbose-log.ts';

/** The name and version the server announces in `hello`. */
export const SERVER_NAME = `chatlab-server/${PACKAGE_VERSION}`;

/** Most ms a TLS client may take to complete its handshake (Node's default is 120 s). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Options of {@link ChatServer}. */
export interface ChatServerOptions {
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Port to bind; 0 picks a free one (read it from `start()` or `address`). Default 7070. */
  port?: number;
  /** Accounts and history database: a file path, or ':memory:' (the default) for a throwaway one. */
  db?: string;
  /** Log one line per connection event through `log`. */
  verbose?: boolean;
  /** Where verbose lines go. Default: standard output. */
  log?: (line: string) => void;
  /** Overrides of {@link DEFAULT_SERVER_LIMITS}. */
  limits?: Partial<ServerLimits>;
  /** scrypt cost for new password hashes (tests use a cheap one). Default N=16384, r=8, p=1. */
  scrypt?: ScryptParams;
  /**
   * Connections the kernel may complete before the server accepts them. Default: the OS maximum
   * (see {@link defaultListenBacklog}), so a burst of connects waits instead of hanging.
   */
  backlog?: number;
  /**
   * Speak TLS: every connection starts with a TLS handshake, then chatlab/1 runs inside it,
   * unchanged. The constructor throws `TlsCredentialsError` when the pair cannot be used.
   */
  tls?: TlsCredentials;
  /** With `tls`: most ms a client may take to complete its handshake. Default {@link TLS_HANDSHAKE_TIMEOUT_MS}. */
  tlsHandshakeTimeoutMs?: number;
  /**
   * Run as one node of a cluster: its hub and accounts are shared with the other nodes (made by
   * `startClusterServer` in `src/server/cluster/`, which connects to Redis first). Default: none,
   * one process on its own.
   */
  cluster?: ClusterParts;
}

/** What a cluster node brings to a {@link ChatServer} (see `src/server/cluster/cluster-server.ts`). */
export interface ClusterParts {
  /** The clustered hub: local members plus a replica of the other nodes'. */
  hub: Hub & {
    onFenced: (() => void) | undefined;
    onRemoteFile: ((member: Member, frame: ClientFrame) => void) | undefined;
    onRemoteLeft: ((member: Member, reason: string) => void) | undefined;
  };
  /** Put before this node's transfer ids, unique in the cluster. */
  transferPrefix: string;
  /** The shared accounts (the server's own SQLite store then only backs its local history). */
  accounts: AccountBook;
  /** The login throttle, shared per address across the nodes (made with the server's limits). */
  throttle?: (limits: ServerLimits) => LoginThrottle;
  /** The shared history and offline queue (made with the server's limits; its retention). */
  history?: (limits: ServerLimits) => MessageStore;
  /** Connections per address counted across the nodes, for `maxConnectionsPerAddress`. */
  addresses?: AddressCount;
  /** Leaves the cluster, once every local session has ended. */
  close(): Promise<void>;
}

/**
 * A count of open connections per address kept beyond this process (a cluster's, across nodes).
 * The server asks it before it greets a connection from an address the limit applies to.
 */
export interface AddressCount {
  /**
   * Counts one more connection from `address` if the address has fewer than `limit` open
   * (false: not counted, over the limit). Never rejects: when the shared count cannot be
   * reached it counts on this node only (the server's own count has already been checked).
   */
  admit(address: string, limit: number): Promise<boolean>;
  /** A connection counted in by {@link admit} closed. */
  release(address: string): void;
}

/**
 * The chatlab/1 reference server. The accounts database is opened by the constructor (so
 * `server.accounts` works before `start()`); it throws `DatabaseError` (one clear line) if the
 * database cannot be used.
 *
 * ```ts
 * const server = new ChatServer({ port: 0 });
 * await server.accounts.add('alice', 'wonderland');
 * const { port } = await server.start();
 * server.events.on('message', (m) => console.log(`${m.from}: ${m.text}`));
 * await server.stop();
 * ```
 */
export class ChatServer {
  /** The account store (SQLite, scrypt hashes). */
  readonly accounts: AccountStore;
  /** Typed event stream: listening, connection, login, message, room, transfer, logout, disconnect, error. */
  readonly events = new ChatServerEventStream();
  /** The limits in force (defaults merged with the options). */
  readonly limits: ServerLimits;
  /** Who is online, who is in which room, and how frames reach them (across nodes, in a cluster). */
  readonly hub: Hub;
  /**
   * Stored messages: history replay, paging, offline private messages (SQLite, the same database
   * as accounts; in a cluster, the shared store the cluster brings).
   */
  readonly history: MessageStore;
  /** The file-transfer relay. */
  readonly files: FileRelay;
  /** Whether connections speak TLS (the `tls` option). */
  readonly tls: boolean;
  /** The listen backlog asked for (the kernel may grant less). */
  readonly backlog: number;
  private readonly host: string;
  private readonly port: number;
  private readonly core: ChatCore;
  private readonly scheduler = new FlushScheduler();
  private readonly budget: OutputBudget;
  private readonly connections = new Set<Connection>();
  /** TLS only: the TCP sockets whose handshake is not done yet, by remote `address:port`. */
  private readonly handshaking = new Map<string, Socket>();
  private readonly perAddress = new Map<string, number>();
  /** Cluster only: sockets held paused (no `hello` yet) while the count across nodes answers. */
  private readonly admitting = new Set<Socket>();
  private readonly net: Server;
  private readonly cluster: ClusterParts | undefined;
  private nextConnectionId = 1;
  private state: 'new' | 'starting' | 'listening' | 'stopping' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;

  constructor(options: ChatServerOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? DEFAULT_PORT;
    this.backlog = options.backlog ?? defaultListenBacklog();
    this.tls = options.tls !== undefined;
    // Checked before the database is opened, so a bad certificate leaves nothing open.
    if (options.tls) checkTlsCredentials(options.tls);
    this.limits = resolveLimits(options.limits);
    this.cluster = options.cluster;
    this.hub = options.cluster?.hub ?? new Hub();
    this.budget = new OutputBudget(this.limits, SYSTEM_CLOCK);
    this.accounts = new AccountStore({ db: options.db ?? MEMORY_DATABASE, scrypt: options.scrypt });
    this.history =
      options.cluster?.history?.(this.limits) ??
      new HistoryStore(this.accounts.db, {
        retainPerConversation: this.limits.historyRetainPerConversation,
        scheduler: this.scheduler,
      });
    this.files = new FileRelay(this.hub, this.limits, (event) => this.events.emit('transfer', event), options.cluster?.transferPrefix);
    this.core = new ChatCore({
      hub: this.hub,
      accounts: options.cluster?.accounts ?? this.accounts,
      limits: this.limits,
      events: this.events,
      serverName: SERVER_NAME,
      history: this.history,
      files: this.files,
      throttle: options.cluster?.throttle?.(this.limits) ?? new LoginThrottle(this.limits, SYSTEM_CLOCK),
      clock: SYSTEM_CLOCK,
    });
    // A node the cluster declared dead must not keep (resurrect) the users the others saw leave.
    if (options.cluster) {
      const { hub } = options.cluster;
      hub.onFenced = () => this.endSessions();
      // Transfers relayed here may have recipients on other nodes: their answers come back here.
      hub.onRemoteFile = (member, frame) => this.core.remoteFile(member, frame);
      hub.onRemoteLeft = (member, reason) => this.files.departed(member, reason);
    }
    if (options.verbose) attachVerboseLog(this.events, options.log ?? ((line) => process.stdout.write(`${line}\n`)));
    // A TLSSocket is a net.Socket: once the handshake is done, the connection is handled the same.
    this.net = options.tls
      ? createTlsServer({ cert: options.tls.cert, key: options.tls.key, allowHalfOpen: true, handshakeTimeout: options.tlsHandshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS }, (socket) =>
          this.accept(socket),
        )
      : createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => this.accept(socket));
    // Sockets still in their TLS handshake are not connections yet; stop() ends them too.
    if (options.tls) this.net.on('connection', (socket: Socket) => this.trackHandshake(socket));
    // A failed or timed-out handshake (a plain-text client, a client that distrusts the
    // certificate, one that never starts) ends that socket only. Node reports it but leaves the
    // socket open: it must be destroyed here, or a silent connection would stay forever.
    this.net.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      this.events.emit('error', { remote: `${socket.remoteAddress}:${socket.remotePort}`, code: 'tls_handshake', message: error.message, fatal: true });
      socket.destroy();
    });
    this.net.on('error', (error) => {
      // Errors after listening (rare: EMFILE on accept) are reported, never thrown.
      if (this.state === 'listening') this.events.emit('error', { code: (error as NodeJS.ErrnoException).code ?? 'server_error', message: error.message, fatal: false });
    });
  }

  /** Where the server listens, once started. */
  get address(): { host: string; port: number } | undefined {
    const info = this.net.address() as AddressInfo | null;
    return info && typeof info === 'object' ? { host: info.address, port: info.port } : undefined;
  }

  /**
   * The server-level output account: bytes queued in memory for all clients now (and at most so
   * far), whether input is paused by `outputHighWaterBytes`, how often it was, and how many stuck
   * clients were cut off. A fresh snapshot at each read.
   */
  get output(): OutputStats {
    return this.budget.stats;
  }

  /** Number of open connections (logged in or not). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Step 1: binds and listens. Resolves with the real address (port 0 becomes a free port).
   * @throws the listen error (EADDRINUSE, EACCES, …); the server is then stopped.
   */
  async start(): Promise<{ host: string; port: number }> {
    if (this.state !== 'new') throw new Error(`the server cannot start: it is ${this.state}`);
    this.state = 'starting';
    try {
      await new Promise<void>((resolve, reject) => {
        this.net.once('error', reject);
        this.net.listen({ host: this.host, port: this.port, backlog: this.backlog }, () => {
          this.net.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.state = 'stopped';
      this.history.close();
      this.accounts.close();
      await this.cluster?.close();
      throw error;
    }
    this.state = 'listening';
    const address = this.address as { host: string; port: number };
    this.events.emit('listening', address);
    return address;
  }

  /**
   * Stops the server: no new connections; every client gets `bye` with reason "server_shutdown"
   * and its connection is closed (destroyed after `closeGraceMs` if the client does not close).
   * Resolves once every socket is closed and the database is closed. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const wasListening = this.state === 'listening';
    this.state = 'stopping';
    const closed = wasListening ? new Promise<void>((resolve) => this.net.close(() => resolve())) : Promise.resolve();
    for (const socket of this.handshaking.values()) socket.destroy();
    for (const socket of this.admitting) socket.destroy();
    for (const connection of this.connections) this.core.shutdown(connection);
    await Promise.all([...this.connections].map((connection) => connection.closed));
    await closed;
    await this.cluster?.close();
    this.budget.dispose();
    this.history.close();
    this.accounts.close();
    this.state = 'stopped';
  }

  /** Ends every session (`bye`, reason "server_shutdown"); the server keeps listening. */
  private endSessions(): void {
    for (const connection of this.connections) this.core.shutdown(connection);
  }

  private trackHandshake(socket: Socket): void {
    // A handshake costs the server CPU before any frame can refuse it: bound how many are pending.
    if (this.handshaking.size >= this.limits.maxConnections) {
      socket.destroy();
      return;
    }
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.handshaking.set(remote, socket);
    socket.once('close', () => {
      if (this.handshaking.get(remote) === socket) this.handshaking.delete(remote);
    });
  }

  private accept(socket: Socket): void {
    // A finished handshake: from now on the connection's own shutdown (bye first) applies.
    if (this.tls) this.handshaking.delete(`${socket.remoteAddress}:${socket.remotePort}`);
    const shared = this.cluster?.addresses;
    // A cluster asks the other nodes only about a connection this node alone would let in.
    // Sockets waiting for that answer count towards maxConnections: the wait is bounded, not free.
    if (shared && this.state === 'listening' && this.connections.size + this.admitting.size < this.limits.maxConnections) {
      const address = socket.remoteAddress ?? '?';
      const limited = !(this.limits.exemptLoopback && isLoopback(address));
      if (limited && (this.perAddress.get(address) ?? 0) < this.limits.maxConnectionsPerAddress) return this.admitAcrossNodes(socket, address, shared);
    }
    this.open(socket, undefined);
  }

  /** Holds the socket paused (nothing read, no `hello`) for the one round trip to the shared count. */
  private admitAcrossNodes(socket: Socket, address: string, shared: AddressCount): void {
    socket.pause();
    // Until a Connection owns the socket, an error (a reset) must not go unhandled.
    socket.on('error', ignoreEarlyError);
    this.admitting.add(socket);
    void shared.admit(address, this.limits.maxConnectionsPerAddress).then((admitted) => {
      this.admitting.delete(socket);
      socket.off('error', ignoreEarlyError);
      if (socket.destroyed) {
        if (admitted) shared.release(address);
        return;
      }
      this.open(socket, admitted ? 'counted' : 'over_limit');
      socket.resume();
    });
  }

  /**
   * Makes the connection and greets it, or turns it away. `acrossNodes` (cluster only): the
   * address was counted in across the nodes (released when the connection closes), or is over.
   */
  private open(socket: Socket, acrossNodes: 'counted' | 'over_limit' | undefined): void {
    const connection = new Connection(socket, this.nextConnectionId++, this.limits, this.scheduler, this.core, this.budget, SYSTEM_CLOCK);
    const { address } = connection;
    this.connections.add(connection);
    const fromAddress = (this.perAddress.get(address) ?? 0) + 1;
    this.perAddress.set(address, fromAddress);
    void connection.closed.then(() => {
      this.connections.delete(connection);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
      if (acrossNodes === 'counted') this.cluster?.addresses?.release(address);
    });
    const addressLimited = !(this.limits.exemptLoopback && isLoopback(address));
    const refuse: AcceptRefusal | undefined =
      this.state !== 'listening'
        ? 'server_shutdown'
        : this.connections.size > this.limits.maxConnections
          ? 'too_many_connections'
          : addressLimited && (fromAddress > this.limits.maxConnectionsPerAddress || acrossNodes === 'over_limit')
            ? 'too_many_from_address'
            : undefined;
    this.core.accept(connection, refuse);
  }
}

function ignoreEarlyError(): void {}

/** Whether an IP address is a loopback one (127.0.0.0/8, ::1, or IPv4 127.x mapped into IPv6). */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
