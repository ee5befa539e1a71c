// The OTLP metrics protobuf schema (open-telemetry/opentelemetry-proto at ac2c4b5, Apache-2.0:
// collector/metrics/v1/metrics_service.proto and what it imports) as protobufjs' JSON descriptor.
// Written as tables of `name: [type, id, label?]`: the helpers below add what protobufjs'
// `root.toJSON()` of the .proto files holds besides (snake_case `protoName`, `proto3_optional`,
// the packages' options), so `Root.fromJSON` builds the same schema.

/** A field: its type, its number, and `repeated` or `optional` (proto3 `optional`) if either. */
type FieldSpec = readonly [type: string, id: number, label?: 'repeated' | 'optional'];

interface FieldJson {
  type: string;
  id: number;
  rule?: 'repeated';
  protoName?: string;
  options?: { proto3_optional: true };
}

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** protobufjs field descriptors from a table; `protoName` where the .proto's name differs. */
function fields(specs: Readonly<Record<string, FieldSpec>>): Record<string, FieldJson> {
  const out: Record<string, FieldJson> = {};
  for (const [name, [type, id, label]] of Object.entries(specs)) {
    // protobufjs lists `rule` first.
    const field: FieldJson = label === 'repeated' ? { rule: 'repeated', type, id } : { type, id };
    const protoName = snakeCase(name);
    if (protoName !== name) field.protoName = protoName;
    if (label === 'optional') field.options = { proto3_optional: true };
    out[name] = field;
  }
  return out;
}

/** The file options every opentelemetry-proto package declares. */
function packageOptions(namespace: string, outerClass: string) {
  const path = namespace.toLowerCase();
  return {
    csharp_namespace: `OpenTelemetry.Proto.${namespace}.V1`,
    java_multiple_files: true,
    java_package: `io.opentelemetry.proto.${path}.v1`,
    java_outer_classname: outerClass,
    go_package: `go.opentelemetry.io/proto/otlp/${path.replace('.', '/')}/v1`,
  };
}

const R = 'repeated';
const O = 'optional';
const KEY_VALUE = 'opentelemetry.proto.common.v1.KeyValue';
/** The two timestamps of every data point. */
const POINT_TIMES = { startTimeUnixNano: ['fixed64', 2], timeUnixNano: ['fixed64', 3] } as const;
/** The proto3 `optional` fields of both histograms' points, each its own synthetic oneof. */
const OPTIONAL_SUM_MIN_MAX = {
  _sum: { oneof: ['sum'] },
  _min: { oneof: ['min'] },
  _max: { oneof: ['max'] },
};
const NUMBER_VALUE = { value: { oneof: ['asDouble', 'asInt'] } };

/** A metric kind's message: its points, and how they aggregate over time when `temporal`. */
function metricData(point: string, temporal: boolean, more: Record<string, FieldSpec> = {}) {
  return {
    fields: fields({
      dataPoints: [point, 1, R],
      ...(temporal ? { aggregationTemporality: ['AggregationTemporality', 2] } : {}),
      ...more,
    }),
  };
}

const collector = {
  options: packageOptions('Collector.Metrics', 'MetricsServiceProto'),
  nested: {
    MetricsService: {
      methods: {
        Export: {
          requestType: 'ExportMetricsServiceRequest',
          responseType: 'ExportMetricsServiceResponse',
        },
      },
    },
    ExportMetricsServiceRequest: {
      fields: fields({ resourceMetrics: ['opentelemetry.proto.metrics.v1.ResourceMetrics', 1, R] }),
    },
    ExportMetricsServiceResponse: {
      fields: fields({ partialSuccess: ['ExportMetricsPartialSuccess', 1] }),
    },
    ExportMetricsPartialSuccess: {
      fields: fields({ rejectedDataPoints: ['int64', 1], errorMessage: ['string', 2] }),
    },
  },
};

