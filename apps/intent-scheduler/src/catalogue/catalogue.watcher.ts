import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigDocuments, LOGGER, type Watching } from '@aip/runtime';
import type { Logger } from 'pino';
import { SchedulerMetrics } from '../metrics/scheduler.metrics.ts';
import { CatalogueError } from '@aip/contracts';
import { CatalogueHolder } from './catalogue.holder.ts';

export const INTENTS_DOCUMENT = 'intents';

/**
 * Hot reload: the `intents` run-time document (versioned in Redis) replaces the catalogue within a
 * second on every replica. An invalid version is refused with its reasons; the last good one stays.
 */
@Injectable()
export class CatalogueWatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private watching: Watching | undefined;

  constructor(
    @Inject(ConfigDocuments) private readonly documents: ConfigDocuments,
    @Inject(CatalogueHolder) private readonly holder: CatalogueHolder,
    @Inject(SchedulerMetrics) private readonly metrics: SchedulerMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.watching = this.documents.watch(
      INTENTS_DOCUMENT,
      ({ body, version }) => {
        try {
          const catalogue = this.holder.apply(body, version);
          this.metrics.catalogueLoads.inc({ result: 'applied' });
          this.logger.info({ version, intents: catalogue.intents.map((intent) => intent.id) }, 'intent catalogue applied');
        } catch (error) {
          if (!(error instanceof CatalogueError)) throw error;
          this.metrics.catalogueLoads.inc({ result: 'refused' });
          // Not rethrown: the watcher would retry the same bad version every second.
          this.logger.error({ version, issues: error.issues }, 'intent catalogue refused; keeping the previous one');
        }
      },
      1_000,
      (error) => this.logger.warn({ err: String(error) }, 'could not load the intent catalogue document'),
    );
  }

  // Before the HTTP server (and with it Redis) closes.
  beforeApplicationShutdown(): void {
    this.watching?.stop();
  }
}
