import { applyDecorators, Body, Controller, Get, HttpCode, Param, Patch, Post, Put, Query, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { z, ZodType } from 'zod';
import {
  mayReadKey,
  requireRead,
  seesByGrant,
  type ApprovalState,
  type DirectCommand,
  type KeyState,
  type TenantLog,
} from '@keyward/domain';
import { KeyStateSource } from '@keyward/keys';
import { CommandExecutor, type Executed } from '@keyward/event-log';
import { businessNow, ProblemError } from '@keyward/platform';
import { Roles } from '../auth/decorators';
import { ExecuteLifecycleCommand, type LifecycleOutcome } from '../dual-control/lifecycle.handler';
import type { Caller } from '../platform/caller';
import { CreateKeyCommand } from './create-key.handler';
import { RotateKeyCommand } from './rotate-key.handler';
import { ViewReader } from '../platform/view-reader';
import { PendingApprovalInterceptor } from '../dual-control/pending-approval.interceptor';
import { ApiPendingApproval } from '../dual-control/approval.schema';
import { RequestCaller } from '../platform/request-caller';
import { keyBody, keySummary } from './key.representation';
import { aliasParam, emptyBody, keyRefParam, readQuery } from '../platform/common.schema';
import {
  compromiseBody,
  createKeyBody,
  keyCommandResponse,
  keyListResponse,
  keyResponse,
  listKeysQuery,
  minDecryptionVersionBody,
  patchKeyBody,
  scheduleDestructionBody,
  setAliasBody,
  setOwnerBody,
} from './key.schema';
import { openApi, ZodPipe } from '../platform/zod.pipe';

const notFound = (ref: string) => new ProblemError(404, 'not-found', 'Not found', `key ${ref} not found`);

/**
 * A command on one key: tenant-admin, answering the key or a pending approval, 200 (a POST says
 * so; PUT and PATCH answer 200 already). POST unless `doc.method` says otherwise.
 */
const KeyCommandRoute = (path: string, doc: { summary?: string; body?: ZodType; method?: 'put' | 'patch' } = {}): MethodDecorator =>
  applyDecorators(
    ...(doc.method === 'put' ? [Put(path)] : doc.method === 'patch' ? [Patch(path)] : [Post(path), HttpCode(200)]),
    Roles('tenant-admin'),
    ...(doc.summary === undefined ? [] : [ApiOperation({ summary: doc.summary })]),
    ...(doc.body === undefined ? [] : [ApiBody({ schema: openApi(doc.body, 'input') })]),
    ApiOkResponse({ schema: openApi(keyCommandResponse) }),
  );

type KeyCommandAnswer = { seq: number; key: KeyState } | { seq: number; pendingApproval: ApprovalState<DirectCommand> };

@ApiTags('keys')
@ApiBearerAuth()
@Controller('v1/keys')
// Only the controllers whose commands can become approval requests: the data plane skips the interceptor.
@UseInterceptors(PendingApprovalInterceptor)
@ApiPendingApproval()
export class KeysController {
  constructor(
    private readonly commands: CommandBus,
    private readonly executor: CommandExecutor,
    private readonly views: ViewReader,
    private readonly states: KeyStateSource,
  ) {}

  @Post()
  @Roles('tenant-admin')
  @ApiOperation({ summary: 'Create a key (PreActive, or Active with activate: true)' })
  @ApiBody({ schema: openApi(createKeyBody, 'input') })
  @ApiCreatedResponse({ schema: openApi(keyCommandResponse) })
  async create(
    @Body(new ZodPipe(createKeyBody)) body: z.output<typeof createKeyBody>,
    @RequestCaller() caller: Caller,
  ): Promise<KeyCommandAnswer> {
    const tenantId = caller.principal.tenantId;
    const { seq, keyId, log } = await this.commands.execute<CreateKeyCommand, Executed & { keyId: string }>(
      new CreateKeyCommand(tenantId, body, caller),
    );
    return this.answer(seq, log.keys.get(keyId), keyId);
  }

  @Get()
  @Roles('tenant-admin', 'key-user', 'auditor')
  @ApiOperation({ summary: 'List keys (filter by state, type, alias, label; cursor pagination in creation order)' })
  @ApiQuery({ name: 'query', required: false, schema: openApi(listKeysQuery, 'input') })
  @ApiOkResponse({ schema: openApi(keyListResponse) })
  async list(@Query(new ZodPipe(listKeysQuery, 'query')) q: z.output<typeof listKeysQuery>, @RequestCaller() caller: Caller) {
    const tenantId = caller.principal.tenantId;
    const [name, ...value] = q.label?.split('=') ?? [];
    const label = name === undefined ? undefined : { name, value: value.join('=') };
    const page = await this.views.keyPage(
      tenantId,
      {
        ...(q.state ? { state: q.state } : {}),
        ...(q.keyType ? { keyType: q.keyType } : {}),
        ...(q.alias ? { alias: q.alias } : {}),
        ...(label ? { label } : {}),
      },
      q.limit,
      q.cursor,
      q.minSeq,
    );
    // A key-user of a grants-required tenant sees the keys it holds a read grant on (a page may come out short).
    const log = await this.grantsLog(caller);
    const now = businessNow();
    const items = log === undefined ? page.items : page.items.filter((k) => this.mayRead(log, caller, k, now));
    return { items: items.map(keySummary), nextCursor: page.nextCursor };
  }

  @Get('alias/:name')
  @Roles('tenant-admin', 'key-user', 'auditor')
  @ApiOperation({ summary: 'Get a key by alias' })
  @ApiOkResponse({ schema: openApi(keyResponse) })
  async getByAlias(
    @Param(
      'name',
      new ZodPipe(
        aliasParam.transform((s) => `alias/${s}`),
        'path',
      ),
    )
    ref: string,
    @Query(new ZodPipe(readQuery, 'query')) q: z.output<typeof readQuery>,
    @RequestCaller() caller: Caller,
  ): Promise<KeyState> {
    return this.get(ref, q, caller);
  }

  @Get(':id')
  @Roles('tenant-admin', 'key-user', 'auditor')
  @ApiOperation({ summary: 'Get a key with its versions and state history (id or alias/<name>)' })
  @ApiParam({ name: 'id', description: 'key id, or alias/<name> (URL-encoded)' })
  @ApiOkResponse({ schema: openApi(keyResponse) })
  async get(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Query(new ZodPipe(readQuery, 'query')) q: z.output<typeof readQuery>,
    @RequestCaller() caller: Caller,
  ): Promise<KeyState> {
    const tenantId = caller.principal.tenantId;
    await this.views.waitFor(tenantId, q.minSeq);
    const view = ref.startsWith('alias/') ? await this.views.keyByAlias(tenantId, ref.slice(6)) : await this.views.key(tenantId, ref);
    if (!view) throw notFound(ref);
    const log = await this.grantsLog(caller);
    if (log !== undefined) requireRead(log, caller.principal, log.keys.get(view.keyId) ?? keyBody(view), ref, businessNow());
    return keyBody(view);
  }

  @KeyCommandRoute(':id/activate')
  activate(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(emptyBody)) _: unknown,
    @RequestCaller() caller: Caller,
  ) {
    return this.lifecycle(ref, caller, (keyId) => ({ kind: 'key.activate', keyId }));
  }

  @KeyCommandRoute(':id/deactivate')
  deactivate(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(emptyBody)) _: unknown,
    @RequestCaller() caller: Caller,
  ) {
    return this.lifecycle(ref, caller, (keyId) => ({ kind: 'key.deactivate', keyId }));
  }

  @KeyCommandRoute(':id/compromise', { body: compromiseBody })
  compromise(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(compromiseBody)) body: z.output<typeof compromiseBody>,
    @RequestCaller() caller: Caller,
  ) {
    return this.lifecycle(ref, caller, (keyId) => ({
      kind: 'key.compromise',
      keyId,
      reason: body.reason,
      ...(body.compromiseDate ? { compromiseDate: body.compromiseDate } : {}),
    }));
  }

  @KeyCommandRoute(':id/rotate')
  async rotate(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(emptyBody)) _: unknown,
    @RequestCaller() caller: Caller,
  ): Promise<KeyCommandAnswer> {
    const tenantId = caller.principal.tenantId;
    const { keyId, keyType } = await this.resolve(tenantId, ref);
    const { seq, log } = await this.commands.execute<RotateKeyCommand, Executed>(new RotateKeyCommand(tenantId, keyId, keyType, caller));
    return this.answer(seq, log.keys.get(keyId), keyId);
  }

  @KeyCommandRoute(':id/schedule-destruction', { body: scheduleDestructionBody })
  scheduleDestruction(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(scheduleDestructionBody)) body: z.output<typeof scheduleDestructionBody>,
    @RequestCaller() caller: Caller,
  ) {
    return this.lifecycle(ref, caller, (keyId) => ({ kind: 'key.schedule-destruction', keyId, waitingPeriodDays: body.waitingPeriodDays }));
  }

  @KeyCommandRoute(':id/cancel-destruction')
  cancelDestruction(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(emptyBody)) _: unknown,
    @RequestCaller() caller: Caller,
  ) {
    return this.lifecycle(ref, caller, (keyId) => ({ kind: 'key.cancel-destruction', keyId }));
  }

  @KeyCommandRoute(':id/enable-export', { summary: 'Allow the material of an exportable key to be retrieved (wrapped); dual-controlled' })
  enableExport(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(emptyBody)) _: unknown,
    @RequestCaller() caller: Caller,
  ) {
    return this.lifecycle(ref, caller, (keyId) => ({ kind: 'key.enable-export', keyId }));
  }

  @KeyCommandRoute(':id/min-decryption-version', {
    method: 'put',
    summary: 'Retire old versions: ciphertexts of versions below this no longer decrypt',
    body: minDecryptionVersionBody,
  })
  setMinDecryptionVersion(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(minDecryptionVersionBody)) body: z.output<typeof minDecryptionVersionBody>,
    @RequestCaller() caller: Caller,
  ) {
    return this.lifecycle(ref, caller, (keyId) => ({ kind: 'key.set-min-decryption-version', keyId, version: body.version }));
  }

  @KeyCommandRoute(':id/alias', { method: 'put', body: setAliasBody })
  setAlias(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(setAliasBody)) body: z.output<typeof setAliasBody>,
    @RequestCaller() caller: Caller,
  ) {
    return this.lifecycle(ref, caller, (keyId) => ({ kind: 'key.set-alias', keyId, alias: body.alias }));
  }

  @KeyCommandRoute(':id/owner', {
    method: 'put',
    summary: 'Assign the key to a kmip-client (an appliance identity), or take it back with null; dual-controlled',
    body: setOwnerBody,
  })
  setOwner(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(setOwnerBody)) body: z.output<typeof setOwnerBody>,
    @RequestCaller() caller: Caller,
  ) {
    return this.lifecycle(ref, caller, (keyId) => ({ kind: 'key.assign-owner', keyId, owner: body.owner }));
  }

  @KeyCommandRoute(':id', {
    method: 'patch',
    summary: 'Change description and labels (merge patch: null removes a label)',
    body: patchKeyBody,
  })
  async patch(
    @Param('id', new ZodPipe(keyRefParam, 'path')) ref: string,
    @Body(new ZodPipe(patchKeyBody)) body: z.output<typeof patchKeyBody>,
    @RequestCaller() caller: Caller,
  ): Promise<KeyCommandAnswer> {
    let answer: KeyCommandAnswer | undefined;
    if (body.description !== undefined) {
      const description = body.description;
      answer = await this.lifecycle(ref, caller, (keyId) => ({ kind: 'key.set-description', keyId, description }));
    }
    if (body.labels !== undefined) {
      const entries = Object.entries(body.labels);
      const set = Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== null));
      const remove = entries.filter(([, v]) => v === null).map(([k]) => k);
      answer = await this.lifecycle(ref, caller, (keyId) => ({ kind: 'key.change-labels', keyId, set, remove }));
    }
    if (!answer) throw new ProblemError(400, 'validation', 'Invalid request', 'send description and/or labels');
    return answer;
  }

  private async resolve(tenantId: string, ref: string): Promise<KeyState> {
    const log = await this.executor.current(tenantId);
    const key = log.resolveKey(ref);
    if (!key) throw notFound(ref);
    return key;
  }

  private async lifecycle(
    ref: string,
    caller: Caller,
    build: (keyId: string) => ExecuteLifecycleCommand['command'],
  ): Promise<KeyCommandAnswer> {
    const tenantId = caller.principal.tenantId;
    const { keyId } = await this.resolve(tenantId, ref);
    const { seq, log, pendingApproval } = await this.commands.execute<ExecuteLifecycleCommand, LifecycleOutcome>(
      new ExecuteLifecycleCommand(tenantId, build(keyId), caller),
    );
    if (pendingApproval) return { seq, pendingApproval };
    return this.answer(seq, log.keys.get(keyId), keyId);
  }

  private answer(seq: number, key: KeyState | undefined, keyId: string): KeyCommandAnswer {
    if (!key) throw notFound(keyId);
    return { seq, key: keyBody(key) };
  }

  /** The tenant log (in memory, as the data plane reads it) when the caller's reads are decided by grants (the domain's seesByGrant). */
  private async grantsLog(caller: Caller): Promise<TenantLog | undefined> {
    return seesByGrant(caller.principal.role) ? this.states.log(caller.principal.tenantId) : undefined;
  }

  private mayRead(log: TenantLog, caller: Caller, key: { readonly keyId: string }, now: Date): boolean {
    const state = log.keys.get(key.keyId);
    return state !== undefined && mayReadKey(log, caller.principal, state, now);
  }
}
