/**
 * Conditions of `if` / `else if`, compiled once into functions of an event.
 *
 * Semantics, as in Logstash:
 * - a field that is missing compares unequal to everything and is false on its own;
 * - `==` and `!=` compare values of the same type (the text "1" is not the number 1), lists and
 *   hashes by content;
 * - `<`, `>`, `<=`, `>=` compare two numbers or two texts; other pairs are false;
 * - `=~` tests a text against a regular expression;
 * - `in` looks for a value in a list, a text inside a text, or a key in a hash.
 */
import type { BooleanOperator, Condition, Operand, Position } from './parser/ast.js';
import { isObject, type PipelineEvent, type PipelineValue } from './event.js';
import { PipelineConfigError } from './settings.js';
import { isDeepStrictEqual } from 'node:util';

export type Test = (event: PipelineEvent) => boolean;
type Read = (event: PipelineEvent) => PipelineValue | RegExp | undefined;

const LEVEL: Record<BooleanOperator, number> = { and: 0, nand: 0, xor: 1, or: 2 };

export function compileCondition(condition: Condition): Test {
  switch (condition.kind) {
    case 'boolean':
      return compileChain(condition);
    case 'not': {
      const operand = compileCondition(condition.operand);
      return (e) => !operand(e);
    }
    case 'truthy': {
      const read = compileOperand(condition.operand);
      return (e) => {
        const value = read(e);
        return value !== undefined && value !== null && value !== false;
      };
    }
    case 'compare': {
      const left = compileOperand(condition.left);
      const right = compileOperand(condition.right);
      const op = condition.operator;
      return (e) => compare(op, left(e), right(e));
    }
    case 'match': {
      const left = compileOperand(condition.left);
      const pattern = patternOf(condition.pattern);
      const negated = condition.negated;
      return (e) => {
        const value = left(e);
        const regexp = pattern(e);
        if (typeof value !== 'string' || regexp === null) return negated;
        return regexp.test(value) !== negated;
      };
    }
    case 'in': {
      const needle = compileOperand(condition.needle);
      const haystack = compileOperand(condition.haystack);
      const negated = condition.negated;
      return (e) => contains(haystack(e), needle(e)) !== negated;
    }
  }
}

/**
 * `a or b or c …` parses as a left-leaning tree as deep as the chain is long. The chain of operators of
 * one precedence level is walked down its left side without recursion and evaluated as a left fold,
 * so that a long chain cannot overflow the stack; recursion goes only into tighter or parenthesised parts.
 */
function compileChain(top: Extract<Condition, { kind: 'boolean' }>): Test {
  const level = LEVEL[top.operator];
  const steps: Array<{ operator: BooleanOperator; test: Test }> = [];
  let node: Condition = top;
  while (node.kind === 'boolean' && LEVEL[node.operator] === level) {
    steps.push({ operator: node.operator, test: compileCondition(node.right) });
    node = node.left;
  }
  steps.reverse();
  const first = compileCondition(node);
  return (event) => {
    let value = first(event);
    for (const { operator, test } of steps) {
      switch (operator) {
        case 'and':
          value = value && test(event);
          break;
        case 'nand':
          value = !(value && test(event));
          break;
        case 'or':
          value = value || test(event);
          break;
        case 'xor':
          value = value !== test(event);
          break;
      }
    }
    return value;
  };
}

function compileOperand(operand: Operand): Read {
  switch (operand.kind) {
    case 'field': {
      const path = operand.field.path;
      return (e) => e.get(path);
    }
    case 'string':
    case 'number': {
      const value = operand.value;
      return () => value;
    }
    case 'regexp': {
      const regexp = compileRegexp(operand.source, operand.at);
      return () => regexp;
    }
    case 'list': {
      const items = operand.items.map(compileOperand);
      return (e) => items.map((read) => read(e)).filter((v): v is PipelineValue => v !== undefined && !(v instanceof RegExp));
    }
  }
}

/** The right side of `=~`: a regexp literal, compiled once, or a text (a pattern from a field or a string). */
function patternOf(operand: Operand): (event: PipelineEvent) => RegExp | null {
  if (operand.kind === 'regexp' || operand.kind === 'string') {
    const regexp = compileRegexp(operand.kind === 'regexp' ? operand.source : operand.value, operand.at);
    return () => regexp;
  }
  const read = compileOperand(operand);
  return (e) => {
    const value = read(e);
    if (value instanceof RegExp) return value;
    if (typeof value !== 'string') return null;
    try {
      return new RegExp(value);
    } catch {
      return null;
    }
  };
}

export function compileRegexp(source: string, at: Position): RegExp {
  // Ruby's and Java's anchors for the whole text have no JavaScript spelling; these are the usual ones.
  const translated = source.replaceAll('\\A', '^').replaceAll('\\z', '$').replaceAll('\\Z', '$');
  try {
    return new RegExp(translated);
  } catch (error) {
    throw new PipelineConfigError(`/${source}/ is not a regular expression this pipeline can run: ${(error as Error).message}`, at);
  }
}

function compare(op: string, left: PipelineValue | RegExp | undefined, right: PipelineValue | RegExp | undefined): boolean {
  if (op === '==') return equal(left, right);
  if (op === '!=') return !equal(left, right);
  const comparable = (typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string');
  if (!comparable) return false;
  const l = left as number | string;
  const r = right as number | string;
  switch (op) {
    case '<':
      return l < r;
    case '>':
      return l > r;
    case '<=':
      return l <= r;
    case '>=':
      return l >= r;
  }
  return false;
}

function equal(left: PipelineValue | RegExp | undefined, right: PipelineValue | RegExp | undefined): boolean {
  if (left === undefined || right === undefined) return false;
  if (left instanceof RegExp || right instanceof RegExp) return false;
  if (typeof left !== 'object' || left === null) return left === right;
  return isDeepStrictEqual(left, right);
}

function contains(haystack: PipelineValue | RegExp | undefined, needle: PipelineValue | RegExp | undefined): boolean {
  if (haystack === undefined || needle === undefined || needle instanceof RegExp || haystack instanceof RegExp) return false;
  if (Array.isArray(haystack)) return haystack.some((item) => equal(item, needle));
  if (typeof haystack === 'string') return typeof needle === 'string' && haystack.includes(needle);
  if (isObject(haystack)) return typeof needle === 'string' && Object.hasOwn(haystack, needle);
  return false;
}
