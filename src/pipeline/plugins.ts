/** The plugins a configuration can name, by section. A new plugin is a file in its folder and a line here. */
import type { FilterFactory, InputFactory, OutputFactory } from './plugin.js';
import { stdinInput } from './inputs/stdin.js';
import { generatorInput } from './inputs/generator.js';
import { pipelineInput } from './inputs/pipeline.js';
import { tcpInput } from './inputs/tcp.js';
import { udpInput } from './inputs/udp.js';
import { syslogInput } from './inputs/syslog.js';
import { beatsInput, lumberjackInput } from './inputs/beats.js';
import { gelfInput } from './inputs/gelf.js';
import { httpInput } from './inputs/http.js';
import { fileInput } from './inputs/file.js';
import { redisInput } from './inputs/redis.js';
import { grokFilter } from './filters/grok.js';
import { dissectFilter } from './filters/dissect.js';
import { jsonFilter } from './filters/json.js';
import { kvFilter } from './filters/kv.js';
import { csvFilter } from './filters/csv.js';
import { dateFilter } from './filters/date.js';
import { mutateFilter } from './filters/mutate.js';
import { dropFilter } from './filters/drop.js';
import { cloneFilter } from './filters/clone.js';
import { splitFilter } from './filters/split.js';
import { geoipFilter } from './filters/geoip.js';
import { useragentFilter } from './filters/useragent.js';
import { cidrFilter } from './filters/cidr.js';
import { translateFilter } from './filters/translate.js';
import { fingerprintFilter } from './filters/fingerprint.js';
import { truncateFilter } from './filters/truncate.js';
import { pruneFilter } from './filters/prune.js';
import { urldecodeFilter } from './filters/urldecode.js';
import { uuidFilter } from './filters/uuid.js';
import { syslogPriFilter } from './filters/syslog_pri.js';
import { logmillOutput } from './outputs/logmill.js';
import { elasticsearchOutput } from './outputs/elasticsearch/index.js';
import { stdoutOutput } from './outputs/stdout.js';
import { pipelineOutput } from './outputs/pipeline.js';
import { fileOutput } from './outputs/file.js';
import { httpOutput } from './outputs/http.js';
import { redisOutput } from './outputs/redis.js';
import { nullOutput } from './outputs/null.js';

export const inputs: Readonly<Record<string, InputFactory>> = {
  stdin: stdinInput,
  generator: generatorInput,
  pipeline: pipelineInput,
  tcp: tcpInput,
  udp: udpInput,
  syslog: syslogInput,
  beats: beatsInput,
  lumberjack: lumberjackInput,
  gelf: gelfInput,
  http: httpInput,
  file: fileInput,
  redis: redisInput,
};

export const filters: Readonly<Record<string, FilterFactory>> = {
  grok: grokFilter,
  dissect: dissectFilter,
  json: jsonFilter,
  kv: kvFilter,
  csv: csvFilter,
  date: dateFilter,
  mutate: mutateFilter,
  drop: dropFilter,
  clone: cloneFilter,
  split: splitFilter,
  geoip: geoipFilter,
  useragent: useragentFilter,
  cidr: cidrFilter,
  translate: translateFilter,
  fingerprint: fingerprintFilter,
  truncate: truncateFilter,
  prune: pruneFilter,
  urldecode: urldecodeFilter,
  uuid: uuidFilter,
  syslog_pri: syslogPriFilter,
};

export const outputs: Readonly<Record<string, OutputFactory>> = {
  logmill: logmillOutput,
  elasticsearch: elasticsearchOutput,
  stdout: stdoutOutput,
  pipeline: pipelineOutput,
  file: fileOutput,
  http: httpOutput,
  redis: redisOutput,
  null: nullOutput,
};
