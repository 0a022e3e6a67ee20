// Document upload to knowledge-ingest with progress: bytes sent (XMLHttpRequest upload events;
// fetch cannot report upload progress), then indexing progress polled from the document resource
// until it is indexed or failed.
import { el } from './chat.js';
import { HttpError } from './settings.js';

/**
 * @typedef {{ id: string, status: string, progress?: number, stage?: string, chunks?: number, error?: { message?: string } | string }} DocumentView
 */

export const FINAL_STATUSES = ['indexed', 'failed', 'deleted'];

/**
 * A document's indexing progress as a fraction 0..1, whatever unit the service reports it in
 * (a fraction, a percentage, or processed/total counts).
 * @param {any} doc
 */
export function indexingFraction(doc) {
  if (doc.status === 'indexed') return 1;
  const progress = doc.progress;
  if (typeof progress === 'number') return progress > 1 ? Math.min(1, progress / 100) : progress;
  if (progress && typeof progress === 'object') {
    const done = progress.done ?? progress.processed ?? progress.embedded ?? 0;
    const total = progress.total ?? progress.chunks ?? 0;
    if (typeof progress.fraction === 'number') return progress.fraction;
    if (typeof progress.percent === 'number') return progress.percent / 100;
    if (total > 0) return Math.min(1, done / total);
  }
  return 0;
}

export class KnowledgeClient {
  /** @param {() => string} baseUrl @param {() => string} apiKey */
  constructor(baseUrl, apiKey) {
    this.baseUrl = baseUrl;
    this.apiKey = apiKey;
    /** docId → file name, so citations of uploaded documents read as names. */
    this.names = new Map();
  }

  /** Creates the knowledge base unless it exists (409 means it does). @param {string} kb */
  async ensureKnowledgeBase(kb) {
    const response = await fetch(`${this.baseUrl()}/v1/knowledge-bases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.apiKey()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: kb, name: kb }),
    });
    if (response.ok || response.status === 409) return;
    throw new HttpError(response.status, await errorMessage(response));
  }

  /**
   * Uploads one file; `onProgress` gets the fraction of bytes sent.
   * @param {string} kb @param {File} file @param {(fraction: number) => void} onProgress
   * @returns {Promise<DocumentView>}
   */
  upload(kb, file, onProgress) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open('POST', `${this.baseUrl()}/v1/knowledge-bases/${encodeURIComponent(kb)}/documents`);
      request.setRequestHeader('authorization', `Bearer ${this.apiKey()}`);
      request.responseType = 'json';
      request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
      request.onload = () => {
        const body = request.response ?? {};
        if (request.status >= 200 && request.status < 300) {
          const doc = body.document ?? body;
          const id = doc.id ?? doc.docId;
          this.names.set(id, file.name);
          return resolve({ ...doc, id });
        }
        reject(new HttpError(request.status, body?.error?.message ?? body?.message ?? `upload failed (${request.status})`));
      };
      request.onerror = () => reject(new HttpError(0, 'the knowledge service cannot be reached'));
      const form = new FormData();
      form.append('file', file, file.name);
      request.send(form);
    });
  }

  /** @param {string} kb @param {string} docId @returns {Promise<DocumentView>} */
  async document(kb, docId) {
    const response = await fetch(`${this.baseUrl()}/v1/knowledge-bases/${encodeURIComponent(kb)}/documents/${encodeURIComponent(docId)}`, {
      headers: { authorization: `Bearer ${this.apiKey()}` },
    });
    if (!response.ok) throw new HttpError(response.status, await errorMessage(response));
    const body = await response.json();
    return body.document ?? body;
  }
}

/** @param {Response} response */
async function errorMessage(response) {
  try {
    const body = await response.json();
    return body?.error?.message ?? body?.message ?? `${response.status}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

/** The upload panel: one row per file with a progress bar through sending and indexing. */
export class UploadView {
  /** @param {HTMLOListElement} list @param {KnowledgeClient} client */
  constructor(list, client) {
    this.list = list;
    this.client = client;
  }

  /** @param {string} kb @param {File[]} files */
  async uploadAll(kb, files) {
    try {
      await this.client.ensureKnowledgeBase(kb);
    } catch (error) {
      const row = this.row(files.map((f) => f.name).join(', '));
      return row.set('failed', `cannot create knowledge base "${kb}": ${/** @type {Error} */ (error).message}`, 0);
    }
    await Promise.all(files.map((file) => this.uploadOne(kb, file)));
  }

  /** @param {string} kb @param {File} file */
  async uploadOne(kb, file) {
    const row = this.row(file.name);
    row.set('uploading', 'uploading 0%', 0);
    let doc;
    try {
      // Sending counts for the first half of the bar, indexing for the second.
      doc = await this.client.upload(kb, file, (fraction) => row.set('uploading', `uploading ${Math.round(fraction * 100)}%`, fraction / 2));
    } catch (error) {
      return row.set('failed', /** @type {Error} */ (error).message, 0);
    }
    row.item.dataset['docId'] = doc.id;
    for (let attempt = 0; ; attempt++) {
      const fraction = indexingFraction(doc);
      if (doc.status === 'indexed') return row.set('indexed', `indexed${doc.chunks !== undefined ? ` · ${doc.chunks} chunks` : ''}`, 1);
      if (doc.status === 'failed') return row.set('failed', `failed: ${typeof doc.error === 'string' ? doc.error : doc.error?.message ?? 'unknown error'}`, 0);
      row.set('indexing', `${doc.stage ?? doc.status ?? 'indexing'} ${Math.round(fraction * 100)}%`, 0.5 + fraction / 2);
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 200 * 1.5 ** attempt)));
      try {
        doc = { ...(await this.client.document(kb, doc.id)), id: doc.id };
      } catch (error) {
        if (/** @type {{ status?: number }} */ (error).status === 404 || attempt > 300) return row.set('failed', /** @type {Error} */ (error).message, 0);
      }
    }
  }

  /** @param {string} name */
  row(name) {
    const bar = /** @type {HTMLProgressElement} */ (el('progress', { max: '1', value: '0' }));
    const status = el('span', { class: 'status' });
    const item = el('li', { class: 'upload', 'data-status': 'queued' }, [el('strong', {}, [name]), ' ', status, bar]);
    this.list.prepend(item);
    return {
      item,
      /** @param {string} state @param {string} text @param {number} fraction */
      set(state, text, fraction) {
        item.dataset['status'] = state;
        status.textContent = text;
        bar.value = fraction;
        bar.setAttribute('aria-label', `${name}: ${text}`);
      },
    };
  }
}
