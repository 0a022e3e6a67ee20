import { pushId, REALTIME_LIMITS } from '@aip/contracts';
import { isStreamId } from '@aip/tasks';
import { z } from 'zod';
import { PUSH_ID_MESSAGE } from '../protocol/push-id.ts';

export const streamId = pushId.refine(isStreamId, PUSH_ID_MESSAGE);

/** `POST /v1/ack`: the pushes received, by id or up to one id. */
export const ackBody = z.union([z.object({ ids: z.array(streamId).min(1).max(REALTIME_LIMITS.maxAckIds) }), z.object({ upTo: streamId })]);
