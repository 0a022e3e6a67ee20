// The readiness probe that counts: a real gRPC MessagingService/QueryRoute call to the proxy, the
// path every rocketmq-client-nodejs client takes (proxy -> name server -> broker). Written by hand
// over node:http2 with a tiny protobuf writer/reader, so the tool needs no gRPC library and no
// generated code. With ACL on, the call is signed like the Node client signs it.

import { createHmac } from 'node:crypto';
import http2 from 'node:http2';
import { HEALTH_TOPIC } from './config.ts';
import type { BrokerCredentials } from './remoting.ts';

// Tiny protobuf writer for the gRPC probe.
function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}
function pbBytes(field: number, data: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(data.length), data]);
}
function pbVarint(field: number, n: number): Buffer {
  return Buffer.concat([varint(field << 3), varint(n)]);
}
function readVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++] ?? 0;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7;
  }
}
/** Top-level fields of a protobuf message: field number -> list of raw values. */
function pbFields(buf: Buffer): Map<number, (number | Buffer)[]> {
  const out = new Map<number, (number | Buffer)[]>();
  let pos = 0;
  while (pos < buf.length) {
    let key: number;
    [key, pos] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let val: number | Buffer;
    if (wire === 0) {
      [val, pos] = readVarint(buf, pos);
    } else if (wire === 2) {
      let len: number;
      [len, pos] = readVarint(buf, pos);
      val = buf.subarray(pos, pos + len);
      pos += len;
    } else if (wire === 1) {
      val = buf.subarray(pos, pos + 8);
      pos += 8;
    } else if (wire === 5) {
      val = buf.subarray(pos, pos + 4);
      pos += 4;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
    out.set(field, [...(out.get(field) ?? []), val]);
  }
  return out;
}

export interface GrpcRouteProbe { code: number; message: string; queues: number }

/**
 * A real gRPC call to the proxy: MessagingService/QueryRoute for `topic`.
 * code 20000 = OK (topic routable through proxy -> name server -> broker), 40402 = topic not found.
 */
export function grpcQueryRoute(endpoints: string, topic: string, timeoutMs = 5000): Promise<GrpcRouteProbe> {
  const i = endpoints.lastIndexOf(':');
  const host = endpoints.slice(0, i);
  const port = Number(endpoints.slice(i + 1));
  const req = Buffer.concat([
    pbBytes(1, pbBytes(2, Buffer.from(topic))),
    pbBytes(2, Buffer.concat([pbVarint(1, 1), pbBytes(2, Buffer.concat([pbBytes(1, Buffer.from(host)), pbVarint(2, port)]))])),
  ]);
  const frame = Buffer.alloc(5 + req.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(req.length, 1);
  req.copy(frame, 5);
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${endpoints}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`gRPC QueryRoute to ${endpoints} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    session.on('error', fail);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/apache.rocketmq.v2.MessagingService/QueryRoute',
      'content-type': 'application/grpc',
      te: 'trailers',
      'x-mq-language': 'NODE_JS',
      'x-mq-protocol': 'v2',
      'x-mq-client-version': 'aip-rmq-probe',
      'x-mq-client-id': `aip-probe-${process.pid}`,
      'x-mq-request-id': `${Date.now()}`,
      ...grpcAuthHeaders(),
    });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    let grpcMessage = '';
    stream.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
    });
    stream.on('trailers', (trailers) => {
      grpcStatus = String(trailers['grpc-status'] ?? grpcStatus ?? '');
      grpcMessage = String(trailers['grpc-message'] ?? '');
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', fail);
    stream.on('end', () => {
      clearTimeout(timer);
      session.close();
      if (grpcStatus !== '0') {
        reject(new Error(`gRPC QueryRoute failed: grpc-status=${grpcStatus} ${decodeURIComponent(grpcMessage)}`));
        return;
      }
      const data = Buffer.concat(chunks);
      if (data.length < 5) {
        reject(new Error('gRPC QueryRoute: empty response'));
        return;
      }
      const msg = data.subarray(5, 5 + data.readUInt32BE(1));
      const fields = pbFields(msg);
      const status = fields.get(1)?.[0];
      const sf = Buffer.isBuffer(status) ? pbFields(status) : new Map<number, (number | Buffer)[]>();
      const code = Number(sf.get(1)?.[0] ?? 0);
      const m = sf.get(2)?.[0];
      resolve({ code, message: Buffer.isBuffer(m) ? m.toString('utf8') : '', queues: fields.get(2)?.length ?? 0 });
    });
    stream.end(frame);
  });
}

let probeCredentials: BrokerCredentials | undefined;

/** Signs this process's probes from now on (set by `ensureBroker` for a broker started with `auth`). */
export function useProbeCredentials(credentials: BrokerCredentials | undefined): void {
  probeCredentials = credentials;
}

/** What the Node client sends to a proxy with authentication on: an HMAC-SHA1 of the request time. */
function grpcAuthHeaders(): Record<string, string> {
  if (!probeCredentials) return {};
  const dateTime = `${new Date().toISOString().split('.')[0]!.replace(/[-:]/g, '')}Z`;
  const signature = createHmac('sha1', probeCredentials.secretKey).update(dateTime).digest('hex').toUpperCase();
  return { 'x-mq-date-time': dateTime, authorization: `MQv2-HMAC-SHA1 Credential=${probeCredentials.accessKey}, SignedHeaders=x-mq-date-time, Signature=${signature}` };
}

/** True when the proxy at `endpoints` routes the health topic over gRPC. */
export async function proxyReady(endpoints: string): Promise<boolean> {
  try {
    const r = await grpcQueryRoute(endpoints, HEALTH_TOPIC, 3000);
    return r.code === 20000 && r.queues > 0;
  } catch {
    return false;
  }
}
