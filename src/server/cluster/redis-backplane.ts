/**
 * The backplane of a cluster over Redis (ioredis): presence claims, node leases and the one
 * pub/sub channel every node publishes to and listens on. Only loaded with `--redis`.
 *
 * Keys (all under `chatlab:`): `online` (hash user → incarnation of the node holding the user),
 * `nodes` (sorted set incarnation → lease expiry, Redis time in ms), `node-users:<incarnation>`
 * (set), `rooms:<user>` (set), `conns:<incarnation>` (hash address → open connections, see
 * `shared-connection-count.ts`; deleted with the node's lease), `epoch` (a random value set once: if it changes or vanishes, Redis
 * lost its data and every node re-claims what it holds). Channel: `chatlab:bus`.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { UnavailableError } from '../unavailable.ts';
import { DEFAULT_LEASE_MS, HEARTBEATS_PER_LEASE } from './defaults.ts';
import { decodeBusMessage, encodeBusBatch, encodeBusMessage, splitBusBatch, type BusHeader, type UserRooms } from './bus-message.ts';
import type { Backplane, ClusterHub, OutgoingHeader } from './cluster-hub.ts';

/** The channel of the cluster. */
export const BUS_CHANNEL = 'chatlab:bus';
/** Messages one published bus message carries at most (those of one turn; more go in another). */
export const MAX_PUBLISH_BATCH = 256;
/** Bytes one published bus message carries at most (a turn's messages beyond it go in another). */
export const MAX_PUBLISH_BATCH_BYTES = 512 * 1024;
/** How long the client waits between attempts to reach Redis again. */
const RECONNECT_MS = 250;

const KEYS = { nodes: 'chatlab:nodes', online: 'chatlab:online', epoch: 'chatlab:epoch' } as const;

/** `now` in ms from Redis's clock (one clock for every node: no skew between leases). */
const LUA_NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * ARGV: incarnation, user. 1 claimed, 0 online elsewhere, -1 this node is fenced. The login is
 * announced (`on`) only once the user is in the node's hub ({@link RedisBackplane.joined}): no
 * other node may relay to a user its node cannot deliver to yet.
 */
const CLAIM = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[1]) == 0 then return 0 end
redis.call('SADD', 'chatlab:node-users:' .. ARGV[1], ARGV[2])
redis.call('DEL', 'chatlab:rooms:' .. ARGV[2])
return 1`;

/** ARGV: incarnation, user, announcement. Only the holder releases (a fenced node's release is void). */
const RELEASE = `
if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('SREM', 'chatlab:node-users:' .. ARGV[1], ARGV[2])
redis.call('DEL', 'chatlab:rooms:' .. ARGV[2])
redis.call('PUBLISH', '${BUS_CHANNEL}', ARGV[3])
return 1`;

/** ARGV: incarnation, user, room, 'in' or 'out', announcement. */
const ROOM = `
if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[1] then return 0 end
if ARGV[4] == 'in' then redis.call('SADD', 'chatlab:rooms:' .. ARGV[2], ARGV[3])
else redis.call('SREM', 'chatlab:rooms:' .. ARGV[2], ARGV[3]) end
redis.call('PUBLISH', '${BUS_CHANNEL}', ARGV[5])
return 1`;

/**
 * ARGV: incarnation, lease ms, node id. Adds the node (a new incarnation) with a fresh lease. A node
 * starting under the name of an earlier incarnation still leased (killed, restarted before its
 * lease ran out) resets that one's connection counts: the old process holds no socket any more.
 */
const REGISTER = `${LUA_NOW}
local prefix = ARGV[3] .. '/'
for _, node in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if node ~= ARGV[1] and string.sub(node, 1, #prefix) == prefix and not string.find(node, '/', #prefix + 1, true) then
    redis.call('DEL', 'chatlab:conns:' .. node)
  end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('SET', 'chatlab:last-beat', now)
return 1`;

/**
 * ARGV: incarnation, lease ms. Renews this node's lease (1), or says it was reaped (0: fenced), and
 * reaps every node whose lease ran out: its users leave `online`, one `dead` message tells the others.
 * Whichever node beats first reaps; the script runs atomically, so a node is reaped once.
 * A stall: no node at all beat (nor registered) for a whole lease (Redis itself hung — stopped,
 * stuck on its disk — or every node did), so every lease ran out at once though no node died. Then, as after an
 * outage, nobody is reaped for one more lease: every node gets the time to renew.
 */
const HEARTBEAT = `${LUA_NOW}
local lease = tonumber(ARGV[2])
local last = tonumber(redis.call('GET', 'chatlab:last-beat') or '0')
redis.call('SET', 'chatlab:last-beat', now)
if last > 0 and now - last > lease then
  local until_ms = now + lease
  if until_ms > tonumber(redis.call('GET', 'chatlab:reap-after') or '0') then redis.call('SET', 'chatlab:reap-after', until_ms) end
end
local alive = redis.call('ZSCORE', KEYS[1], ARGV[1])
if alive then redis.call('ZADD', KEYS[1], now + lease, ARGV[1]) end
local hold = tonumber(redis.call('GET', 'chatlab:reap-after') or '0')
local expired = {}
if now >= hold then expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now) end
for _, node in ipairs(expired) do
  local gone = {}
  for _, user in ipairs(redis.call('SMEMBERS', 'chatlab:node-users:' .. node)) do
    if redis.call('HGET', KEYS[2], user) == node then
      redis.call('HDEL', KEYS[2], user)
      redis.call('DEL', 'chatlab:rooms:' .. user)
      table.insert(gone, user)
    end
  end
  redis.call('DEL', 'chatlab:node-users:' .. node)
  redis.call('DEL', 'chatlab:conns:' .. node)
  redis.call('ZREM', KEYS[1], node)
  redis.call('PUBLISH', '${BUS_CHANNEL}', cjson.encode({n = node, k = 'dead', u = gone}) .. '\\n')
