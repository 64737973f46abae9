/** Logstash's default `pipeline.batch.size`: inputs hand on at most this many events at a time. */
export const BATCH_SIZE = 125;
