import { Inject, Injectable } from '@nestjs/common';
import type { EventInput } from '@aip/contracts';
import { EventPublisher } from '@aip/messaging';

type KbEventType = 'kb.change.upsert' | 'kb.change.delete' | 'kb.document.indexed' | 'kb.document.deleted' | 'kb.document.failed';

/** Publishes the knowledge events (typed by the contracts) to their topics: `kb-change` and `kb-lifecycle`. */
@Injectable()
export class KbEvents {
  constructor(@Inject(EventPublisher) private readonly publisher: EventPublisher) {}

  publish<T extends KbEventType>(type: T, data: EventInput<T>, tenantId: string) {
    return this.publisher.publish(type, data, { tenantId });
  }
}
