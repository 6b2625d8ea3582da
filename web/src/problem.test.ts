import { describe, expect, it } from 'vitest';
import { placeErrors, toProblem } from './problem';

const invalid = {
  type: 'https://live-clips.dev/problems/invalid-request',
  title: 'Invalid request',
  status: 400,
  detail: 'Check title, Content-Type: ...',
  errors: [
    { field: 'title', message: 'must be at most 200 characters' },
    { field: 'title', message: 'must not contain control characters' },
    { field: 'Content-Type', message: 'must be application/json' },
  ],
};

describe('toProblem', () => {
  it('reads a problem document', () => {
    const problem = toProblem(400, 'Bad Request', invalid);
    expect(problem.title).toBe('Invalid request');
    expect(problem.errors).toHaveLength(3);
    expect(problem.clip).toBeUndefined();
  });

  it('keeps the clip a refused harvest left behind', () => {
    const clip = { id: 'c1', status: 'FAILED' };
    const problem = toProblem(422, '', { title: 'Harvest refused', status: 422, detail: 'No.', clip });
    expect(problem.clip).toEqual(clip);
    expect(problem.errors).toEqual([]);
  });

  it('makes a problem of anything else, titled by the status', () => {
    expect(toProblem(502, 'Bad Gateway', undefined)).toEqual({
      status: 502,
      title: 'The clip API answered 502 Bad Gateway',
      detail: '',
      errors: [],
    });
    const odd = toProblem(500, '', { errors: [{ field: 1 }, 'x', { field: 'a', message: 'b' }] });
    expect(odd.errors).toEqual([{ field: 'a', message: 'b' }]);
    expect(odd.title).toBe('The clip API answered 500');
  });
});

describe('placeErrors', () => {
  it('puts messages by the fields the form has, in the API’s words', () => {
    const { byField, general } = placeErrors(toProblem(400, '', invalid), ['title', 'description']);
    expect(byField.get('title')).toEqual(['must be at most 200 characters', 'must not contain control characters']);
    expect(byField.has('description')).toBe(false);
    expect(general).toEqual(['Content-Type must be application/json']);
  });

  it('has nothing to place when no field is named', () => {
    const problem = toProblem(503, '', { title: 'MediaPackage unavailable', status: 503, detail: 'Try again shortly.' });
    expect(placeErrors(problem, ['title'])).toEqual({ byField: new Map(), general: [] });
  });
});
