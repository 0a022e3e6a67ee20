import { createGroups, createTopics, type GroupSpec, type TopicSpec } from '@aip/rocketmq-local';
import { dlqList, type DlqEntry } from '@aip/rocketmq-local/dlq';
import { eventually } from './waiting.ts';

/** The broker the integration tests talk to: set by the global setup (or by the environment). */
export function testConnection(): { endpoints: string; requestTimeoutMs: number } {
  return { endpoints: process.env['ROCKETMQ_ENDPOINTS'] ?? '127.0.0.1:8081', requestTimeoutMs: 3_000 };
}

const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let counter = 0;

/** A name no other test run uses: tests never share topics, groups or keys. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${runId}-${++counter}`;
}

/** Creates topics and consumer groups for one test file (one admin round trip each). */
export async function provisionBroker(topics: TopicSpec[], groups: GroupSpec[] = []): Promise<void> {
  if (topics.length > 0) await createTopics(topics);
  if (groups.length > 0) await createGroups(groups);
}

/** Waits until the group's dead-letter topic holds `expected` messages and returns them (read without consuming). */
export async function deadLetters(group: string, expected: number, timeoutMs = 60_000): Promise<DlqEntry[]> {
  let entries: DlqEntry[] = [];
  await eventually(async () => {
    entries = await dlqList(group).catch(() => []);
    return entries.length >= expected;
  }, `${expected} message(s) in %DLQ%${group}`, timeoutMs);
  return entries;
}
