import { idProblem } from '@aip/contracts';
import { errors } from './errors.ts';

/**
 * A knowledge base or document id from the URL path, checked with the platform's one id rule
 * (the same as in bodies and messages): 400 naming the path parameter, never a 500 further in.
 */
export function pathId(value: string, param: 'kb' | 'doc'): string {
  const problem = idProblem(value);
  if (problem) throw errors.invalid(`${param}: ${problem}`, param);
  return value;
}
