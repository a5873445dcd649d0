import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsRegistry } from '@keyward/platform';

/** Prometheus metrics of the kmip service, on its /metrics beside the process metrics. */
@Injectable()
export class KmipMetrics {
  readonly operations: Counter<'operation' | 'result'>;
  readonly duration: Histogram<'operation'>;
  readonly openConnections: Gauge;
  readonly connections: Counter<'outcome'>;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.operations = new Counter({
      name: 'keyward_kmip_operations_total',
      help: 'KMIP batch items by operation and result (success, or the Result Reason)',
      labelNames: ['operation', 'result'],
      registers,
    });
    this.duration = new Histogram({
      name: 'keyward_kmip_operation_duration_seconds',
      help: 'KMIP batch item latency by operation',
      labelNames: ['operation'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.openConnections = new Gauge({ name: 'keyward_kmip_open_connections', help: 'Open KMIP (mutual TLS) connections', registers });
    this.connections = new Counter({
      name: 'keyward_kmip_connections_total',
      help: 'KMIP connections by outcome: accepted (handshake passed), refused (TLS handshake failed) or over-limit (a connection cap)',
      labelNames: ['outcome'],
      registers,
    });
  }
}
