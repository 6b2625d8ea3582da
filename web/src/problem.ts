// RFC 9457 problem documents, as every Clip API v1 error is one, and where their messages go
// on a form.

export interface FieldError {
  /** Body field, query or path parameter, or header the message is about. */
  field: string;
  message: string;
}

export interface Problem {
  status: number;
  title: string;
  detail: string;
  errors: FieldError[];
  /** Extension member: the clip the failure left behind (a refused harvest stores it FAILED). */
  clip?: unknown;
}

/**
 * Reads an error answer. Anything that is not a problem document (a proxy's HTML page, an
 * empty body) still becomes a problem, titled by its status.
 */
export function toProblem(status: number, statusText: string, body: unknown): Problem {
  const fallbackTitle = `The clip API answered ${status}${statusText ? ` ${statusText}` : ''}`;
  if (typeof body !== 'object' || body === null) {
    return { status, title: fallbackTitle, detail: '', errors: [] };
  }
  const doc = body as Record<string, unknown>;
  const errors = Array.isArray(doc.errors) ? doc.errors.filter(isFieldError) : [];
  const problem: Problem = {
    status: typeof doc.status === 'number' ? doc.status : status,
    title: typeof doc.title === 'string' ? doc.title : fallbackTitle,
    detail: typeof doc.detail === 'string' ? doc.detail : '',
    errors,
  };
  if (doc.clip !== undefined) problem.clip = doc.clip;
  return problem;
}

function isFieldError(value: unknown): value is FieldError {
  if (typeof value !== 'object' || value === null) return false;
  const { field, message } = value as Record<string, unknown>;
  return typeof field === 'string' && typeof message === 'string';
}

export interface PlacedErrors {
  /** Messages for each field the form shows, in the API's words. */
  byField: Map<string, string[]>;
  /** Messages no field on the form can show, for the form-wide alert. */
  general: string[];
}

/**
 * Splits a problem's messages between the form's `fields` and a general alert. A message for
 * a field the form does not have (a header, the body as a whole) keeps its field name, since
 * the message alone ("must be application/json") would not say what it is about.
 */
export function placeErrors(problem: Problem, fields: readonly string[]): PlacedErrors {
  const byField = new Map<string, string[]>();
  const general: string[] = [];
  for (const { field, message } of problem.errors) {
    if (fields.includes(field)) {
      byField.set(field, [...(byField.get(field) ?? []), message]);
    } else {
      general.push(`${field} ${message}`);
    }
  }
  return { byField, general };
}
