/**
 * The built-in pattern library: every module's patterns-file text, in the order they are loaded.
 * Logstash's legacy (non-ECS) sets of logstash-patterns-core (Apache License 2.0). Logstash's `zeek`
 * set exists only in its ECS form (`patterns/ecs-v1/zeek`); in legacy mode Zeek logs use the BRO_* patterns.
 */
import { CORE } from './core.js';
import { FIREWALLS } from './firewalls.js';
import { NAGIOS } from './nagios.js';
import { AWS, BACULA, BIND, BRO, EXIM, HAPROXY, HTTPD, JAVA, JUNOS, LINUX_SYSLOG, MAVEN, MCOLLECTIVE, MONGODB, POSTGRESQL, RAILS, REDIS, RUBY, SQUID } from './services.js';

export const BUILTIN_PATTERN_TEXTS: ReadonlyArray<readonly [source: string, text: string]> = [
  ['grok-patterns', CORE],
  ['aws', AWS],
  ['bacula', BACULA],
  ['bind', BIND],
  ['bro', BRO],
  ['exim', EXIM],
  ['firewalls', FIREWALLS],
  ['haproxy', HAPROXY],
  ['httpd', HTTPD],
  ['java', JAVA],
  ['junos', JUNOS],
  ['linux-syslog', LINUX_SYSLOG],
  ['maven', MAVEN],
  ['mcollective', MCOLLECTIVE],
  ['mongodb', MONGODB],
  ['nagios', NAGIOS],
  ['postgresql', POSTGRESQL],
  ['rails', RAILS],
  ['redis', REDIS],
  ['ruby', RUBY],
  ['squid', SQUID],
];
