/**
 * The `cidr` filter: when any of an event's `address` values lies in any of the `network`s (or the
 * networks listed in `network_path`), the filter's add_tag / add_field / remove_* apply; otherwise the
 * event goes on untouched, as in Logstash. IPv4 and IPv6 are matched by the small matcher in
 * ip-address.ts.
 */
import { filterDecoration } from '../common.js';
import type { PipelineEvent } from '../event.js';
import type { FilterFactory, PipelineLogger } from '../plugin.js';
import type { Settings } from '../settings.js';
import { Template } from '../sprintf.js';
import { networkContains, parseIp, parseNetwork, type IpAddress, type IpNetwork } from './ip-address.js';
import { boundedWarn } from './warn-limit.js';
import { WatchedFile } from './watched-file.js';

/** More networks than this in one file is refused: matching is a scan over the list. */
const MAX_FILE_NETWORKS = 100_000;

export const cidrFilter: FilterFactory = (settings, context) => {
  const label = `filter cidr (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const addresses = settings.strings('address').map((a) => new Template(a));
  if (addresses.length === 0) throw settings.error('address', 'is required: the fields to test, as in ["%{client_ip}"]');
  const { fixed, templated } = configuredNetworks(settings);
  const file = networkFile(settings, context.logger, label);
  if (fixed.length + templated.length === 0 && !file) throw settings.error('network', 'or "network_path" is required: the networks to match against');
  const decorate = filterDecoration(settings);
  settings.done();
  const warn = boundedWarn(context.logger, label);

  const networksOf = (event: PipelineEvent): IpNetwork[] => {
    const fromFile = file ? file.current() : [];
    if (templated.length === 0) return fixed.length === 0 ? fromFile : fromFile.length === 0 ? fixed : [...fixed, ...fromFile];
    const rendered: IpNetwork[] = [];
    for (const template of templated) {
      const text = template.render(event);
      const network = parseNetwork(text);
      if (network) rendered.push(network);
      else warn(`"${text}" from network "${template.source}" is not a network`);
    }
    return [...fixed, ...fromFile, ...rendered];
  };

  const addressesOf = (event: PipelineEvent): IpAddress[] => {
    const out: IpAddress[] = [];
    for (const template of addresses) {
      // A field holding a list renders as "a,b": each is an address (no address holds a comma).
      for (const text of template.render(event).split(',')) {
        const address = parseIp(text.trim());
        if (address) out.push(address);
        else warn(`"${text}" from address "${template.source}" is not an IP address`);
      }
    }
    return out;
  };

  return {
    label,
    process(events) {
      for (const event of events) {
        const networks = networksOf(event);
        const matched = addressesOf(event).some((address) => networks.some((network) => networkContains(network, address)));
        if (matched) decorate(event);
      }
      return events;
    },
  };
};

function configuredNetworks(settings: Settings): { fixed: IpNetwork[]; templated: Template[] } {
  const fixed: IpNetwork[] = [];
  const templated: Template[] = [];
  for (const text of settings.strings('network')) {
    const template = new Template(text);
    if (!template.constant) {
      templated.push(template);
      continue;
    }
    const network = parseNetwork(text);
    if (!network) throw settings.error('network', `holds "${text}", which is not a network (write 10.0.0.0/8 or 2001:db8::/32)`);
    fixed.push(network);
  }
  return { fixed, templated };
}

function networkFile(settings: Settings, logger: PipelineLogger, label: string): WatchedFile<IpNetwork[]> | null {
  const path = settings.string('network_path');
  const refreshSeconds = settings.number('refresh_interval', 600, { min: 0 });
  const separator = settings.string('separator', '\n');
  if (path === undefined) return null;
  if (separator === '') throw settings.error('separator', 'must not be empty');
  const load = (text: string): IpNetwork[] => {
    const networks: IpNetwork[] = [];
    let skipped = 0;
    for (const item of text.split(separator === '\n' ? /\r?\n/ : separator)) {
      const line = item.replace(/#.*/, '').trim();
      if (line === '') continue;
      const network = parseNetwork(line);
      if (network) networks.push(network);
      else if (skipped++ < 3) logger.warn(`${label}: ${path}: "${line}" is not a network; skipped`);
      if (networks.length > MAX_FILE_NETWORKS) throw new Error(`${path} lists more than ${MAX_FILE_NETWORKS} networks`);
    }
    return networks;
  };
  try {
    return new WatchedFile(path, refreshSeconds * 1000, load, logger);
  } catch (error) {
    throw settings.error('network_path', `cannot be read: ${(error as Error).message}`);
  }
}
