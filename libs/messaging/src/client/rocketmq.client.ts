import { ClientProxy, type ReadPacket } from '@nestjs/microservices';
import { isEventType, type EventInput, type EventType } from '@aip/contracts';
import type { EventPublisher, PublishOptions, PublishReceipt } from '../publisher/event.publisher.ts';

/** The payload of `client.emit(type, event)`: the event data and how to publish it. */
export interface OutgoingEvent<T extends EventType = EventType> extends PublishOptions {
  data: EventInput<T>;
}

/**
 * `ClientProxy` over the EventPublisher, for code written against Nest's `emit`:
 * `client.emit('kb.change.delete', { tenantId, data: { kbId, docId } })`. RocketMQ carries
 * events only, so `send` (request/response) is refused. Prefer EventPublisher where types matter.
 */
export class RocketMQClient extends ClientProxy {
  constructor(private readonly publisher: EventPublisher) {
    super();
  }

  override async connect(): Promise<void> {}

  override async close(): Promise<void> {
    await this.publisher.close();
  }

  override unwrap<T>(): T {
    return this.publisher as T;
  }

  protected override publish(): () => void {
    throw new Error('RocketMQ carries events only: use emit(), not send()');
  }

  protected override async dispatchEvent<T = PublishReceipt>(packet: ReadPacket<OutgoingEvent>): Promise<T> {
    const type = packet.pattern as unknown;
    if (typeof type !== 'string' || !isEventType(type)) throw new Error(`unknown event type ${String(type)}`);
    const { data, ...options } = packet.data;
    return (await this.publisher.publish(type, data as EventInput<typeof type>, options)) as T;
  }
}
