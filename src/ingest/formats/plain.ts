/** Plain lines: the line is `message`, the time is the import's. Every line is plain, so nothing fails. */
import type { LineFormat } from './format.js';

export const plainFormat: LineFormat = {
  name: 'plain',
  test: () => true,
  parse: (line) => ({ fields: { message: line }, time: NaN, ok: true }),
};