end
if alive then return 1 else return 0 end`;

/**
 * ARGV: incarnation, JSON [[user, [rooms…]]…] of everyone the node holds now. Releases what it
 * held but no longer does, claims what it holds (unless another node holds it now: those names
 * are returned, for the node to end their sessions), and sets each user's rooms exactly.
 */
const REASSERT = `
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {} end
local setKey = 'chatlab:node-users:' .. ARGV[1]
local holds = {}
for _, entry in ipairs(cjson.decode(ARGV[2])) do holds[entry[1]] = entry[2] end
for _, user in ipairs(redis.call('SMEMBERS', setKey)) do
  if holds[user] == nil then
    if redis.call('HGET', KEYS[2], user) == ARGV[1] then
      redis.call('HDEL', KEYS[2], user)
      redis.call('DEL', 'chatlab:rooms:' .. user)
    end
    redis.call('SREM', setKey, user)
  end
end
local lost = {}
for user, rooms in pairs(holds) do
  local owner = redis.call('HGET', KEYS[2], user)
  if owner and owner ~= ARGV[1] then
    table.insert(lost, user)
  else
    redis.call('HSET', KEYS[2], user, ARGV[1])
    redis.call('SADD', setKey, user)
    redis.call('DEL', 'chatlab:rooms:' .. user)
    for _, room in ipairs(rooms) do redis.call('SADD', 'chatlab:rooms:' .. user, room) end
  end
end
return lost`;

/**
 * ARGV: lease ms. After an outage no node could renew its lease: before anyone reaps, every node
 * gets one more lease to come back (`reap-after`, only ever moved later).
 */
const HOLD_REAPING = `${LUA_NOW}
local until_ms = now + tonumber(ARGV[1])
if until_ms > tonumber(redis.call('GET', 'chatlab:reap-after') or '0') then redis.call('SET', 'chatlab:reap-after', until_ms) end
return 1`;

/** Redis could not be reached: nothing was claimed or changed. */
export class BackplaneUnavailableError extends UnavailableError {}

/** Options of {@link RedisBackplane.connect}. */
export interface RedisBackplaneOptions {
  /** `redis://host:port` (or `rediss://`, with a password or database number if needed). */
  url: string;
  /** A name for this node in logs and in its incarnation id. Default `hostname:pid`. */
  nodeId?: string;
  /** Lease of a node in ms (see {@link DEFAULT_LEASE_MS}). */
  leaseMs?: number;
  /** Where the backplane reports what happens to it (lost, back, fenced). */
  log?: (line: string) => void;
  /** How long a command may wait for Redis's answer (see {@link COMMAND_TIMEOUT_MS}). */
  commandTimeoutMs?: number;
}

