import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.ts';

/** A link that answers each batch when told to, in the order the batches were sent (as one Redis connection does). */
class OrderedLink {
  readonly sent: string[][] = [];
  private readonly answers: Array<{ items: readonly string[]; resolve: (results: string[]) => void; reject: (error: unknown) => void }> = [];

  readonly send = (items: readonly string[]): Promise<string[]> => {
    this.sent.push([...items]);
    return new Promise((resolve, reject) => this.answers.push({ items, resolve, reject }));
  };

  /** Answers the oldest batch in flight: each item becomes `<item>!`. */
  answer(): void {
    const batch = this.answers.shift();
    batch?.resolve(batch.items.map((item) => `${item}!`));
  }

  fail(error: Error): void {
    this.answers.shift()?.reject(error);
  }
}

function groupCommit(link: OrderedLink, maxItems = 100, maxBytes = 1_000): GroupCommit<string, string> {
  return new GroupCommit(link.send, (item) => item.length, { maxItems, maxBytes });
}

describe('GroupCommit', () => {
  it('sends what one turn asks for as one batch at the end of that turn, and what comes during its round trip as the next', async () => {
    const link = new OrderedLink();
    const commit = groupCommit(link);
    const first = [commit.add('a'), commit.add('b')];
    expect(link.sent).toEqual([]);
    await nextTurn();
    expect(link.sent).toEqual([['a', 'b']]);
    const second = [commit.add('c')];
    await nextTurn();
    const third = [commit.add('d')];
    await nextTurn();
    expect(link.sent, 'one batch in flight at a time').toEqual([['a', 'b']]);
    link.answer();
    expect(await Promise.all(first)).toEqual(['a!', 'b!']);
    expect(link.sent).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    link.answer();
    expect(await Promise.all([...second, ...third])).toEqual(['c!', 'd!']);
    expect(commit.batches).toBe(2);
  });

  it('bounds a batch by items and by bytes (a bigger item alone goes alone)', async () => {
    const link = new OrderedLink();
    const commit = groupCommit(link, 3, 10);
    const all = ['a', 'b', 'c', 'd', 'eeeeeeee', 'ffffffffffff', 'g'].map((item) => commit.add(item));
    await nextTurn();
    for (let i = 0; i < 4; i++) {
      link.answer();
      await nextTurn(); // the next batch goes once this one is answered
    }
    await Promise.all(all);
    expect(link.sent).toEqual([['a', 'b', 'c'], ['d', 'eeeeeeee'], ['ffffffffffff'], ['g']]);
  });

  it('sends everything waiting at once when asked (sendNow), so what the caller sends next comes after it', async () => {
    const link = new OrderedLink();
    const commit = groupCommit(link);
    const first = commit.add('a');
    await nextTurn();
    const second = commit.add('b');
    commit.sendNow();
    link.sent.push(['read']);
    expect(link.sent).toEqual([['a'], ['b'], ['read']]);
    link.answer();
    link.answer();
    expect(await Promise.all([first, second])).toEqual(['a!', 'b!']);
  });

  it("rejects every item of a failed batch with the batch's error, and goes on with the next", async () => {
    const link = new OrderedLink();
    const commit = groupCommit(link);
    const failed = [commit.add('a'), commit.add('b')].map((promise) => promise.catch((error: Error) => error.message));
    await nextTurn();
    const later = commit.add('c');
    link.fail(new Error('gone'));
    expect(await Promise.all(failed)).toEqual(['gone', 'gone']);
    expect(link.sent).toEqual([['a', 'b'], ['c']]);
    link.answer();
    expect(await later).toBe('c!');
  });

  it('rejects a batch answered with the wrong number of results', async () => {
    const commit = new GroupCommit<string, string>(
      () => Promise.resolve(['only one']),
      (item) => item.length,
      { maxItems: 10, maxBytes: 100 },
    );
    const results = await Promise.allSettled([commit.add('a'), commit.add('b')]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });
});
