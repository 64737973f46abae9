/**
 * DuckDB allocates through its own jemalloc, which by default keeps freed
 * pages for seconds and per arena: after a burst of ingest the server held
 * ~410 MB where ~240 MB was in use, and peaked ~470 MB where ~340 MB
 * sufficed. Returning pages at once (decay 0) cost no measurable ingest
 * rate. jemalloc reads this variable when DuckDB first allocates, so it is set
 * before any instance is created; a value set by the user wins.
 */
export const DUCKDB_ALLOCATOR_CONF = 'dirty_decay_ms:0,muzzy_decay_ms:0';

process.env.DUCKDB_JE_MALLOC_CONF ??= DUCKDB_ALLOCATOR_CONF;
