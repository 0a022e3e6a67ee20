import { Counter, Gauge, register } from 'prom-client';

let instance: RtcMetrics | undefined;

/** What operators watch on the realtime edge; one set per process (prom-client refuses duplicates). */
export class RtcMetrics {
  readonly connections = new Gauge({ name: 'aip_rtc_connections', help: 'Open realtime connections by transport', labelNames: ['transport'], registers: [register] });
  readonly connectionsOpened = new Counter({ name: 'aip_rtc_connections_opened_total', help: 'Connections accepted (after hello) by transport', labelNames: ['transport'], registers: [register] });
  readonly closes = new Counter({ name: 'aip_rtc_closes_total', help: 'Connections closed by the server, by close code', labelNames: ['code'], registers: [register] });
  readonly bufferCloses = new Counter({ name: 'aip_rtc_buffer_closes_total', help: 'Connections closed because their send buffer passed the bound (slow consumers)', registers: [register] });
  readonly pushesAccepted = new Counter({ name: 'aip_rtc_pushes_accepted_total', help: 'Pushes consumed from the central topic, by kind and outcome (stored, duplicate, expired)', labelNames: ['kind', 'outcome'], registers: [register] });
  readonly pushesDelivered = new Counter({ name: 'aip_rtc_pushes_delivered_total', help: 'Push frames written to a connection for the first time', registers: [register] });
  readonly pushesResent = new Counter({ name: 'aip_rtc_pushes_resent_total', help: 'Push frames re-sent because they were not acked in time', registers: [register] });
  readonly pushesAcked = new Counter({ name: 'aip_rtc_pushes_acked_total', help: 'Pushes removed from inboxes by an ack', registers: [register] });
  readonly framesRejected = new Counter({ name: 'aip_rtc_frames_rejected_total', help: 'Inbound frames answered with an error, by code', labelNames: ['code'], registers: [register] });
  readonly chats = new Counter({ name: 'aip_rtc_chats_total', help: 'Chats over the realtime edge by outcome', labelNames: ['outcome'], registers: [register] });

  static for(): RtcMetrics {
    return (instance ??= new RtcMetrics());
  }
}
