import { Refused, UsageError } from '@keyward/cli-kit';
import { query, refused } from './client';
import { connection } from './connection';

describe('the key-api client of the CLI', () => {
  it('turns a refused answer into a Refused error with status, problem slug and detail', () => {
    const problem = refused({
      status: 403,
      headers: {},
      json: { type: 'urn:keyward:problem:forbidden-role', title: 'Forbidden', detail: 'tenant-admin only' },
      text: '',
    });
    expect(problem).toBeInstanceOf(Refused);
    expect(problem.message).toBe('refused (403 forbidden-role): tenant-admin only');
    expect(refused({ status: 502, headers: {}, json: undefined, text: 'Bad Gateway' }).message).toBe('refused (502 error): Bad Gateway');
  });

  it('builds a query string from the defined parameters only', () => {
    expect(query({ tenantId: undefined, since: 3, hash: 'ab', all: false, none: null })).toBe('?since=3&hash=ab');
    expect(query({})).toBe('');
  });

  it('reads the connection from the options, then the environment; a missing one is a usage error', () => {
    const env = { KEYWARD_URL: 'https://127.0.0.1:8443', KEYWARD_API_KEY: 'kw_env' };
    expect(connection({}, env)).toEqual({ base: new URL('https://127.0.0.1:8443'), apiKey: 'kw_env' });
    expect(connection({ url: 'http://h:1', 'api-key': 'kw_opt' }, env)).toEqual({ base: new URL('http://h:1'), apiKey: 'kw_opt' });
    expect(connection({}, { KEYWARD_URL: 'http://h:1', KEYWARD_API_KEY: '' }, { apiKey: false })).toEqual({ base: new URL('http://h:1') });
    expect(() => connection({}, {})).toThrow(UsageError);
    expect(() => connection({ url: 'not a url' }, {})).toThrow(new UsageError('--url is not a URL: not a url'));
    expect(() => connection({}, { KEYWARD_URL: 'http://h:1' })).toThrow(new UsageError('--api-key is required (or set KEYWARD_API_KEY)'));
    expect(() => connection({ cert: 'c.pem' }, env)).toThrow(new UsageError('--cert and --cert-key go together'));
  });
});
