// The OTLP metrics protobuf schema (open-telemetry/opentelemetry-proto at ac2c4b5, Apache-2.0:
// collector/metrics/v1/metrics_service.proto and what it imports) as protobufjs' JSON descriptor,
// made with `root.loadSync(...); JSON.stringify(root.toJSON())`. Generated: never edit by hand.

/** protobufjs `Root.fromJSON` input for `opentelemetry.proto.collector.metrics.v1`. */
export const OTLP_METRICS_DESCRIPTOR = {
  nested: {
    opentelemetry: {
      nested: {
        proto: {
          nested: {
            collector: {
              nested: {
                metrics: {
                  nested: {
                    v1: {
                      options: {
                        csharp_namespace: 'OpenTelemetry.Proto.Collector.Metrics.V1',
                        java_multiple_files: true,
                        java_package: 'io.opentelemetry.proto.collector.metrics.v1',
                        java_outer_classname: 'MetricsServiceProto',
                        go_package: 'go.opentelemetry.io/proto/otlp/collector/metrics/v1',
                      },
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
                          fields: {
                            resourceMetrics: {
                              rule: 'repeated',
                              type: 'opentelemetry.proto.metrics.v1.ResourceMetrics',
                              id: 1,
                              protoName: 'resource_metrics',
                            },
                          },
                        },
                        ExportMetricsServiceResponse: {
                          fields: {
                            partialSuccess: {
                              type: 'ExportMetricsPartialSuccess',
                              id: 1,
                              protoName: 'partial_success',
                            },
                          },
                        },
                        ExportMetricsPartialSuccess: {
                          fields: {
                            rejectedDataPoints: {
                              type: 'int64',
                              id: 1,
                              protoName: 'rejected_data_points',
                            },
                            errorMessage: { type: 'string', id: 2, protoName: 'error_message' },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
            metrics: {
              nested: {
                v1: {
                  options: {
                    csharp_namespace: 'OpenTelemetry.Proto.Metrics.V1',
                    java_multiple_files: true,
                    java_package: 'io.opentelemetry.proto.metrics.v1',
                    java_outer_classname: 'MetricsProto',
                    go_package: 'go.opentelemetry.io/proto/otlp/metrics/v1',
                  },
                  nested: {
                    MetricsData: {
                      fields: {
                        resourceMetrics: {
                          rule: 'repeated',
                          type: 'ResourceMetrics',
                          id: 1,
                          protoName: 'resource_metrics',
                        },
                      },
                    },
                    ResourceMetrics: {
                      fields: {
                        resource: { type: 'opentelemetry.proto.resource.v1.Resource', id: 1 },
                        scopeMetrics: {
                          rule: 'repeated',
                          type: 'ScopeMetrics',
                          id: 2,
                          protoName: 'scope_metrics',
                        },
                        schemaUrl: { type: 'string', id: 3, protoName: 'schema_url' },
                      },
                      reserved: [[1000, 1000]],
                    },
                    ScopeMetrics: {
                      fields: {
                        scope: {
                          type: 'opentelemetry.proto.common.v1.InstrumentationScope',
                          id: 1,
                        },
                        metrics: { rule: 'repeated', type: 'Metric', id: 2 },
                        schemaUrl: { type: 'string', id: 3, protoName: 'schema_url' },
                      },
                    },
                    Metric: {
                      oneofs: {
                        data: {
                          oneof: ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'],
                        },
                      },
                      fields: {
                        name: { type: 'string', id: 1 },
                        description: { type: 'string', id: 2 },
                        unit: { type: 'string', id: 3 },
                        gauge: { type: 'Gauge', id: 5 },
                        sum: { type: 'Sum', id: 7 },
                        histogram: { type: 'Histogram', id: 9 },
                        exponentialHistogram: {
                          type: 'ExponentialHistogram',
                          id: 10,
                          protoName: 'exponential_histogram',
                        },
                        summary: { type: 'Summary', id: 11 },
                        metadata: {
                          rule: 'repeated',
                          type: 'opentelemetry.proto.common.v1.KeyValue',
                          id: 12,
                        },
                      },
                      reserved: [
                        [4, 4],
                        [6, 6],
                        [8, 8],
                      ],
                    },
                    Gauge: {
                      fields: {
                        dataPoints: {
                          rule: 'repeated',
                          type: 'NumberDataPoint',
                          id: 1,
                          protoName: 'data_points',
                        },
                      },
                    },
                    Sum: {
                      fields: {
                        dataPoints: {
                          rule: 'repeated',
                          type: 'NumberDataPoint',
                          id: 1,
                          protoName: 'data_points',
                        },
                        aggregationTemporality: {
                          type: 'AggregationTemporality',
                          id: 2,
                          protoName: 'aggregation_temporality',
                        },
                        isMonotonic: { type: 'bool', id: 3, protoName: 'is_monotonic' },
                      },
                    },
                    Histogram: {
                      fields: {
                        dataPoints: {
                          rule: 'repeated',
                          type: 'HistogramDataPoint',
                          id: 1,
                          protoName: 'data_points',
                        },
                        aggregationTemporality: {
                          type: 'AggregationTemporality',
                          id: 2,
                          protoName: 'aggregation_temporality',
                        },
                      },
                    },
                    ExponentialHistogram: {
                      fields: {
                        dataPoints: {
                          rule: 'repeated',
                          type: 'ExponentialHistogramDataPoint',
                          id: 1,
                          protoName: 'data_points',
                        },
                        aggregationTemporality: {
                          type: 'AggregationTemporality',
                          id: 2,
                          protoName: 'aggregation_temporality',
                        },
                      },
                    },
                    Summary: {
                      fields: {
                        dataPoints: {
                          rule: 'repeated',
                          type: 'SummaryDataPoint',
                          id: 1,
                          protoName: 'data_points',
                        },
                      },
                    },
                    AggregationTemporality: {
                      values: {
                        AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
                        AGGREGATION_TEMPORALITY_DELTA: 1,
                        AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
                      },
                    },
                    DataPointFlags: {
                      values: {
                        DATA_POINT_FLAGS_DO_NOT_USE: 0,
                        DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK: 1,
                      },
                    },
                    NumberDataPoint: {
                      oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
                      fields: {
                        attributes: {
                          rule: 'repeated',
                          type: 'opentelemetry.proto.common.v1.KeyValue',
                          id: 7,
                        },
                        startTimeUnixNano: {
                          type: 'fixed64',
                          id: 2,
                          protoName: 'start_time_unix_nano',
                        },
                        timeUnixNano: { type: 'fixed64', id: 3, protoName: 'time_unix_nano' },
                        asDouble: { type: 'double', id: 4, protoName: 'as_double' },
                        asInt: { type: 'sfixed64', id: 6, protoName: 'as_int' },
                        exemplars: { rule: 'repeated', type: 'Exemplar', id: 5 },
                        flags: { type: 'uint32', id: 8 },
                      },
                      reserved: [[1, 1]],
                    },
                    HistogramDataPoint: {
                      oneofs: {
                        _sum: { oneof: ['sum'] },
                        _min: { oneof: ['min'] },
                        _max: { oneof: ['max'] },
                      },
                      fields: {
                        attributes: {
                          rule: 'repeated',
                          type: 'opentelemetry.proto.common.v1.KeyValue',
                          id: 9,
                        },
                        startTimeUnixNano: {
                          type: 'fixed64',
                          id: 2,
                          protoName: 'start_time_unix_nano',
                        },
                        timeUnixNano: { type: 'fixed64', id: 3, protoName: 'time_unix_nano' },
                        count: { type: 'fixed64', id: 4 },
                        sum: { type: 'double', id: 5, options: { proto3_optional: true } },
                        bucketCounts: {
                          rule: 'repeated',
                          type: 'fixed64',
                          id: 6,
                          protoName: 'bucket_counts',
                        },
                        explicitBounds: {
                          rule: 'repeated',
                          type: 'double',
                          id: 7,
                          protoName: 'explicit_bounds',
                        },
                        exemplars: { rule: 'repeated', type: 'Exemplar', id: 8 },
                        flags: { type: 'uint32', id: 10 },
                        min: { type: 'double', id: 11, options: { proto3_optional: true } },
                        max: { type: 'double', id: 12, options: { proto3_optional: true } },
                      },
                      reserved: [[1, 1]],
                    },
                    ExponentialHistogramDataPoint: {
                      oneofs: {
                        _sum: { oneof: ['sum'] },
                        _min: { oneof: ['min'] },
                        _max: { oneof: ['max'] },
                      },
                      fields: {
                        attributes: {
                          rule: 'repeated',
                          type: 'opentelemetry.proto.common.v1.KeyValue',
                          id: 1,
                        },
                        startTimeUnixNano: {
                          type: 'fixed64',
                          id: 2,
                          protoName: 'start_time_unix_nano',
                        },
                        timeUnixNano: { type: 'fixed64', id: 3, protoName: 'time_unix_nano' },
                        count: { type: 'fixed64', id: 4 },
                        sum: { type: 'double', id: 5, options: { proto3_optional: true } },
                        scale: { type: 'sint32', id: 6 },
                        zeroCount: { type: 'fixed64', id: 7, protoName: 'zero_count' },
                        positive: { type: 'Buckets', id: 8 },
                        negative: { type: 'Buckets', id: 9 },
                        flags: { type: 'uint32', id: 10 },
                        exemplars: { rule: 'repeated', type: 'Exemplar', id: 11 },
                        min: { type: 'double', id: 12, options: { proto3_optional: true } },
                        max: { type: 'double', id: 13, options: { proto3_optional: true } },
                        zeroThreshold: { type: 'double', id: 14, protoName: 'zero_threshold' },
                      },
                      nested: {
                        Buckets: {
                          fields: {
                            offset: { type: 'sint32', id: 1 },
                            bucketCounts: {
                              rule: 'repeated',
                              type: 'uint64',
                              id: 2,
                              protoName: 'bucket_counts',
                            },
                          },
                        },
                      },
                    },
                    SummaryDataPoint: {
                      fields: {
                        attributes: {
                          rule: 'repeated',
                          type: 'opentelemetry.proto.common.v1.KeyValue',
                          id: 7,
                        },
                        startTimeUnixNano: {
                          type: 'fixed64',
                          id: 2,
                          protoName: 'start_time_unix_nano',
                        },
                        timeUnixNano: { type: 'fixed64', id: 3, protoName: 'time_unix_nano' },
                        count: { type: 'fixed64', id: 4 },
                        sum: { type: 'double', id: 5 },
                        quantileValues: {
                          rule: 'repeated',
                          type: 'ValueAtQuantile',
                          id: 6,
                          protoName: 'quantile_values',
                        },
                        flags: { type: 'uint32', id: 8 },
                      },
                      reserved: [[1, 1]],
                      nested: {
                        ValueAtQuantile: {
                          fields: {
                            quantile: { type: 'double', id: 1 },
                            value: { type: 'double', id: 2 },
                          },
                        },
                      },
                    },
                    Exemplar: {
                      oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
                      fields: {
                        filteredAttributes: {
                          rule: 'repeated',
                          type: 'opentelemetry.proto.common.v1.KeyValue',
                          id: 7,
                          protoName: 'filtered_attributes',
                        },
                        timeUnixNano: { type: 'fixed64', id: 2, protoName: 'time_unix_nano' },
                        asDouble: { type: 'double', id: 3, protoName: 'as_double' },
                        asInt: { type: 'sfixed64', id: 6, protoName: 'as_int' },
                        spanId: { type: 'bytes', id: 4, protoName: 'span_id' },
                        traceId: { type: 'bytes', id: 5, protoName: 'trace_id' },
                      },
                      reserved: [[1, 1]],
                    },
                  },
                },
              },
            },
            common: {
              nested: {
                v1: {
                  options: {
                    csharp_namespace: 'OpenTelemetry.Proto.Common.V1',
                    java_multiple_files: true,
                    java_package: 'io.opentelemetry.proto.common.v1',
                    java_outer_classname: 'CommonProto',
                    go_package: 'go.opentelemetry.io/proto/otlp/common/v1',
                  },
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
                      fields: {
                        stringValue: { type: 'string', id: 1, protoName: 'string_value' },
                        boolValue: { type: 'bool', id: 2, protoName: 'bool_value' },
                        intValue: { type: 'int64', id: 3, protoName: 'int_value' },
                        doubleValue: { type: 'double', id: 4, protoName: 'double_value' },
                        arrayValue: { type: 'ArrayValue', id: 5, protoName: 'array_value' },
                        kvlistValue: { type: 'KeyValueList', id: 6, protoName: 'kvlist_value' },
                        bytesValue: { type: 'bytes', id: 7, protoName: 'bytes_value' },
                        stringValueStrindex: {
                          type: 'int32',
                          id: 8,
                          protoName: 'string_value_strindex',
                        },
                      },
                    },
                    ArrayValue: {
                      fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } },
                    },
                    KeyValueList: {
                      fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } },
                    },
                    KeyValue: {
                      fields: {
                        key: { type: 'string', id: 1 },
                        value: { type: 'AnyValue', id: 2 },
                        keyStrindex: { type: 'int32', id: 3, protoName: 'key_strindex' },
                      },
                    },
                    InstrumentationScope: {
                      fields: {
                        name: { type: 'string', id: 1 },
                        version: { type: 'string', id: 2 },
                        attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
                        droppedAttributesCount: {
                          type: 'uint32',
                          id: 4,
                          protoName: 'dropped_attributes_count',
                        },
                      },
                    },
                    EntityRef: {
                      fields: {
                        schemaUrl: { type: 'string', id: 1, protoName: 'schema_url' },
                        type: { type: 'string', id: 2 },
                        idKeys: { rule: 'repeated', type: 'string', id: 3, protoName: 'id_keys' },
                        descriptionKeys: {
                          rule: 'repeated',
                          type: 'string',
                          id: 4,
                          protoName: 'description_keys',
                        },
                      },
                    },
                  },
                },
              },
            },
            resource: {
              nested: {
                v1: {
                  options: {
                    csharp_namespace: 'OpenTelemetry.Proto.Resource.V1',
                    java_multiple_files: true,
                    java_package: 'io.opentelemetry.proto.resource.v1',
                    java_outer_classname: 'ResourceProto',
                    go_package: 'go.opentelemetry.io/proto/otlp/resource/v1',
                  },
                  nested: {
                    Resource: {
                      fields: {
                        attributes: {
                          rule: 'repeated',
                          type: 'opentelemetry.proto.common.v1.KeyValue',
                          id: 1,
                        },
                        droppedAttributesCount: {
                          type: 'uint32',
                          id: 2,
                          protoName: 'dropped_attributes_count',
                        },
                        entityRefs: {
                          rule: 'repeated',
                          type: 'opentelemetry.proto.common.v1.EntityRef',
                          id: 3,
                          protoName: 'entity_refs',
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};