const metrics = {
  options: packageOptions('Metrics', 'MetricsProto'),
  nested: {
    MetricsData: { fields: fields({ resourceMetrics: ['ResourceMetrics', 1, R] }) },
    ResourceMetrics: {
      fields: fields({
        resource: ['opentelemetry.proto.resource.v1.Resource', 1],
        scopeMetrics: ['ScopeMetrics', 2, R],
        schemaUrl: ['string', 3],
      }),
      reserved: [[1000, 1000]],
    },
    ScopeMetrics: {
      fields: fields({
        scope: ['opentelemetry.proto.common.v1.InstrumentationScope', 1],
        metrics: ['Metric', 2, R],
        schemaUrl: ['string', 3],
      }),
    },
    Metric: {
      oneofs: {
        data: { oneof: ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] },
      },
      fields: fields({
        name: ['string', 1],
        description: ['string', 2],
        unit: ['string', 3],
        gauge: ['Gauge', 5],
        sum: ['Sum', 7],
        histogram: ['Histogram', 9],
        exponentialHistogram: ['ExponentialHistogram', 10],
        summary: ['Summary', 11],
        metadata: [KEY_VALUE, 12, R],
      }),
      reserved: [
        [4, 4],
        [6, 6],
        [8, 8],
      ],
    },
    Gauge: metricData('NumberDataPoint', false),
    Sum: metricData('NumberDataPoint', true, { isMonotonic: ['bool', 3] }),
    Histogram: metricData('HistogramDataPoint', true),
    ExponentialHistogram: metricData('ExponentialHistogramDataPoint', true),
    Summary: metricData('SummaryDataPoint', false),
    AggregationTemporality: {
      values: {
        AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
        AGGREGATION_TEMPORALITY_DELTA: 1,
        AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
      },
    },
    DataPointFlags: {
      values: { DATA_POINT_FLAGS_DO_NOT_USE: 0, DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK: 1 },
    },
    NumberDataPoint: {
      oneofs: NUMBER_VALUE,
      fields: fields({
        attributes: [KEY_VALUE, 7, R],
        ...POINT_TIMES,
        asDouble: ['double', 4],
        asInt: ['sfixed64', 6],
        exemplars: ['Exemplar', 5, R],
        flags: ['uint32', 8],
      }),
      reserved: [[1, 1]],
    },
    HistogramDataPoint: {
      oneofs: OPTIONAL_SUM_MIN_MAX,
      fields: fields({
        attributes: [KEY_VALUE, 9, R],
        ...POINT_TIMES,
        count: ['fixed64', 4],
        sum: ['double', 5, O],
        bucketCounts: ['fixed64', 6, R],
        explicitBounds: ['double', 7, R],
        exemplars: ['Exemplar', 8, R],
        flags: ['uint32', 10],
        min: ['double', 11, O],
        max: ['double', 12, O],
      }),
      reserved: [[1, 1]],
    },
    ExponentialHistogramDataPoint: {
      oneofs: OPTIONAL_SUM_MIN_MAX,
      fields: fields({
        attributes: [KEY_VALUE, 1, R],
        ...POINT_TIMES,
        count: ['fixed64', 4],
        sum: ['double', 5, O],
        scale: ['sint32', 6],
        zeroCount: ['fixed64', 7],
        positive: ['Buckets', 8],
        negative: ['Buckets', 9],
        flags: ['uint32', 10],
        exemplars: ['Exemplar', 11, R],
        min: ['double', 12, O],
        max: ['double', 13, O],
        zeroThreshold: ['double', 14],
      }),
      nested: {
        Buckets: { fields: fields({ offset: ['sint32', 1], bucketCounts: ['uint64', 2, R] }) },
      },
    },
    SummaryDataPoint: {
      fields: fields({
        attributes: [KEY_VALUE, 7, R],
        ...POINT_TIMES,
        count: ['fixed64', 4],
        sum: ['double', 5],
        quantileValues: ['ValueAtQuantile', 6, R],
        flags: ['uint32', 8],
      }),
      reserved: [[1, 1]],
      nested: {
        ValueAtQuantile: { fields: fields({ quantile: ['double', 1], value: ['double', 2] }) },
      },
    },
    Exemplar: {
      oneofs: NUMBER_VALUE,
      fields: fields({
        filteredAttributes: [KEY_VALUE, 7, R],
        timeUnixNano: ['fixed64', 2],
        asDouble: ['double', 3],
        asInt: ['sfixed64', 6],
        spanId: ['bytes', 4],
        traceId: ['bytes', 5],
      }),
      reserved: [[1, 1]],
    },
  },
};

const common = {
  options: packageOptions('Common', 'CommonProto'),
  nested: {
    AnyValue: {
      oneofs: {
        value: {
          oneof: [
            'stringValue',
            'boolValue',
            'intValue',
            'doubleValue',
            'arrayValue',
            'kvlistValue',
            'bytesValue',
            'stringValueStrindex',
          ],
        },
      },
      fields: fields({
        stringValue: ['string', 1],
        boolValue: ['bool', 2],
        intValue: ['int64', 3],
        doubleValue: ['double', 4],
        arrayValue: ['ArrayValue', 5],
        kvlistValue: ['KeyValueList', 6],
        bytesValue: ['bytes', 7],
        stringValueStrindex: ['int32', 8],
      }),
    },
    ArrayValue: { fields: fields({ values: ['AnyValue', 1, R] }) },
    KeyValueList: { fields: fields({ values: ['KeyValue', 1, R] }) },
    KeyValue: {
      fields: fields({ key: ['string', 1], value: ['AnyValue', 2], keyStrindex: ['int32', 3] }),
    },
    InstrumentationScope: {
      fields: fields({
        name: ['string', 1],
        version: ['string', 2],
        attributes: ['KeyValue', 3, R],
        droppedAttributesCount: ['uint32', 4],
      }),
    },
    EntityRef: {
      fields: fields({
        schemaUrl: ['string', 1],
        type: ['string', 2],
        idKeys: ['string', 3, R],
        descriptionKeys: ['string', 4, R],
      }),
    },
  },
};

const resource = {
  options: packageOptions('Resource', 'ResourceProto'),
  nested: {
    Resource: {
      fields: fields({
        attributes: [KEY_VALUE, 1, R],
        droppedAttributesCount: ['uint32', 2],
        entityRefs: ['opentelemetry.proto.common.v1.EntityRef', 3, R],
      }),
    },
  },
};

/** protobufjs `Root.fromJSON` input for `opentelemetry.proto.collector.metrics.v1`. */
export const OTLP_METRICS_DESCRIPTOR = {
  nested: {
    opentelemetry: {
      nested: {
        proto: {
          nested: {
            collector: { nested: { metrics: { nested: { v1: collector } } } },
            metrics: { nested: { v1: metrics } },
            common: { nested: { v1: common } },
            resource: { nested: { v1: resource } },
          },
        },
      },
    },
  },
};
