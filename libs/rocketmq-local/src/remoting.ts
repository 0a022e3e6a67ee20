// Minimal client for RocketMQ's "remoting" protocol (the TCP protocol spoken by the name server,
// the broker and mqadmin), using only node:net.
//
// Why not mqadmin / a Java helper: one JVM start costs 1-3 s on a 2-core machine, and integration
// tests create unique topics and groups on every run. A remoting request costs a few milliseconds,
// needs no compiled helper and no cached classpath, and lets readiness checks ask the real
// name server / broker questions (cluster info, broker runtime info) without a JVM.
//
// Wire format (RemotingCommand, JSON serialisation):
//   int32 BE  total length (= 4 + headerLength + bodyLength)
//   int32 BE  (serializeType << 24) | headerLength      serializeType 0 = JSON
//   header    JSON {code, language, version, opaque, flag, remark?, extFields{string:string}}
//   body      raw bytes (JSON for most admin requests, stored-message bytes for pulls)
// flag bit 0 set = response. Responses repeat the request's opaque.

import { createHmac } from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';

/** An ACL user's key pair (RocketMQ ACL 2.0: username and password). */
export interface BrokerCredentials {
  readonly accessKey: string;
  readonly secretKey: string;
}

/**
 * The credentials admin requests are signed with, when the broker has authentication on: set by
 * `ensureBroker` for a broker it starts with `auth`, or from ROCKETMQ_ADMIN_ACCESS_KEY and
 * ROCKETMQ_ADMIN_SECRET_KEY. A broker without authentication ignores the signature.
 */
let adminCredentials: BrokerCredentials | undefined =
  process.env.ROCKETMQ_ADMIN_ACCESS_KEY && process.env.ROCKETMQ_ADMIN_SECRET_KEY
    ? { accessKey: process.env.ROCKETMQ_ADMIN_ACCESS_KEY, secretKey: process.env.ROCKETMQ_ADMIN_SECRET_KEY }
    : undefined;

export function useAdminCredentials(credentials: BrokerCredentials | undefined): void {
  adminCredentials = credentials;
}

/**
 * The signature of a remoting request (what the Java client's AclClientRPCHook sends): the values
 * of every header field plus `AccessKey`, in the order of their names, then the body, signed with
 * HMAC-SHA1 under the secret key, base64.
 */
export function signRemoting(fields: Record<string, string>, body: Buffer, credentials: BrokerCredentials): Record<string, string> {
  const signed: Record<string, string> = { ...fields, AccessKey: credentials.accessKey };
  const content = Buffer.concat([Buffer.from(Object.keys(signed).sort().map((name) => signed[name]).join(''), 'utf8'), body]);
  return { ...signed, Signature: createHmac('sha1', credentials.secretKey).update(content).digest('base64') };
}

/** Request codes used here (org.apache.rocketmq.remoting.protocol.RequestCode). */
export const RequestCode = {
  PULL_MESSAGE: 11,
  QUERY_CONSUMER_OFFSET: 14,
  UPDATE_AND_CREATE_TOPIC: 17,
  UPDATE_AND_CREATE_TOPIC_LIST: 18,
  GET_ALL_TOPIC_CONFIG: 21,
  UPDATE_BROKER_CONFIG: 25,
  GET_BROKER_RUNTIME_INFO: 28,
  GET_MIN_OFFSET: 29,
  GET_MAX_OFFSET: 30,
  GET_ROUTEINFO_BY_TOPIC: 105,
  GET_BROKER_CLUSTER_INFO: 106,
  UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: 200,
  GET_ALL_SUBSCRIPTIONGROUP_CONFIG: 201,
  UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST: 225,
  AUTH_CREATE_USER: 3001,
  AUTH_UPDATE_USER: 3002,
  AUTH_GET_USER: 3004,
  AUTH_CREATE_ACL: 3006,
  AUTH_DELETE_ACL: 3008,
  AUTH_GET_ACL: 3009,
} as const;

/** Response codes used here (org.apache.rocketmq.remoting.protocol.ResponseCode). */
export const ResponseCode = {
  SUCCESS: 0,
  SYSTEM_ERROR: 1,
  TOPIC_NOT_EXIST: 17,
  PULL_NOT_FOUND: 19,
  PULL_RETRY_IMMEDIATELY: 20,
  PULL_OFFSET_MOVED: 21,
  QUERY_NOT_FOUND: 22,
} as const;

/** MQVersion.Version.V5_5_0.ordinal(); brokers only use it to switch on old-client quirks. */
const CLIENT_VERSION = 513;

export interface RemotingResponse {
  code: number;
  remark?: string;
  extFields: Record<string, string>;
  body: Buffer;
}

export class RemotingError extends Error {
  readonly code: number;
  constructor(message: string, code: number) {
    super(message);
    this.name = 'RemotingError';
    this.code = code;
  }
}

