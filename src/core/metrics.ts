/**
 * A small Prometheus text-format registry. Counters and gauges keyed by
 * name and labels; enough for /metrics without a dependency on the hot path.
 */

type Labels = Record<string, string>;

interface Family {
  help: string;
  type: 'counter' | 'gauge' | 'summary';
  values: Map<string, number>;
}

export class Metrics {
  private readonly families = new Map<string, Family>();
  private readonly collectors: (() => void | Promise<void>)[] = [];

  private family(name: string, help: string, type: Family['type']): Family {
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { help, type, values: new Map() }));
    return f;
  }

  inc(name: string, help: string, by = 1, labels: Labels = {}): void {
    const f = this.family(name, help, 'counter');
    const key = labelKey(labels);
    f.values.set(key, (f.values.get(key) ?? 0) + by);
  }

  set(name: string, help: string, value: number, labels: Labels = {}): void {
    this.family(name, help, 'gauge').values.set(labelKey(labels), value);
  }

  /** Records a duration as a summary's _sum and _count. */
  observe(name: string, help: string, seconds: number, labels: Labels = {}): void {
    const f = this.family(name, help, 'summary');
    const key = labelKey(labels);
    f.values.set(`_sum${key}`, (f.values.get(`_sum${key}`) ?? 0) + seconds);
    f.values.set(`_count${key}`, (f.values.get(`_count${key}`) ?? 0) + 1);
  }

  get(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.values.get(labelKey(labels)) ?? 0;
  }

  /** Runs before each scrape, to refresh gauges that are costly to keep current. */
  onCollect(fn: () => void | Promise<void>): void {
    this.collectors.push(fn);
  }

  async render(): Promise<string> {
    for (const c of this.collectors) await c();
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const [key, value] of f.values) {
        if (f.type === 'summary') {
          const suffix = key.startsWith('_sum') ? '_sum' : '_count';
          lines.push(`${name}${suffix}${key.slice(suffix.length)} ${value}`);
        } else {
          lines.push(`${name}${key} ${value}`);
        }
      }
    }
    return lines.join('\n') + '\n';
  }
}

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys
    .sort()
    .map((k) => `${k}="${labels[k].replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',')}}`;
}
