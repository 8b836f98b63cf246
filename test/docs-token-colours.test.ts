/**
 * The docs site's code blocks carry their token colours as classes (docs/.vitepress/token-colours.ts),
 * not as 51 bytes of inline style a token: that halves a lesson page, whose chunk had reached
 * VitePress's 1 MB warning. Rendered with the site's own markdown options, the lesson programs
 * and a diff keep no inline token colour, and each class sets exactly the colours it replaces.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMarkdownRenderer } from 'vitepress';
import { describe, expect, it } from 'vitest';
import config from '../docs/.vitepress/config.ts';
import { TOKEN_STYLES, tokenColourClasses, tokenColourRules } from '../docs/.vitepress/token-colours.ts';
import { REPO_ROOT } from '../test-support/cli-process.ts';

const DOCS = join(REPO_ROOT, 'docs');

describe('token colours as classes', () => {
  it('custom.css holds the rule of every token class', () => {
    expect(readFileSync(join(DOCS, '.vitepress', 'theme', 'custom.css'), 'utf8')).toContain(tokenColourRules());
  });

  it('leaves no inline token colour in the lesson programs and diffs: the code is well under two thirds of its inline size', async () => {
    const env = () => ({ path: join(DOCS, 'lessons', '13-tls.md'), relativePath: 'lessons/13-tls.md', cleanUrls: false });
    const files = ['server.mjs', 'client.mjs', 'server.py', 'client.py'].map((file) => `<<< @/../lessons/13-tls/${file}`).join('\n\n');
    const diff = '```diff\n--- a/server.py\n+++ b/server.py\n@@ -1,2 +1,2 @@\n-import os\n+import errno\n```';
    const shell = '```json\n{"type":"hello","id":1,"ok":true}\n```\n\n```sh\nPORT=7072 npx chatlab verify --udp -- python3 server.py\n```';
    const source = `${files}\n\n${diff}\n\n${shell}`;
    const site = await createMarkdownRenderer(DOCS, config.markdown, '/');
    const html = site.render(source, env());
    expect(html).toContain('class="tk-keyword"');
    expect(html.match(/<span style="--shiki-light:[^"]*"/g) ?? []).toEqual([]);
    // Each class put back as the style it stands for: what Shiki writes inline, ~half as long again.
    const inline = html.replace(/class="(tk-[a-z-]+)"/g, (_, name: string) => `style="${TOKEN_STYLES[name]}"`);
    expect(html.length).toBeLessThan(inline.length * 0.6);
  }, 30_000);

  it('turns each known style into its class, and leaves any other style inline', () => {
    type Span = { properties: Record<string, unknown> };
    const span = tokenColourClasses.span as unknown as (this: { addClassToHast(node: Span, name: string): void }, node: Span) => void;
    const context = { addClassToHast: (node: Span, name: string) => void (node.properties.class = name) };
    for (const [name, style] of Object.entries(TOKEN_STYLES)) {
      const node: Span = { properties: { style } };
      span.call(context, node);
      expect(node.properties).toEqual({ class: name });
    }
    const unknown: Span = { properties: { style: '--shiki-light:#123456;--shiki-dark:#654321' } };
    span.call(context, unknown);
    expect(unknown.properties).toEqual({ style: '--shiki-light:#123456;--shiki-dark:#654321' });
  });
});