let opaqueSeq = 1;

function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
}

/**
 * One connection, several requests. Use `withConnection` unless you need to keep it open.
 */
export class RemotingConnection {
  readonly addr: string;
  #socket: net.Socket | undefined;
  #buf: Buffer = Buffer.alloc(0);
  #pending = new Map<number, { resolve: (r: RemotingResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #closedError: Error | undefined;

  constructor(addr: string) {
    this.addr = addr;
  }

  connect(timeoutMs = 3000): Promise<void> {
    const { host, port } = splitAddr(this.addr);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect ${this.addr} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        this.#failAll(err);
        reject(err);
      });
      socket.on('close', () => this.#failAll(new Error(`connection to ${this.addr} closed`)));
      socket.on('data', (chunk: Buffer) => this.#onData(chunk));
      this.#socket = socket;
    });
  }

  #failAll(err: Error): void {
    this.#closedError ??= err;
    for (const [, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
  }

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 4) {
      const total = this.#buf.readInt32BE(0);
      if (this.#buf.length < 4 + total) return;
      const frame = this.#buf.subarray(4, 4 + total);
      this.#buf = this.#buf.subarray(4 + total);
      const headerField = frame.readInt32BE(0);
      const serializeType = (headerField >>> 24) & 0xff;
      const headerLen = headerField & 0xffffff;
      if (serializeType !== 0) {
        this.#failAll(new Error(`unsupported serialize type ${serializeType} from ${this.addr}`));
        return;
      }
      const header = parseLenientJson(frame.subarray(4, 4 + headerLen).toString('utf8')) as {
        code: number; opaque: number; flag: number; remark?: string; extFields?: Record<string, string>;
      };
      const body = frame.subarray(4 + headerLen);
      if ((header.flag & 1) === 0) continue; // a request from the server (e.g. a notification): ignore
      const p = this.#pending.get(header.opaque);
      if (!p) continue;
      this.#pending.delete(header.opaque);
      clearTimeout(p.timer);
      p.resolve({ code: header.code, remark: header.remark, extFields: header.extFields ?? {}, body: Buffer.from(body) });
    }
  }

  request(code: number, extFields: Record<string, string | number | boolean | undefined> = {}, body?: Buffer | string, timeoutMs = 5000): Promise<RemotingResponse> {
    const socket = this.#socket;
    if (!socket || this.#closedError) {
      return Promise.reject(this.#closedError ?? new Error('not connected'));
    }
    let fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(extFields)) {
      if (v !== undefined) fields[k] = String(v);
    }
    const bodyBuf = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    if (adminCredentials) fields = signRemoting(fields, bodyBuf, adminCredentials);
    const opaque = opaqueSeq++;
    const header = Buffer.from(JSON.stringify({
      code, language: 'JAVA', version: CLIENT_VERSION, opaque, flag: 0, serializeTypeCurrentRPC: 'JSON', extFields: fields,
    }), 'utf8');
    const prefix = Buffer.alloc(8);
    prefix.writeInt32BE(4 + header.length + bodyBuf.length, 0);
    prefix.writeInt32BE(header.length & 0xffffff, 4);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(opaque);
        reject(new Error(`remoting request ${code} to ${this.addr} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(opaque, { resolve, reject, timer });
      socket.write(Buffer.concat([prefix, header, bodyBuf]));
    });
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}

export async function withConnection<T>(addr: string, fn: (c: RemotingConnection) => Promise<T>, connectTimeoutMs = 3000): Promise<T> {
  const c = new RemotingConnection(addr);
  await c.connect(connectTimeoutMs);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** One request on a fresh connection; throws RemotingError unless the code is one of `okCodes`. */
export async function invoke(addr: string, code: number, extFields: Record<string, string | number | boolean | undefined> = {},
  body?: Buffer | string, opts: { timeoutMs?: number; okCodes?: number[] } = {}): Promise<RemotingResponse> {
  const res = await withConnection(addr, (c) => c.request(code, extFields, body, opts.timeoutMs ?? 5000));
  const ok = opts.okCodes ?? [ResponseCode.SUCCESS];
  if (!ok.includes(res.code)) {
    throw new RemotingError(`request ${code} to ${addr} failed: code=${res.code} ${res.remark ?? ''}`.trim(), res.code);
  }
  return res;
}

/**
 * fastjson writes maps with non-string keys as `{0:"127.0.0.1:10911"}` (e.g. BrokerData.brokerAddrs),
 * which JSON.parse rejects. Quote bare numeric keys outside strings, then parse.
 */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // fall through
  }
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (inString) {
      out += ch;
      if (ch === '\\') {
        out += text[++i] ?? '';
      } else if (ch === '"') {
        inString = false;
      }
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      continue;
    }
    if (ch === '{' || ch === ',') {
      out += ch;
      const m = /^(\s*)(-?\d+)(\s*):/.exec(text.slice(i + 1));
      if (m) {
        out += `${m[1]}"${m[2]}"${m[3]}:`;
        i += m[0].length;
      }
      continue;
    }
    out += ch;
  }
  return JSON.parse(out);
}

// ---------------------------------------------------------------------------------------------
// Stored message decoding (org.apache.rocketmq.common.message.MessageDecoder), for pull results.

const MAGIC_V1 = -626843481; // 0xDAA320A7
const MAGIC_V2 = -626843477; // 0xDAA320AB (2-byte topic length)
const FLAG_COMPRESSED = 0x1;
const FLAG_BORNHOST_V6 = 0x1 << 4;
const FLAG_STOREHOST_V6 = 0x1 << 5;
const COMPRESSION_TYPE_MASK = 0x7 << 8; // 0x100 lz4, 0x200 zstd, 0x300 zlib; 0 (old clients) = zlib

export interface DecodedMessage {
  topic: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: string;
  storeTimestamp: number;
  storeHost: string;
  reconsumeTimes: number;
  body: Buffer;
  bodyCompressedUnsupported: boolean;
  properties: Record<string, string>;
}

function readHost(buf: Buffer, pos: number, v6: boolean): [string, number] {
  const len = v6 ? 16 : 4;
  const ip = v6
    ? Array.from({ length: 8 }, (_, k) => buf.readUInt16BE(pos + k * 2).toString(16)).join(':')
    : Array.from(buf.subarray(pos, pos + 4)).join('.');
  const port = buf.readInt32BE(pos + len);
  return [`${ip}:${port}`, pos + len + 4];
}

export function decodeMessages(buf: Buffer): DecodedMessage[] {
  const out: DecodedMessage[] = [];
  let pos = 0;
  while (pos + 8 <= buf.length) {
    const start = pos;
    const totalSize = buf.readInt32BE(pos);
    const magic = buf.readInt32BE(pos + 4);
    if (magic !== MAGIC_V1 && magic !== MAGIC_V2) throw new Error(`bad message magic code ${magic} at ${pos}`);
    pos += 8;
    pos += 4; // body crc
    const queueId = buf.readInt32BE(pos); pos += 4;
    pos += 4; // flag
    const queueOffset = Number(buf.readBigInt64BE(pos)); pos += 8;
    const commitLogOffset = Number(buf.readBigInt64BE(pos)); pos += 8;
    const sysFlag = buf.readInt32BE(pos); pos += 4;
    const bornTimestamp = Number(buf.readBigInt64BE(pos)); pos += 8;
    let bornHost: string;
    [bornHost, pos] = readHost(buf, pos, (sysFlag & FLAG_BORNHOST_V6) !== 0);
    const storeTimestamp = Number(buf.readBigInt64BE(pos)); pos += 8;
    let storeHost: string;
    [storeHost, pos] = readHost(buf, pos, (sysFlag & FLAG_STOREHOST_V6) !== 0);
    const reconsumeTimes = buf.readInt32BE(pos); pos += 4;
    pos += 8; // prepared transaction offset
    const bodyLen = buf.readInt32BE(pos); pos += 4;
    let body = Buffer.from(buf.subarray(pos, pos + bodyLen)); pos += bodyLen;
    let bodyCompressedUnsupported = false;
    if ((sysFlag & FLAG_COMPRESSED) !== 0) {
      const ctype = sysFlag & COMPRESSION_TYPE_MASK;
      if (ctype === 0 || ctype === 0x300) {
        body = zlib.inflateSync(body);
      } else {
        bodyCompressedUnsupported = true;
      }
    }
    let topicLen: number;
    if (magic === MAGIC_V2) {
      topicLen = buf.readInt16BE(pos); pos += 2;
    } else {
      topicLen = buf.readInt8(pos); pos += 1;
    }
    const topic = buf.subarray(pos, pos + topicLen).toString('utf8'); pos += topicLen;
    const propsLen = buf.readInt16BE(pos); pos += 2;
    const propsStr = buf.subarray(pos, pos + propsLen).toString('utf8'); pos += propsLen;
    const properties: Record<string, string> = {};
    for (const kv of propsStr.split('\u0002')) {
      if (!kv) continue;
      const sep = kv.indexOf('\u0001');
      if (sep < 0) continue;
      properties[kv.slice(0, sep)] = kv.slice(sep + 1);
    }
    out.push({
      topic, queueId, queueOffset, commitLogOffset, sysFlag, bornTimestamp, bornHost, storeTimestamp, storeHost,
      reconsumeTimes, body, bodyCompressedUnsupported, properties,
    });
    pos = start + totalSize;
  }
  return out;
}
