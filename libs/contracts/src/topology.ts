// The broker topology of the platform, declared once as data. The broker bootstrap
// (tools/rocketmq) creates exactly these topics and groups; the transport reads message types
// and group settings from here. RocketMQ topic names allow only letters, digits, '-', '_', '%'
// and '|': no dots.

export type MessageType = 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION';

export interface TopicSpec {
  readonly name: string;
  readonly messageType: MessageType;
  readonly description: string;
}

export interface ConsumerGroupSpec {
  readonly name: string;
  /** FIFO consumption: messages of one message group are delivered one at a time, in order. */
  readonly orderly: boolean;
  /** Delivery attempts before the broker moves a message to `%DLQ%<group>`. */
  readonly maxAttempts: number;
  readonly description: string;
}

export const TOPICS = {
  aiRequest: { name: 'ai-request', messageType: 'NORMAL', description: 'Requests submitted by clients, waiting for admission.' },
  aiInference: { name: 'ai-inference', messageType: 'NORMAL', description: 'Admitted requests, pulled by inference workers with free slots.' },
  aiLifecycle: { name: 'ai-lifecycle', messageType: 'NORMAL', description: 'Request lifecycle: rejected, started, completed, failed, cancelled.' },
  kbChange: { name: 'kb-change', messageType: 'FIFO', description: 'Knowledge base changes (uploads and change-data-capture); message group = kbId:docId.' },
  kbLifecycle: { name: 'kb-lifecycle', messageType: 'NORMAL', description: 'Knowledge document lifecycle: indexed, deleted, failed.' },
  rtcPush: { name: 'rtc-push', messageType: 'FIFO', description: 'The central topic of proactive prompts and notices; message group = user id.' },
  configChange: { name: 'config-change', messageType: 'NORMAL', description: 'Run-time configuration changes, broadcast to every instance.' },
} as const satisfies Record<string, TopicSpec>;

export type TopicKey = keyof typeof TOPICS;
export type TopicName = (typeof TOPICS)[TopicKey]['name'];

const DEFAULT_MAX_ATTEMPTS = 16;

export const CONSUMER_GROUPS = {
  rateLimiter: { name: 'rate-limiter', orderly: false, maxAttempts: DEFAULT_MAX_ATTEMPTS, description: 'Admission decisions and reservation reconciliation.' },
  inference: { name: 'inference', orderly: false, maxAttempts: 3, description: 'Inference workers; a request that fails three times is dead-lettered.' },
  knowledgeIngest: { name: 'knowledge-ingest', orderly: true, maxAttempts: DEFAULT_MAX_ATTEMPTS, description: 'Applies knowledge changes in order per document.' },
  intentScheduler: { name: 'intent-scheduler', orderly: false, maxAttempts: DEFAULT_MAX_ATTEMPTS, description: 'Records session activity (submitted, completed) and new-content triggers.' },
  rtcPush: { name: 'rtc-push', orderly: true, maxAttempts: DEFAULT_MAX_ATTEMPTS, description: 'Delivers pushes in order per user.' },
} as const satisfies Record<string, ConsumerGroupSpec>;

export type ConsumerGroupKey = keyof typeof CONSUMER_GROUPS;
export type ConsumerGroupName = (typeof CONSUMER_GROUPS)[ConsumerGroupKey]['name'];

export interface BrokerTopology {
  readonly topics: readonly { name: string; messageType: MessageType }[];
  readonly groups: readonly { name: string; orderly: boolean; retryMaxTimes: number }[];
}

/** What the broker must have before any service starts: read by `tools/rocketmq`. */
export function brokerTopology(): BrokerTopology {
  return {
    topics: Object.values(TOPICS).map(({ name, messageType }) => ({ name, messageType })),
    // RocketMQ counts retries after the first delivery: attempts = retries + 1.
    groups: Object.values(CONSUMER_GROUPS).map(({ name, orderly, maxAttempts }) => ({ name, orderly, retryMaxTimes: maxAttempts - 1 })),
  };
}
