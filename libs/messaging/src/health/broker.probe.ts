import { credentials as grpcCredentials, type ServiceError } from '@grpc/grpc-js';
import { assertNamespace, namespaced } from '@aip/contracts';
import { Producer } from 'rocketmq-client-nodejs';
import servicePb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import definitionPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import grpcPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_grpc_pb.js';
import type { RocketMQConnectionOptions } from '../common/rocketmq.options.ts';

export interface ProbeResult {
  up: boolean;
  latencyMs: number;
  error?: string;
}

/**
 * A real round trip to the broker: asks the proxy for the route of a topic, which needs the
 * proxy, the name server and a broker. A started Producer proves nothing (it resolves with no
 * broker at all), and an open port proves even less. The topic is named as in the contracts
 * (`probeTopic`); the probe asks for it in the connection's namespace.
 */
export class BrokerProbe {
  private readonly client: InstanceType<typeof grpcPb.MessagingServiceClient>;
  private readonly signer: Producer;
  private readonly endpoints: InstanceType<typeof definitionPb.Endpoints>;
  /** The broker's name of the probed topic. */
  readonly topic: string;

  constructor(connection: RocketMQConnectionOptions, topic: string) {
    this.topic = namespaced(assertNamespace(connection.namespace ?? ''), topic);
    const [host = '127.0.0.1', port = '8081'] = connection.endpoints.split(':');
    this.client = new grpcPb.MessagingServiceClient(
      connection.endpoints,
      connection.sslEnabled ? grpcCredentials.createSsl() : grpcCredentials.createInsecure(),
    );
    // Only used for its request headers (client id, signature with the session credentials).
    this.signer = new Producer({
      endpoints: connection.endpoints,
      namespace: '',
      ...(connection.credentials ? { sessionCredentials: connection.credentials } : {}),
    });
    this.endpoints = new definitionPb.Endpoints().setScheme(definitionPb.AddressScheme.IPV4);
    this.endpoints.addAddresses().setHost(host).setPort(Number(port));
  }

  check(timeoutMs = 2_000): Promise<ProbeResult> {
    const started = Date.now();
    const request = new servicePb.QueryRouteRequest()
      .setTopic(new definitionPb.Resource().setName(this.topic))
      .setEndpoints(this.endpoints);
    return new Promise((resolve) => {
      this.client.queryRoute(request, this.signer.getRequestMetadata(), { deadline: Date.now() + timeoutMs }, (error: ServiceError | null, response) => {
        const latencyMs = Date.now() - started;
        if (error) return resolve({ up: false, latencyMs, error: error.details || error.message });
        const status = response?.getStatus();
        if (status?.getCode() !== definitionPb.Code.OK) {
          return resolve({ up: false, latencyMs, error: `route query answered ${status?.getCode()}: ${status?.getMessage()}` });
        }
        resolve({ up: true, latencyMs });
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
