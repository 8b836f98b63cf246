import { fixDiff, type Lesson, lessonChanges, lessonNumberLabel, previousTrackLesson, trackInfo, trackOf } from '../runtime/index.ts';

function link(lesson: Lesson | undefined, file: string): string {
  return lesson ? `[lesson ${lessonNumberLabel(lesson)}](../${lesson.slug}/${file})` : 'the previous lesson';
}

/** The README's "what changed" section, as Markdown. */
export function renderDiffSection(lesson: Lesson): string {
  const before = previousTrackLesson(lesson);
  const fence = trackInfo(trackOf(lesson)).fence;
  return lessonChanges(lesson)
    .map((change) => {
      switch (change.status) {
        case 'new':
          return before
            ? `\`${change.file}\` is new in this lesson:\n\n\`\`\`${fence}\n${change.text}\n\`\`\``
            : `Everything is new: here is the whole \`${change.file}\`.\n\n\`\`\`${fence}\n${change.text}\n\`\`\``;
        case 'unchanged':
          return `\`${change.file}\` is the same as in ${link(before, change.file)} (apart from its title line).`;
        case 'changed':
          return `\`${change.file}\`, compared with ${link(before, change.file)}:\n\n\`\`\`diff\n${change.text}\n\`\`\``;
      }
    })
    .join('\n\n');
}

/** The README's "the fix" section: from the broken server to the fixed one. */
export function renderFixSection(lesson: Lesson): string | null {
  const diff = fixDiff(lesson);
  return diff === null ? null : `\`\`\`diff\n${diff}\n\`\`\``;
}
