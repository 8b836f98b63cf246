import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LESSONS_DIR, lessonFiles, listLessons, loadAccounts } from './catalogue.ts';
import { INDEX_README, renderIndex } from '../readme/index.ts';
import { readSection } from './sections.ts';

describe('the lessons catalogue', () => {
  const lessons = listLessons();

  it('lists the ten steps in order, one lesson each, then the bonus lessons on the whole core', () => {
    expect(lessons.map((l) => l.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(lessons.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10, 10, 10]);
    expect(lessons.map((l) => l.bonus === true)).toEqual([...Array(10).fill(false), true, true, true, true, true]);
    for (const lesson of lessons) expect(lesson.slug).toMatch(new RegExp(`^${String(lesson.number).padStart(2, '0')}-[a-z]+(-[a-z]+)*$`));
  });

  it('builds a cluster lesson on an earlier lesson, with the Redis client (ioredis) among the dependencies', () => {
    const cluster = lessons.filter((l) => l.cluster);
    expect(cluster.map((l) => [l.slug, l.diffFrom])).toEqual([['14-two-servers', 10]]);
    const { dependencies } = JSON.parse(readFileSync(join(LESSONS_DIR, '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(dependencies).toHaveProperty('ioredis');
  });

  it('gives a TLS lesson its demo key and certificate', () => {
    for (const lesson of lessons.filter((l) => l.tls)) {
      for (const file of [lesson.tls?.key, lesson.tls?.cert]) expect(existsSync(join(lesson.dir, file as string)), `${lesson.slug}/${file}`).toBe(true);
    }
    expect(lessons.filter((l) => l.tls).map((l) => l.slug)).toEqual(['13-tls']);
  });

  it('marks the UDP lesson, the only one not on TCP', () => {
    expect(lessons.filter((l) => l.transport === 'udp').map((l) => l.slug)).toEqual(['15-udp']);
  });

  it('gives every lesson its files, README, scenario and test', () => {
    for (const lesson of lessons) {
      for (const file of ['README.md', 'scenario.json', 'lesson.test.ts', lesson.server, ...(lesson.client ? [lesson.client] : [])]) {
        expect(existsSync(join(lesson.dir, file)), `${lesson.slug}/${file}`).toBe(true);
      }
      if (lesson.broken) expect(lessonFiles(lesson)).toContain(lesson.broken.file);
    }
    // The client appears with the first step where it has something to do, and stays.
    expect(lessons.map((l) => Boolean(l.client))).toEqual([false, ...Array(14).fill(true)]);
  });

  it("uses only node: built-ins (a cluster lesson's server also the Redis client), and the PORT variable with 7070 as default", () => {
    for (const lesson of lessons) {
      for (const file of lessonFiles(lesson)) {
        const code = readFileSync(join(lesson.dir, file), 'utf8');
        const imports = [...code.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
        const allowed = lesson.cluster && file !== lesson.client ? /^(node:.*|ioredis)$/ : /^node:/;
        for (const name of imports) expect(name, `${lesson.slug}/${file}`).toMatch(allowed);
        expect(code, `${lesson.slug}/${file}`).toContain('Number(process.env.PORT ?? 7070)');
      }
    }
  });

  it('has at least four demo accounts', () => {
    const accounts = loadAccounts();
    expect(Object.keys(accounts).length).toBeGreaterThanOrEqual(4);
    expect(accounts).toMatchObject({ alice: 'wonderland', bob: 'builder', carol: 'caroline', dave: 'davesecret' });
  });

  it('keeps the table in lessons/README.md up to date', () => {
    expect(readSection(readFileSync(INDEX_README, 'utf8'), 'index'), 'run `npm run lessons:diagrams`').toBe(renderIndex());
    expect(INDEX_README).toBe(join(LESSONS_DIR, 'README.md'));
  });
});
