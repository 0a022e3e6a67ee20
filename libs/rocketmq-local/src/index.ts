// @aip/rocketmq-local: start / stop / inspect a real Apache RocketMQ 5 (name server + proxy in LOCAL
// mode with the broker embedded) from Maven Central artifacts, sized for a 2-core machine. Everything
// lives under the project-local runtime folder (default <repo>/.runtime/rocketmq). Node built-ins
// only; erasable TypeScript so that Node runs it directly (`node tools/rocketmq/cli.ts`, Jest's
// globalSetup) without a build.
//
// Programmatic API (e.g. for a Jest globalSetup):
//   const { endpoints } = await ensureBroker();              // idempotent
//   await createTopics([{ name: 't', messageType: 'FIFO' }]);
//   await createGroups([{ name: 'g', orderly: true, retryMaxTimes: 3 }]);
//   await stopBroker();
//
// The modules, in the order a start goes through them (README.md has the details):
//   config.ts      options, ports, folders (resolveConfig)
//   jars.ts        the RocketMQ jars from Maven Central
//   conf-files.ts  namesrv.conf, broker.conf, rmq-proxy.json, ACL 2.0 settings
//   jvm.ts         the two JVMs: flags, spawn, pid files
//   probes.ts      port / name server / broker questions over the remoting protocol
//   grpc-probe.ts  the hand-written gRPC QueryRoute readiness probe
//   lock.ts        the start lock
//   lifecycle.ts   ensureBroker, stopBroker, wipeBroker
//   status.ts      brokerStatus
//   admin.ts       topics and consumer groups
//   mqadmin.ts     Apache mqadmin with the broker's jars
//   remoting.ts    the remoting protocol client everything above talks through
// Dead letters and access control are the subpaths @aip/rocketmq-local/dlq and /acl.

export {
  HEALTH_TOPIC, ROCKETMQ_VERSION, resolveConfig,
  type BrokerEndpoints, type BrokerOptions, type GroupSpec, type MessageType, type ResolvedConfig, type TopicSpec,
} from './config.ts';
export { resolveJars } from './jars.ts';
export { authBrokerLines, authProxySettings } from './conf-files.ts';
export { jvmArgs } from './jvm.ts';
export { brokerRuntimeInfo, clusterInfo, masterBrokers, portOpen } from './probes.ts';
export { grpcQueryRoute, proxyReady, type GrpcRouteProbe } from './grpc-probe.ts';
export { ensureBroker, stopBroker, wipeBroker } from './lifecycle.ts';
export { brokerStatus, type BrokerStatus } from './status.ts';
export { adminBrokers, createGroups, createTopics, topicRoute, type AdminOptions, type ApplyResult } from './admin.ts';
export { mqadmin, mqadminCommand } from './mqadmin.ts';
