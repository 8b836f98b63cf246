import type { MarkdownOptions } from 'vitepress';

/** A Shiki transformer, as VitePress's `markdown.codeTransformers` takes it. */
type CodeTransformer = NonNullable<MarkdownOptions['codeTransformers']>[number];

/**
 * The token colours of the site's code blocks, as classes. Shiki writes each token's colours
 * inline, `style="--shiki-light:#D73A49;--shiki-dark:#F97583"`: 51 bytes a token, and a lesson
 * page holds some 10,000 tokens (every file of the lesson in both languages, and the diffs). That
 * was over half of lesson 12's page, and pushed its chunk to the 1 MB warning; a class of a dozen
 * bytes says the same. These are all the styles the default themes (github-light and github-dark)
 * give the site's languages; a style not listed stays inline, so nothing loses its colour.
 * The rules of `custom.css` are {@link tokenColourRules}, and a test keeps them equal.
 */
export const TOKEN_STYLES: Readonly<Record<string, string>> = {
  'tk-text': '--shiki-light:#24292E;--shiki-dark:#E1E4E8',
  'tk-keyword': '--shiki-light:#D73A49;--shiki-dark:#F97583',
  'tk-string': '--shiki-light:#032F62;--shiki-dark:#9ECBFF',
  'tk-constant': '--shiki-light:#005CC5;--shiki-dark:#79B8FF',
  'tk-function': '--shiki-light:#6F42C1;--shiki-dark:#B392F0',
  'tk-comment': '--shiki-light:#6A737D;--shiki-dark:#6A737D',
  'tk-tag': '--shiki-light:#22863A;--shiki-dark:#85E89D',
  'tk-variable': '--shiki-light:#E36209;--shiki-dark:#FFAB70',
  'tk-invalid': '--shiki-light:#B31D28;--shiki-dark:#FDAEB7',
  'tk-function-bold': '--shiki-light:#6F42C1;--shiki-light-font-weight:bold;--shiki-dark:#B392F0;--shiki-dark-font-weight:bold',
  'tk-tag-bold': '--shiki-light:#22863A;--shiki-light-font-weight:bold;--shiki-dark:#85E89D;--shiki-dark-font-weight:bold',
};

const CLASS_OF_STYLE = new Map(Object.entries(TOKEN_STYLES).map(([name, style]) => [style, name]));

/** Replaces a token's inline colours with the class that sets the same ones (see {@link TOKEN_STYLES}). */
export const tokenColourClasses: CodeTransformer = {
  name: 'chatlab:token-colour-classes',
  span(node) {
    const style = node.properties.style;
    const name = typeof style === 'string' ? CLASS_OF_STYLE.get(style) : undefined;
    if (name === undefined) return;
    delete node.properties.style;
    this.addClassToHast(node, name);
  },
};

/** The CSS rules of the token classes, one a line, as `custom.css` holds them. */
export function tokenColourRules(): string {
  return Object.entries(TOKEN_STYLES)
    .map(([name, style]) => `.vp-code span.${name} { ${style}; }`)
    .join('\n');
}
