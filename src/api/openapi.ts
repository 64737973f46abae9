/** The OpenAPI description of the native HTTP API, served at /api/v1/openapi.json. */

const timeParams = [
  { name: 'q', in: 'query', schema: { type: 'string', default: '*' }, description: 'Query: a Lucene-style filter, optionally followed by pipes (`status:500 | stats count() by host`).' },
  { name: 'from', in: 'query', schema: { type: 'string', default: 'now-15m' }, description: 'Start: ISO-8601, epoch milliseconds, or date math such as now-1h.' },
  { name: 'to', in: 'query', schema: { type: 'string', default: 'now' }, description: 'End (inclusive), in the same forms as from.' },
];

const error = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        type: { type: 'string' },
        message: { type: 'string' },
        position: { type: 'integer', description: 'For query syntax errors: 0-based offset in q.' },
        expected: { type: 'array', items: { type: 'string' } },
      },
    },
  },
};

export const openApiDocument = {
  openapi: '3.0.3',
  info: { title: 'Logmill API', version: '1', description: 'Ingest, search and analyse logs.' },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Required when the server listens beyond loopback.' } },
    schemas: { Error: error },
  },
  security: [{ bearer: [] }],
  paths: {
    '/api/v1/ingest': {
      post: {
        summary: 'Store events',
        description:
          'NDJSON (one JSON object per line) or a JSON array of objects; gzip or deflate bodies with Content-Encoding. Answers only once the accepted events are durable. A bad line is reported and never rejects the good lines around it.',
        requestBody: { content: { 'application/x-ndjson': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'array', items: { type: 'object' } } } } },
        responses: {
          200: {
            description: 'Per-line results',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    accepted: { type: 'integer' },
                    rejected: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, error: { type: 'string' } } } },
                    warnings: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, warning: { type: 'string' } } } },
                  },
                },
              },
            },
          },
          400: { description: 'Undecodable body', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
          413: { description: 'Body too large' },
        },
      },
    },
    '/api/v1/search': {
      get: {
        summary: 'Search events, or analyse them with pipes',
        parameters: [
          ...timeParams,
          { name: 'limit', in: 'query', schema: { type: 'integer', default: 100, maximum: 10000 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'The cursor of the previous page.' },
        ],
        responses: {
          200: {
            description: 'Hits newest first ({total, hits, cursor}) or, for piped queries, a table ({columns, rows}).',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          400: { description: 'Query syntax error with position', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        },
      },
    },
    '/api/v1/histogram': {
      get: {
        summary: 'Counts over time',
        parameters: [...timeParams, { name: 'interval', in: 'query', schema: { type: 'string' }, description: 'Bucket width like 1m; chosen for 50–100 buckets if absent.' }],
        responses: { 200: { description: '{interval, intervalMs, buckets: [{time, count}]}' } },
      },
    },
    '/api/v1/fields': {
      get: {
        summary: 'Fields with their types, or one field’s top values',
        parameters: [...timeParams, { name: 'field', in: 'query', schema: { type: 'string' } }, { name: 'size', in: 'query', schema: { type: 'integer', default: 10 } }],
        responses: { 200: { description: '{fields: [{name, type, conflicts, storage}]} or {field, type, values: [{value, count}]}' } },
      },
    },
    '/api/v1/health': { get: { summary: 'Liveness and storage summary', responses: { 200: { description: 'ok' } } } },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'Prometheus text format' } } } },
  },
} as const;
