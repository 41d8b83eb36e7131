/**
 * The lessons bundled with the page: every `lessons/NN-slug.md` in the repository, parsed once.
 * A file that does not parse becomes an entry with its error (shown on the page), and the other
 * lessons keep working. Only repository files are ever rendered, so their Markdown is trusted.
 */
import type { Hosting, Lesson } from './parse.ts';
import { LessonParseError, parseLesson } from './parse.ts';

/** Host arrangements this build can run (Type 2: src/hypervisor/hosting/). */
export const HOSTING_BUILT: readonly Hosting[] = ['type1', 'type2'];

export type LessonEntry = { ok: true; lesson: Lesson } | { ok: false; file: string; error: string };

const files = import.meta.glob('../../../lessons/[0-9]*.md', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

/** Parse lesson sources (file name → text), in file-name order. */
export function parseAll(sources: Record<string, string>): LessonEntry[] {
  return Object.keys(sources)
    .sort()
    .map((path): LessonEntry => {
      const file = `lessons/${path.split('/').pop()}`;
      try {
        return { ok: true, lesson: parseLesson(file, sources[path]) };
      } catch (e) {
        const error = e instanceof LessonParseError ? e.message : `${file}: ${String(e)}`;
        return { ok: false, file, error };
      }
    });
}

export const lessons: LessonEntry[] = parseAll(files);

export function findLesson(n: number): Lesson | null {
  for (const e of lessons) if (e.ok && e.lesson.number === n) return e.lesson;
  return null;
}
