import {
  apiTokensResponse,
  createApiTokenResponse,
  userResponse,
  usersResponse,
  type ApiTokenInfo,
  type CreateApiTokenResponse,
  type Role,
  type UserSummary,
} from '@livestat/contracts';
import type { createRequest, ResponseSchema } from '../../lib/api';

/** The app's authenticated request (`createRequest`). */
export type ApiRequest = ReturnType<typeof createRequest>;

/** A 204: no body to check. */
const noContent: ResponseSchema<void> = {
  safeParse: (value) =>
    value === undefined
      ? { success: true, data: undefined }
      : { success: false, error: { issues: [{ path: [] }] } },
};

/** The admin routes the Settings view calls; each rejects with the API's `ApiError`. */
export interface SettingsApi {
  users(): Promise<UserSummary[]>;
  addUser(input: { username: string; password: string; role: Role }): Promise<UserSummary>;
  setRole(id: number, role: Role): Promise<UserSummary>;
  setPassword(id: number, password: string): Promise<void>;
  removeUser(id: number): Promise<void>;
  tokens(): Promise<ApiTokenInfo[]>;
  createToken(name: string): Promise<CreateApiTokenResponse>;
  revokeToken(id: number): Promise<void>;
}

/** {@link SettingsApi} over the app's request (its token, its 401 handling). */
export function createSettingsApi(request: ApiRequest): SettingsApi {
  const send = <T>(method: string, path: string, schema: ResponseSchema<T>, body?: unknown) =>
    request(path, schema, { method, body, auth: true });
  return {
    users: async () => (await send('GET', '/api/users', usersResponse)).users,
    addUser: async (input) => (await send('POST', '/api/users', userResponse, input)).user,
    setRole: async (id, role) =>
      (await send('PATCH', `/api/users/${id}`, userResponse, { role })).user,
    setPassword: (id, password) =>
      send('POST', `/api/users/${id}/password`, noContent, { password }),
    removeUser: (id) => send('DELETE', `/api/users/${id}`, noContent),
    tokens: async () => (await send('GET', '/api/tokens', apiTokensResponse)).tokens,
    createToken: (name) =>
      send('POST', '/api/tokens', createApiTokenResponse, { name, scope: 'ingest' }),
    revokeToken: (id) => send('DELETE', `/api/tokens/${id}`, noContent),
  };
}
