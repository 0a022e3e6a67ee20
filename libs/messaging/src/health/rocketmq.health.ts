import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { SubscriptionState } from '../consumer/subscription.ts';
import { BrokerProbe } from './broker.probe.ts';

/** What every part of the transport reports about the broker, for health checks and logs. */
export class BrokerHealth {
  private readonly subscriptions = new Map<string, { state: SubscriptionState; error?: string }>();

  constructor(readonly probe: BrokerProbe) {}

  report(subscription: string, state: SubscriptionState, error?: string): void {
    this.subscriptions.set(subscription, error ? { state, error } : { state });
  }

  async check(timeoutMs?: number) {
    const probe = await this.probe.check(timeoutMs);
    const subscriptions = Object.fromEntries(this.subscriptions);
    const consuming = [...this.subscriptions.values()].every((s) => s.state === 'up' || s.state === 'stopped');
    return { up: probe.up && consuming, probe, subscriptions };
  }
}

/** `@nestjs/terminus` indicator: down when the broker does not answer or a subscription cannot consume. */
@Injectable()
export class RocketMQHealthIndicator {
  constructor(
    private readonly health: BrokerHealth,
    private readonly indicator: HealthIndicatorService,
  ) {}

  async isHealthy(key = 'rocketmq') {
    const session = this.indicator.check(key);
    const result = await this.health.check();
    const details = { latencyMs: result.probe.latencyMs, subscriptions: result.subscriptions, ...(result.probe.error ? { error: result.probe.error } : {}) };
    return result.up ? session.up(details) : session.down(details);
  }
}
