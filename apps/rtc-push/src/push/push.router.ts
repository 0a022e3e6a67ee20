import type { Envelope } from '@aip/contracts';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DeliveryHub } from '../delivery/delivery.hub.ts';
import type { InboxStore, PushContent, UserRef } from '../delivery/inbox.store.ts';
import type { PresenceStore } from '../delivery/presence.store.ts';
import type { RtcMetrics } from '../delivery/rtc.metrics.ts';

/**
 * Routes a push from the central topic to the user's connections, wherever they are: append to
 * the user's inbox (durable, deduplicated, sequenced), then ring the instances that hold the user
 * (presence) on their pub/sub channels. The consuming instance does one append and one publish per
 * push, never a scan of other instances' users; the owner reads the inbox itself, so a doorbell
 * carries no payload and a lost one costs latency, not data.
 */
export class PushRouter {
  constructor(
    private readonly inbox: InboxStore,
    private readonly presence: PresenceStore,
    private readonly hub: DeliveryHub,
    private readonly publisher: Redis,
    private readonly instanceId: string,
    private readonly metrics: RtcMetrics,
    private readonly logger: Logger,
  ) {}

  /** Returns the push id; resolves only after the inbox append, so the broker ack follows durability. */
  async route(event: Envelope<'rtc.push.proactive'> | Envelope<'rtc.push.notice'>): Promise<string | undefined> {
    const user: UserRef = { tenantId: event.tenantId, userId: event.data.userId };
    const kind = event.type === 'rtc.push.proactive' ? 'proactive' : 'notice';
    const content = toContent(event);
    if (content.expiresAt && Date.parse(content.expiresAt) <= Date.now()) {
      this.metrics.pushesAccepted.inc({ kind, outcome: 'expired' });
      return undefined;
    }
    const { id, created } = await this.inbox.append(user, content, event.data.dedupeKey ?? `event:${event.id}`);
    this.metrics.pushesAccepted.inc({ kind, outcome: created ? 'stored' : 'duplicate' });
    // A duplicate still rings: the first attempt may have crashed between append and doorbell.
    await this.ring(user);
    this.logger.debug({ tenantId: user.tenantId, pushId: id, created }, 'push routed');
    return id;
  }

  async ring(user: UserRef): Promise<void> {
    const instances = await this.presence.instances(user);
    await Promise.all(
      instances.map((instance) => (instance === this.instanceId ? this.hub.notify(user) : this.publisher.publish(this.presence.channel(instance), JSON.stringify(user)))),
    );
  }
}

function toContent(event: Envelope<'rtc.push.proactive'> | Envelope<'rtc.push.notice'>): PushContent {
  if (event.type === 'rtc.push.proactive') {
    const data = (event as Envelope<'rtc.push.proactive'>).data;
    return {
      kind: 'proactive', intent: data.intent, text: data.text, time: event.time,
      ...(Object.keys(data.slots).length > 0 ? { slots: data.slots } : {}),
      ...(data.sessionId ? { sessionId: data.sessionId } : {}),
      ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}),
    };
  }
  const data = (event as Envelope<'rtc.push.notice'>).data;
  return { kind: 'notice', title: data.title, text: data.text, time: event.time, ...(data.link ? { link: data.link } : {}) };
}

/** Listens on this instance's doorbell channel and hands each ring to the hub. */
export async function listenForDoorbells(subscriber: Redis, channel: string, hub: DeliveryHub, logger: Logger): Promise<void> {
  subscriber.on('message', (received: string, message: string) => {
    if (received !== channel) return;
    try {
      const user = JSON.parse(message) as UserRef;
      if (typeof user.tenantId === 'string' && typeof user.userId === 'string') hub.notify(user);
    } catch {
      logger.warn('ignored a malformed doorbell');
    }
  });
  await subscriber.subscribe(channel);
}
