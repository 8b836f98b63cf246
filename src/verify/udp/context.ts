import type { RawFrame } from '../../protocol/index.ts';
import { fail, seconds } from '../failure.ts';
import type { Supervisor } from '../supervisor.ts';
import type { Transcript } from '../transcript.ts';
import type { Account, Timeouts } from '../types.ts';
import { UdpProbe, type ReceivedDatagram } from './udp-probe.ts';

/** Default of {@link UdpContext.expiryMs}: how long a silent peer may stay online before the expiry check fails. */
export const DEFAULT_UDP_EXPIRY_MS = 15_000;

/** How often the verifier's peers that must stay online send `ping` while a check waits. */
export const UDP_KEEPALIVE_MS = 1_000;

/**
 * What the UDP checks share: the server's address, the timeouts, the transcript, the accounts
 * (alice, bob, carol roles) and the probes that logged in with them.
 */
export class UdpContext {
  readonly probes: UdpProbe[] = [];
  alice?: UdpProbe;
  bob?: UdpProbe;
  carol?: UdpProbe;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly timeouts: Timeouts,
    readonly transcript: Transcript,
    readonly supervisor: Supervisor | undefined,
    readonly accounts: readonly Account[],
    /** Longest a logged-in peer may stay silent and still be online for the others. */
    readonly expiryMs: number,
  ) {}

  /** A new probe (a new address) towards the server. */
  async probe(name: string): Promise<UdpProbe> {
    const probe = await UdpProbe.open(name, this.host, this.port, this.transcript);
    this.probes.push(probe);
    return probe;
  }

  /** The account of role `index` (0 alice, 1 bob, 2 carol); fails clearly when there are too few. */
  account(index: number): Account {
    const account = this.accounts[index];
    if (!account) {
      fail({
        summary: `the UDP checks need 3 accounts and got ${this.accounts.length}`,
        hint: 'give them with --accounts accounts.json or --user NAME:PASSWORD (three times).',
      });
    }
    return account;
  }

  /** Waits for a frame on `probe`, or fails the check with `expected` and `hint`. */
  async expectFrame(probe: UdpProbe, match: (frame: RawFrame) => boolean, expected: string, hint: string, timeoutMs = this.timeouts.answerMs): Promise<ReceivedDatagram> {
    const got = await probe.waitFor(match, timeoutMs);
    if (got) return got;
    const exit = this.supervisor ? await this.supervisor.exitDescription(50) : null;
    fail({
      summary: exit ? `the server ${exit}` : `${probe.name} got no ${expected} within ${seconds(timeoutMs)}`,
      expected,
      hint,
      timeoutSeconds: timeoutMs / 1000,
    });
  }

  /** Keeps `probes` alive (a `ping` each {@link UDP_KEEPALIVE_MS}) until the returned function is called. */
  keepAlive(...probes: UdpProbe[]): () => void {
    const timer = setInterval(() => {
      for (const probe of probes) probe.send({ type: 'ping' });
    }, UDP_KEEPALIVE_MS);
    return () => clearInterval(timer);
  }

  /** Closes every probe. */
  closeAll(): void {
    for (const probe of this.probes) probe.close();
  }
}
