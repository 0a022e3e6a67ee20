import { useRef } from 'preact/hooks';
import type { Uploads } from '../knowledge/uploads.store.ts';
import { useStore } from '../support/use-store.ts';

const ACCEPT = '.txt,.md,.markdown,.html,.htm,.pdf,text/plain,text/markdown,text/html,application/pdf';

/** Upload documents into a knowledge base, one progress row per file. */
export function KnowledgePanel({ uploads }: { uploads: Uploads }) {
  const rows = useStore(uploads);
  const name = useRef<HTMLInputElement>(null);
  const files = useRef<HTMLInputElement>(null);

  const submit = (event: Event) => {
    event.preventDefault();
    const kb = name.current?.value.trim() ?? '';
    const input = files.current;
    const chosen = [...(input?.files ?? [])];
    if (!kb || !input || chosen.length === 0) return;
    void uploads.uploadAll(kb, chosen).then(() => (input.value = ''));
  };

  return (
    <section aria-labelledby="kb-title" class="panel">
      <h2 id="kb-title">Knowledge</h2>
      <form id="kb-form" class="kb" onSubmit={submit}>
        <label for="kb-name">Knowledge base</label>
        <input id="kb-name" name="kb" placeholder="e.g. travel" required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,63}" title="letters, digits, . _ and -, starting with a letter or digit" ref={name} />
        <label for="kb-files">Documents</label>
        <input id="kb-files" name="files" type="file" multiple required accept={ACCEPT} ref={files} />
        <button type="submit">Upload</button>
      </form>
      <ol id="uploads" class="uploads" aria-live="polite">
        {rows.map((row) => (
          <li key={row.key} class="upload" data-status={row.status} data-doc-id={row.docId}>
            <strong>{row.name}</strong> <span class="status">{row.text}</span>
            <progress max={1} value={row.fraction} aria-label={`${row.name}: ${row.text}`} />
          </li>
        ))}
      </ol>
    </section>
  );
}
