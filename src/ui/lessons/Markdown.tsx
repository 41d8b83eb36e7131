import { marked } from 'marked';
import { useMemo } from 'react';

/**
 * Markdown from the repository's lesson files, rendered with `marked` (GitHub-flavoured). Only
 * bundled repository files reach here — never text from a URL or a user — so the HTML is trusted.
 */
export function Markdown({ text, inline = false }: { text: string; inline?: boolean }) {
  const html = useMemo(
    () => (inline ? marked.parseInline(text, { async: false }) : marked.parse(text, { async: false })),
    [text, inline],
  );
  return inline ? (
    // biome-ignore lint/security/noDangerouslySetInnerHtml: trusted repository content (see above)
    <span className="md" dangerouslySetInnerHTML={{ __html: html }} />
  ) : (
    // biome-ignore lint/security/noDangerouslySetInnerHtml: trusted repository content (see above)
    <div className="md" dangerouslySetInnerHTML={{ __html: html }} />
  );
}