/**
 * A command Redis has not answered within this many ms fails as if Redis were away: a Redis that
 * hangs (stopped, stalled on its disk, cut off without a reset) must not hold a login, a `say` or
 * a `history` read forever. Longer than any answer of a Redis that is merely busy.
 */
export const COMMAND_TIMEOUT_MS = 5_000;

/** A cluster node's connection to Redis (see the module comment); made by {@link RedisBackplane.connect}. */
export class RedisBackplane implements Backplane {
  /** This run of this node: `nodeId/random`, new after a fencing, so a returning node is a new one. */
  incarnation: string;
  /** Cross-node messages dropped because Redis was unreachable. */
  dropped = 0;
  private readonly leaseMs: number;
  private readonly heartbeat: NodeJS.Timeout;
  private epoch: string | undefined;
  private wasLost = false;
  private closing = false;
  private beating = false;
  /** Incarnations known dead (reaped or replaced): their late messages are ignored. Bounded. */
  private readonly dead = new Set<string>();
  /** This node's name (the part of {@link incarnation} before the slash). */
  private readonly nodeId: string;
  /** Told when this node's entries in the store were written again (a new incarnation, an outage). */
  private readonly restoredListeners: Array<() => Promise<void>> = [];
  /** Told when this node's view of the cluster is whole again (see {@link onRecovered}). */
  private readonly recoveredListeners: Array<() => void> = [];
  /** Messages published in this turn, not sent yet (see {@link sendPublished}). */
  private outgoing: Buffer[] = [];
  private outgoingBytes = 0;
  private sendScheduled = false;

  private constructor(
    private readonly command: Redis,
    private readonly subscriber: Redis,
    private readonly hub: ClusterHub,
    private readonly options: RedisBackplaneOptions,
    private readonly accountNames: (user: string) => void,
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.nodeId = defaultNodeId(options.nodeId);
    this.incarnation = newIncarnation(options.nodeId);
    this.heartbeat = setInterval(this.beat, Math.max(50, Math.floor(this.leaseMs / HEARTBEATS_PER_LEASE)));
    this.heartbeat.unref();
  }

  /**
   * Connects (two connections: commands, and the subscription), registers this node, loads who is
   * online on the other nodes into `hub`, and attaches itself to it.
   * @throws BackplaneUnavailableError (one line: the URL and why) when Redis cannot be reached.
   */
  static async connect(hub: ClusterHub, options: RedisBackplaneOptions, accountNames: (user: string) => void = () => {}): Promise<RedisBackplane> {
    // Named, so `CLIENT LIST` on Redis tells which node each connection belongs to.
    const name = (options.nodeId ?? `${hostname()}:${process.pid}`).replace(/\s/g, '_');
    const command = redisClient(options.url, `chatlab:${name}:cmd`, options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS);
    // The subscription only listens: nothing on it waits for an answer.
    const subscriber = redisClient(options.url, `chatlab:${name}:sub`);
    // connect() only says "Connection is closed."; the 'error' event before it says why.
    let cause: unknown;
    const remember = (error: unknown): void => void (cause ??= error);
    command.on('error', remember);
    subscriber.on('error', remember);
    try {
      await Promise.all([command.connect(), subscriber.connect()]);
    } catch (error) {
      command.disconnect();
      subscriber.disconnect();
      throw new BackplaneUnavailableError(`cannot reach Redis at ${options.url}: ${describe(cause ?? error)}`);
    } finally {
      command.off('error', remember);
      subscriber.off('error', remember);
    }
    const backplane = new RedisBackplane(command, subscriber, hub, options, accountNames);
    await backplane.start();
    return backplane;
  }

  /** The command connection (the Redis account store shares it). */
  get redis(): Redis {
    return this.command;
  }

  /**
   * Runs `listener` each time this node must write its own entries again: after it rejoined as a
   * new incarnation (fenced), after Redis lost its data, and after an outage (what it could not
   * write meanwhile). Its failure is logged; the next such event retries.
   */
  onRestored(listener: () => Promise<void>): void {
    this.restoredListeners.push(listener);
  }

  /**
   * Runs `listener` once this node's entries are written again and its replica of the other nodes
   * read back: after an outage, after Redis lost its data, after a rejoin (after the
   * {@link onRestored} listeners). The spool of deferred messages is flushed then.
   */
  onRecovered(listener: () => void): void {
    this.recoveredListeners.push(listener);
  }

  /** Whether Redis is reachable now (logins are refused while it is not). */
  get available(): boolean {
    return this.command.status === 'ready' && this.subscriber.status === 'ready';
  }

