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

  constructor(initial: unknown = DEFAULT_CATALOGUE) {
    this.current = parseCatalogue(initial);
  }

  get catalogue(): Catalogue {
    return this.current;
  }

  get version(): number {
    return this.currentVersion;
  }

  /** Throws CatalogueError (and keeps the current catalogue) when the document is invalid. */
  apply(body: unknown, version: number): Catalogue {
    const next = parseCatalogue(body);
    this.current = next;
    this.currentVersion = version;
    return next;
  }
}
