/**
 * A running pipeline: inputs hand batches to the filters, whose statements run in the file's order
 * (conditionals choose which events each branch sees), and each event then goes to the outputs its
 * output section's conditionals choose, all at once. An input's batch is done when every output has it.
 *
 * `buildPipeline` checks the whole configuration (every plugin, setting and regular expression) before
 * anything starts, which is also what `logmill pipeline --config-test` reports.
 */
import type { ConfigTree, PluginNode, SectionKind, Statement } from './parser/ast.js';
import type { PipelineEvent } from './event.js';
import type { Filter, Input, Output, PluginContext } from './plugin.js';
import { compileCondition, type Test } from './condition.js';
import { PipelineConfigError, Settings } from './settings.js';
import { filters as filterPlugins, inputs as inputPlugins, outputs as outputPlugins } from './plugins.js';

export type Step<T> = { readonly kind: 'plugin'; readonly plugin: T } | { readonly kind: 'if'; readonly arms: ReadonlyArray<{ readonly test: Test; readonly body: readonly Step<T>[] }>; readonly otherwise: readonly Step<T>[] };

export interface PipelineCounts {
  /** Events the inputs made. */
  in: number;
  /** Events handed to at least one output. */
  out: number;
  /** Events dropped by filters or sent to no output. */
  filtered: number;
}

/** Runs a batch through the filters somewhere else (worker threads) and answers the events kept. */
export type FilterRunner = (events: PipelineEvent[]) => Promise<PipelineEvent[]>;

export class Pipeline {
  readonly counts: PipelineCounts = { in: 0, out: 0, filtered: 0 };
  private runner: FilterRunner | null = null;

  constructor(
    readonly inputs: readonly Input[],
    private readonly filters: readonly Step<Filter>[],
    private readonly outputs: readonly Step<Output>[],
    readonly outputList: readonly Output[],
  ) {}

  /** Starts the outputs, runs the inputs until each has finished (or the context's signal stops them), then closes the outputs. */
  async run(): Promise<PipelineCounts> {
    await Promise.all(this.outputList.map((o) => o.start()));
    try {
      await Promise.all(this.inputs.map((input) => input.run((events) => this.process(events))));
    } finally {
      await Promise.all(this.outputList.map((o) => o.close()));
    }
    return this.counts;
  }

  get hasFilters(): boolean {
    return this.filters.length > 0;
  }

  /** From now on, batches from the inputs go through `runner` (the filter workers) instead of this thread's filters. */
  runFiltersWith(runner: FilterRunner): void {
    this.runner = runner;
  }

  /** A batch through the filters alone (what `_bulk?pipeline=` and `logmill pipeline test` run); dropped events are left out. */
  filter(events: PipelineEvent[]): PipelineEvent[] {
    return runFilters(this.filters, events).filter((e) => !e.cancelled);
  }

  /** One batch through filters and outputs; resolves when every chosen output has taken it. */
  async process(events: PipelineEvent[]): Promise<void> {
    this.counts.in += events.length;
    const kept = this.runner !== null ? await this.runner(events) : runFilters(this.filters, events).filter((e) => !e.cancelled);
    const byOutput = new Map<Output, PipelineEvent[]>();
    let routed = 0;
    for (const event of kept) {
      const chosen = new Set<Output>();
      route(this.outputs, event, chosen);
      if (chosen.size > 0) routed++;
      for (const output of chosen) {
        const list = byOutput.get(output);
        if (list) list.push(event);
        else byOutput.set(output, [event]);
      }
    }
    this.counts.out += routed;
    this.counts.filtered += events.length - routed;
    await Promise.all([...byOutput].map(([output, list]) => output.write(list)));
  }
}

/** The filter section alone, built as a worker thread needs it. */
export function buildFilterSteps(tree: ConfigTree, context: PluginContext): Step<Filter>[] {
  const steps: Step<Filter>[] = [];
  for (const section of tree.sections) {
    if (section.kind === 'filter') steps.push(...section.body.map((s) => compileStep(s, 'filter', (p) => make(p, 'filter', filterPlugins, context))));
  }
  return steps;
}

/** A batch through built filter steps; the events the drop filter cancelled are left out. */
export function runFilterSteps(steps: readonly Step<Filter>[], events: PipelineEvent[]): PipelineEvent[] {
  return runFilters(steps, events).filter((e) => !e.cancelled);
}