  private async start(): Promise<void> {
    const pending: Buffer[] = [];
    let loaded = false;
    // Listen first, then read the snapshot: what changes in between is applied after it, in order.
    this.subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => (loaded ? this.onMessage(message) : pending.push(message)));
    await this.subscriber.subscribe(BUS_CHANNEL);
    await this.command.set(KEYS.epoch, randomBytes(8).toString('hex'), 'NX');
    this.epoch = (await this.command.get(KEYS.epoch)) ?? undefined;
    await this.command.eval(REGISTER, 1, KEYS.nodes, this.incarnation, this.leaseMs, this.nodeId);
    await this.loadSnapshot();
    loaded = true;
    for (const message of pending) this.onMessage(message);
    this.hub.attach(this);
    this.command.on('ready', this.onReady);
    this.subscriber.on('ready', this.onReady);
    this.command.on('close', this.onLost);
    this.subscriber.on('close', this.onLost);
  }

  private async loadSnapshot(): Promise<void> {
    for (const [node, users] of await this.readSnapshot()) {
      for (const [user, rooms] of users) this.hub.addRemote(user, node, rooms);
    }
  }

  /** Who is online on the other nodes now, with their rooms, by node incarnation. */
  private async readSnapshot(): Promise<Map<string, UserRooms[]>> {
    const online = await this.command.hgetall(KEYS.online);
    const users = Object.entries(online).filter(([, node]) => node !== this.incarnation && !this.dead.has(node));
    const pipeline = this.command.pipeline();
    for (const [user] of users) pipeline.smembers(`chatlab:rooms:${user}`);
    const rooms = users.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    const byNode = new Map<string, UserRooms[]>();
    users.forEach(([user, node], i) => {
      let list = byNode.get(node);
      if (!list) byNode.set(node, (list = []));
      list.push([user, (rooms[i]?.[1] as string[] | undefined) ?? []]);
    });
    return byNode;
  }

  async claim(user: string): Promise<boolean> {
    if (!this.available) throw new BackplaneUnavailableError('the cluster store (Redis) is unreachable');
    let result: unknown;
    try {
      result = await this.command.eval(CLAIM, 2, KEYS.nodes, KEYS.online, this.incarnation, user);
    } catch (error) {
      // Unanswered (Redis hangs, or went away after the claim was sent): it may still run, later.
      // A release sent now runs after it on this connection, so no claim outlives a refused login.
      const session = this.hub.member(user);
      if (session === undefined || session.node !== undefined) this.release(user);
      throw new BackplaneUnavailableError(`the cluster store (Redis) failed: ${describe(error)}`);
    }
    if (result === -1) {
      void this.beat();
      throw new BackplaneUnavailableError('this node lost its lease and is rejoining the cluster');
    }
    return result === 1;
  }

  joined(user: string): void {
    this.sendPublished();
    if (this.command.status !== 'ready') return void this.dropped++;
    this.command.publish(BUS_CHANNEL, this.announcement({ k: 'on', u: user })).catch(this.onDropped);
  }

  release(user: string): void {
    this.sendPublished();
    this.command.eval(RELEASE, 1, KEYS.online, this.incarnation, user, this.announcement({ k: 'off', u: user })).catch(this.onDropped);
  }

  roomChanged(user: string, room: string, entered: boolean): void {
    this.sendPublished();
    const k = entered ? 'in' : 'out';
    this.command.eval(ROOM, 1, KEYS.online, this.incarnation, user, room, k, this.announcement({ k, u: user, r: room })).catch(this.onDropped);
  }

  /**
   * Publishes at the end of this turn, with whatever else this node publishes in it, as one bus
   * message (bounded: {@link MAX_PUBLISH_BATCH}, {@link MAX_PUBLISH_BATCH_BYTES}). The claims,
   * releases and room changes, which publish from Redis, first send what waits: the channel
   * keeps this node's messages in the order they were made.
   */
  publish(header: OutgoingHeader, frame?: Buffer): void {
    if (this.command.status !== 'ready') {
      this.dropped++;
      return;
    }
    const message = encodeBusMessage({ ...header, n: this.incarnation } as BusHeader, frame);
    if (this.outgoing.length >= MAX_PUBLISH_BATCH || (this.outgoing.length > 0 && this.outgoingBytes + message.length > MAX_PUBLISH_BATCH_BYTES)) this.sendPublished();
    this.outgoing.push(message);
    this.outgoingBytes += message.length;
    if (!this.sendScheduled) {
      this.sendScheduled = true;
      setImmediate(this.sendPublished);
    }
  }

  /** Sends what was published and not sent yet: one message alone, several as one `many`. */
  private readonly sendPublished = (): void => {
    this.sendScheduled = false;
    const messages = this.outgoing;
    if (messages.length === 0) return;
    this.outgoing = [];
    this.outgoingBytes = 0;
    if (this.command.status !== 'ready') {
      this.dropped += messages.length;
      return;
    }
    const message = messages.length === 1 ? (messages[0] as Buffer) : encodeBusBatch(this.incarnation, messages);
    this.command.publish(BUS_CHANNEL, message).catch(() => void (this.dropped += messages.length));
  };

  /** Tells the other nodes a new account exists (they add it to their copy of the names). */
  announceAccount(user: string): void {
    this.publish({ k: 'acct', u: user });
  }

  /**
   * Stops beating and closes both connections. The server's stop released its users first; the
   * lease is ended now (expiry 0), so the next heartbeat anywhere reaps whatever is left of it
   * (a release that could not be written) and tells the others: nothing stays online for nobody.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.sendPublished();
    this.closing = true;
    clearInterval(this.heartbeat);
    try {
      if (this.command.status === 'ready') await this.command.zadd(KEYS.nodes, 0, this.incarnation);
    } catch {
      // Its lease runs out instead.
    }
    await Promise.allSettled([this.command.quit(), this.subscriber.quit()]);
  }

  private announcement(header: { k: 'on' | 'off'; u: string } | { k: 'in' | 'out'; u: string; r: string }): string {
    return `${JSON.stringify({ ...header, n: this.incarnation })}\n`;
  }

  private onMessage(message: Buffer): void {
    const decoded = decodeBusMessage(message);
    if (!decoded) return;
    const { header, frame } = decoded;
    if (header.k === 'many') {
      // This node's own batch is dropped unread (its messages are never for itself).
      if (header.n === this.incarnation || this.dead.has(header.n)) return;
      for (const part of splitBusBatch(header.l, frame) ?? []) this.onMessage(part);
      return;
    }
    if (header.k === 'acct') return this.accountNames(header.u);
    if (header.n === this.incarnation && header.k !== 'dead') return;
    if (this.dead.has(header.n)) return;
    if (header.k === 'dead' && header.n !== this.incarnation) this.markDead(header.n);
    if (header.k === 'dead' && header.n === this.incarnation) return this.fenced();
    this.hub.receive(header, frame, this.incarnation);
  }

  private markDead(incarnation: string): void {
    this.dead.add(incarnation);
    if (this.dead.size > 1_000) this.dead.delete(this.dead.values().next().value as string);
  }

  /** Renews the lease (and reaps dead nodes); finds out if this node was fenced or Redis lost its data. */
  private readonly beat = async (): Promise<void> => {
    if (this.beating || this.closing || this.command.status !== 'ready') return;
    this.beating = true;
    const incarnation = this.incarnation;
    try {
      const alive = await this.command.eval(HEARTBEAT, 2, KEYS.nodes, KEYS.online, incarnation, this.leaseMs);
      // Fenced meanwhile (the `dead` message came first): that incarnation is already replaced.
      if (alive === 1 || this.incarnation !== incarnation) return;
      const epoch = await this.command.get(KEYS.epoch);
      if (epoch === null || epoch !== this.epoch) await this.restore();
      else this.fenced();
    } catch {
      // Redis went away mid-beat: the next beat after it returns decides.
    } finally {
      this.beating = false;
    }
  };

  /**
   * This node was declared dead (its lease ran out: a pause, a network cut): the others already
   * announced its users offline, so it must not resurrect them. It ends every local session and
   * rejoins as a new incarnation; its users log in again.
   */
  private fenced(): void {
    const old = this.incarnation;
    this.log(`chatlab cluster: node ${old} lost its lease (declared dead by the cluster); ending its sessions and rejoining`);
    this.hub.onFenced?.();
    this.incarnation = newIncarnation(this.options.nodeId);
    this.markDead(old);
    void this.rejoin();
  }

  /** A fenced node's new incarnation registers and reloads the others' users (it may have missed changes). */
  private async rejoin(): Promise<void> {
    try {
      await this.command.eval(REGISTER, 1, KEYS.nodes, this.incarnation, this.leaseMs, this.nodeId);
      this.hub.dropRemotes();
      await this.loadSnapshot();
      await this.restored();
      this.recovered();
    } catch (error) {
      this.log(`chatlab cluster: rejoining failed (${describe(error)}); the next heartbeat retries`);
    }
  }

  /**
   * Redis came back without its data (restarted without persistence): this node registers again,
   * re-claims every user it holds with their rooms, and tells the others (`sync`).
   */
  private async restore(): Promise<void> {
    await this.command.set(KEYS.epoch, randomBytes(8).toString('hex'), 'NX');
    this.epoch = (await this.command.get(KEYS.epoch)) ?? undefined;
    await this.command.eval(REGISTER, 1, KEYS.nodes, this.incarnation, this.leaseMs, this.nodeId);
    await this.reassert();
    await this.restored();
    this.recovered();
    this.log(`chatlab cluster: Redis lost its data; node ${this.incarnation} re-claimed its ${this.hub.localMembers().length} user(s)`);
  }

  private async restored(): Promise<void> {
    for (const listener of this.restoredListeners) await listener();
  }

  private recovered(): void {
    for (const listener of this.recoveredListeners) listener();
  }

  /**
   * After an outage, makes the store say exactly what this node holds (the claims, releases and
   * room changes it could not write meanwhile), then publishes it (`sync`) for the other nodes.
   */
  private async reassert(): Promise<void> {
    const held = this.hub.localRooms();
    const lost = (await this.command.eval(REASSERT, 2, KEYS.nodes, KEYS.online, this.incarnation, JSON.stringify(held))) as string[];
    // Only possible if a name was claimed elsewhere while this node could not write (logins are
    // refused then): reported, not resolved.
    if (lost.length > 0) this.log(`chatlab cluster: ${lost.join(', ')} now held by another node; this node's session of them is a duplicate`);
    this.publish({ k: 'sync', u: held });
  }

  private readonly onLost = (): void => {
    if (this.closing || this.wasLost) return;
    this.wasLost = true;
    this.log('chatlab cluster: lost Redis; refusing new logins, local users keep chatting on this node; reconnecting');
  };

  private readonly onReady = (): void => {
    if (this.closing || !this.wasLost || !this.available) return;
    this.wasLost = false;
    this.log('chatlab cluster: Redis is back');
    void this.recover();
  };

  private async recover(): Promise<void> {
    try {
      await this.command.eval(HOLD_REAPING, 0, this.leaseMs);
      const epoch = await this.command.get(KEYS.epoch);
      if (epoch === null || epoch !== this.epoch) return await this.restore();
      await this.beat();
      // What was announced while Redis was away is lost: say again who is here, and read again
      // who is elsewhere (the store says who is online: the other nodes reassert theirs too).
      await this.reassert();
      await this.restored();
      this.hub.reconcile(await this.readSnapshot());
      this.recovered();
    } catch (error) {
      this.log(`chatlab cluster: recovery failed (${describe(error)}); retrying at the next heartbeat`);
    }
  }

  private readonly onDropped = (): void => {
    this.dropped++;
  };

  /** Writes one line where the backplane reports (the `log` option; standard error by default). */
  log(line: string): void {
    (this.options.log ?? ((text: string) => process.stderr.write(`${text}\n`)))(line);
  }
}

function redisClient(url: string, connectionName: string, commandTimeout?: number): Redis {
  const client = new Redis(url, {
    connectionName,
    ...(commandTimeout !== undefined && { commandTimeout }),
    lazyConnect: true,
    // While Redis is away, commands fail at once (a login is refused, a relay dropped) instead of
    // queueing without bound in this process; the client keeps reconnecting in the background.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => RECONNECT_MS,
    connectTimeout: 2_000,
  });
  // Errors are reported through 'close'/'ready' (see RedisBackplane); unhandled they would crash.
  client.on('error', ignoreError);
  return client;
}

function ignoreError(): void {}

function defaultNodeId(nodeId: string | undefined): string {
  return nodeId ?? `${hostname()}:${process.pid}`;
}

function newIncarnation(nodeId: string | undefined): string {
  return `${defaultNodeId(nodeId)}/${randomBytes(4).toString('hex')}`;
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code} ${message}` : message;
}
