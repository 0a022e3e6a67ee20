// knowledge-ingest's API as the page uses it: create a knowledge base, upload a document with
// progress (XMLHttpRequest: fetch cannot report upload progress), read a document's state.
import { errorMessage, HttpError } from '../settings/http-error.ts';
import type { DocumentView } from './indexing.ts';

export interface KnowledgeApi {
  ensureKnowledgeBase(kb: string): Promise<void>;
  /** Uploads one file; `onProgress` gets the fraction of bytes sent. */
  upload(kb: string, file: File, onProgress: (fraction: number) => void): Promise<DocumentView>;
  document(kb: string, docId: string): Promise<DocumentView>;
}

export class KnowledgeClient implements KnowledgeApi {
  /** docId → file name, so citations of uploaded documents read as names. */
  readonly names = new Map<string, string>();

  constructor(
    private readonly baseUrl: () => string,
    private readonly apiKey: () => string,
  ) {}

  /** Creates the knowledge base unless it exists (409 means it does). */
  async ensureKnowledgeBase(kb: string): Promise<void> {
    const response = await fetch(`${this.baseUrl()}/v1/knowledge-bases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.apiKey()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: kb, name: kb }),
    });
    if (response.ok || response.status === 409) return;
    throw new HttpError(response.status, await errorMessage(response));
  }

  upload(kb: string, file: File, onProgress: (fraction: number) => void): Promise<DocumentView> {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open('POST', `${this.baseUrl()}/v1/knowledge-bases/${encodeURIComponent(kb)}/documents`);
      request.setRequestHeader('authorization', `Bearer ${this.apiKey()}`);
      request.responseType = 'json';
      request.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      };
      request.onload = () => {
        const body = (request.response ?? {}) as { document?: DocumentView & { docId?: string }; error?: { message?: string }; message?: string } & Partial<DocumentView> & { docId?: string };
        if (request.status >= 200 && request.status < 300) {
          const doc = body.document ?? body;
          const id = doc.id ?? doc.docId ?? '';
          this.names.set(id, file.name);
          return resolve({ ...doc, id, status: doc.status ?? 'queued' });
        }
        reject(new HttpError(request.status, body.error?.message ?? body.message ?? `upload failed (${request.status})`));
      };
      request.onerror = () => reject(new HttpError(0, 'the knowledge service cannot be reached'));
      const form = new FormData();
      form.append('file', file, file.name);
      request.send(form);
    });
  }

  async document(kb: string, docId: string): Promise<DocumentView> {
    const response = await fetch(`${this.baseUrl()}/v1/knowledge-bases/${encodeURIComponent(kb)}/documents/${encodeURIComponent(docId)}`, {
      headers: { authorization: `Bearer ${this.apiKey()}` },
    });
    if (!response.ok) throw new HttpError(response.status, await errorMessage(response));
    const body = (await response.json()) as { document?: DocumentView } & DocumentView;
    return body.document ?? body;
  }
}