function runFilters(steps: readonly Step<Filter>[], events: PipelineEvent[]): PipelineEvent[] {
  let batch = events;
  for (const step of steps) {
    if (batch.length === 0) break;
    if (step.kind === 'plugin') {
      batch = step.plugin.process(batch);
      continue;
    }
    // Each event takes the first arm whose condition holds; each arm runs its filters on its share.
    const shares: PipelineEvent[][] = step.arms.map(() => []);
    const rest: PipelineEvent[] = [];
    for (const event of batch) {
      const arm = step.arms.findIndex((a) => a.test(event));
      (arm >= 0 ? shares[arm] : rest).push(event);
    }
    batch = [...step.arms.flatMap((arm, i) => runFilters(arm.body, shares[i])), ...runFilters(step.otherwise, rest)];
  }
  return batch;
}

function route(steps: readonly Step<Output>[], event: PipelineEvent, chosen: Set<Output>): void {
  for (const step of steps) {
    if (step.kind === 'plugin') chosen.add(step.plugin);
    else {
      const arm = step.arms.find((a) => a.test(event));
      route(arm ? arm.body : step.otherwise, event, chosen);
    }
  }
}

export interface BuildOptions {
  /** The output of a configuration that names none (inside the server: the store, `logmill {}`). */
  readonly defaultOutput?: string;
  /** Whether a configuration without inputs is refused (inside the server one may only serve `_bulk?pipeline=`). */
  readonly requireInput?: boolean;
}

export function buildPipeline(tree: ConfigTree, context: PluginContext, options: BuildOptions = {}): Pipeline {
  const inputs: Input[] = [];
  const filters: Step<Filter>[] = [];
  const outputs: Step<Output>[] = [];
  const outputList: Output[] = [];
  for (const section of tree.sections) {
    switch (section.kind) {
      case 'input':
        for (const statement of section.body) {
          if (statement.kind !== 'plugin') throw new PipelineConfigError('conditionals are not allowed in the input section: put them in filter or output', statement.at);
          inputs.push(make(statement.plugin, 'input', inputPlugins, context));
        }
        break;
      case 'filter':
        break;
      case 'output':
        outputs.push(
          ...section.body.map((s) =>
            compileStep(s, 'output', (p) => {
              const output = make(p, 'output', outputPlugins, context);
              outputList.push(output);
              return output;
            }),
          ),
        );
        break;
    }
  }
  filters.push(...buildFilterSteps(tree, context));
  if (inputs.length === 0 && options.requireInput !== false) throw new PipelineConfigError('the configuration has no input: add an input section, such as input { stdin {} }');
  if (outputList.length === 0 && options.defaultOutput !== undefined && !tree.sections.some((s) => s.kind === 'output')) {
    const output = make({ name: options.defaultOutput, attributes: [], at: { line: 1, column: 1 } }, 'output', outputPlugins, context);
    outputList.push(output);
    outputs.push({ kind: 'plugin', plugin: output });
  }
  if (outputList.length === 0) throw new PipelineConfigError('the configuration has no output: add an output section, such as output { stdout {} }');
  return new Pipeline(inputs, filters, outputs, outputList);
}

function compileStep<T>(statement: Statement, section: SectionKind, make: (plugin: PluginNode) => T): Step<T> {
  if (statement.kind === 'plugin') return { kind: 'plugin', plugin: make(statement.plugin) };
  return {
    kind: 'if',
    arms: statement.branches.map((branch) => ({ test: compileCondition(branch.condition), body: branch.body.map((s) => compileStep(s, section, make)) })),
    otherwise: (statement.otherwise ?? []).map((s) => compileStep(s, section, make)),
  };
}

function make<T>(plugin: PluginNode, kind: SectionKind, registry: Readonly<Record<string, (settings: Settings, context: PluginContext) => T>>, context: PluginContext): T {
  const factory = Object.hasOwn(registry, plugin.name) ? registry[plugin.name] : undefined;
  if (!factory) throw new PipelineConfigError(`unknown ${kind} plugin "${plugin.name}"; this version has: ${Object.keys(registry).sort().join(', ')}`, plugin.at);
  return factory(new Settings(plugin, kind), context);
}
