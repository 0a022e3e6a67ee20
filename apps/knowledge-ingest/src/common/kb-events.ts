import { Inject, Injectable } from '@nestjs/common';
import type { EventInput } from '@aip/contracts';
import { EventPublisher } from '@aip/messaging';
import { ENV } from '@aip/runtime';
import type { KnowledgeIngestEnv } from '../knowledge-ingest.config.ts';

type KbEventType = 'kb.change.upsert' | 'kb.change.delete' | 'kb.document.indexed' | 'kb.document.deleted' | 'kb.document.failed';

/** Publishes the knowledge events (typed by the contracts) to the configured topics. */
@Injectable()
export class KbEvents {
  constructor(
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(ENV) private readonly env: KnowledgeIngestEnv,
  ) {}

  publish<T extends KbEventType>(type: T, data: EventInput<T>, tenantId: string) {
    const topic = type.startsWith('kb.change.') ? this.env.KB_CHANGE_TOPIC : this.env.KB_LIFECYCLE_TOPIC;
    return this.publisher.publish(type, data, { tenantId, topic });
  }
}
