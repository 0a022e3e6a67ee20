import { parseCatalogue, type Catalogue } from '@aip/contracts';
import { DEFAULT_CATALOGUE } from './default-catalogue.ts';

/**
 * The catalogue in force. Starts with the built-in default; `apply` swaps in a newer document
 * (the `intents` run-time document) only if it is valid — a bad document is refused with the
 * reasons and the previous catalogue stays.
 */
export class CatalogueHolder {
  private current: Catalogue;
  private currentVersion = 0;

  private readonly startup: Catalogue;

  constructor(initial: unknown = DEFAULT_CATALOGUE) {
    this.startup = parseCatalogue(initial);
    this.current = this.startup;
  }

  get catalogue(): Catalogue {
    return this.current;
  }

  get version(): number {
    return this.currentVersion;
  }

  /** Throws CatalogueError (and keeps the current catalogue) when the document is invalid. */
  apply(body: unknown, version: number): Catalogue {
    // null: the document was deleted, the start-up catalogue is in force again.
    const next = body === null ? this.startup : parseCatalogue(body);
    this.current = next;
    this.currentVersion = version;
    return next;
  }
}
