import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { create, fromBinary, healthV1, reflectionV1, reflectionV1alpha, toBinary } from '@fabric/proto';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, type RunningControlPlane, rawUnary, startTestControlPlane, TOKENS, testConfig } from './harness.js';

const PORT = 31000;

describe('control plane server: health, reflection, auth, request errors', () => {
  let cp: RunningControlPlane;

  beforeAll(async () => {
    cp = await startTestControlPlane(await testConfig({ port: PORT }));
  });
  afterAll(() => cp?.stop());

  describe('grpc.health.v1', () => {
    it('answers Check without a token, for the server and each service', async () => {
      // Raw bytes: exactly what a probe such as grpc-health-probe sends.
      const answer = async (service: string) =>
        fromBinary(
          healthV1.HealthCheckResponseSchema,
          await rawUnary(
            cp.address,
            '/grpc.health.v1.Health/Check',
            toBinary(healthV1.HealthCheckRequestSchema, create(healthV1.HealthCheckRequestSchema, { service })),
          ),
        ).status;
      expect(await answer('')).toBe(healthV1.HealthCheckResponse_ServingStatus.SERVING);
      expect(await answer('fabric.v1.LagService')).toBe(healthV1.HealthCheckResponse_ServingStatus.SERVING);
      const unknown = await codeOf(answer('fabric.v1.NoSuchService'));
      expect(unknown.code).toBe(status.NOT_FOUND);
    });

    it('streams the status on Watch, and SERVICE_UNKNOWN for unknown services', async () => {
      const client = cp.client();
      const stop = new AbortController();
      const watched: number[] = [];
      for await (const r of client.health.watch({ service: 'fabric.v1.DeadLetterService' }, { signal: stop.signal })) {
        watched.push(r.status);
        break;
      }
      for await (const r of client.health.watch({ service: 'nope' })) {
        watched.push(r.status);
        break;
      }
      expect(watched).toEqual([
        healthV1.HealthCheckResponse_ServingStatus.SERVING,
        healthV1.HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN,
      ]);
    });
  });

  describe('server reflection', () => {
    /** One request/response exchange on a raw bidi stream, as grpcurl does it. */
    async function reflect(
      version: typeof reflectionV1 | typeof reflectionV1alpha,
      request: Parameters<typeof create<typeof reflectionV1.ServerReflectionRequestSchema>>[1],
      token: string | null = TOKENS.read,
    ): Promise<reflectionV1.ServerReflectionResponse> {
      const pkg = version === reflectionV1 ? 'grpc.reflection.v1' : 'grpc.reflection.v1alpha';
      const client = new Client(cp.address, credentials.createInsecure());
      const metadata = new Metadata();
      if (token) metadata.set('authorization', `Bearer ${token}`);
      const call = client.makeBidiStreamRequest(
        `/${pkg}.ServerReflection/ServerReflectionInfo`,
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => b,
        metadata,
      );
      const answer = new Promise<Buffer>((resolve, reject) => {
        call.once('data', resolve);
        call.once('error', reject);
      });
      answer.catch(() => undefined);
      try {
        const schema =
          version.ServerReflectionRequestSchema as unknown as typeof reflectionV1.ServerReflectionRequestSchema;
        call.write(toBinary(schema, create(schema, request)));
        call.end();
        // Wire-identical: v1alpha answers decode with the v1 schema, which checks that too.
        return fromBinary(reflectionV1.ServerReflectionResponseSchema, await answer);
      } finally {
        call.cancel();
        client.close();
      }
    }

    it.each([reflectionV1, reflectionV1alpha])('lists every service (%#)', async (version) => {
      const res = await reflect(version, { host: 'localhost', messageRequest: { case: 'listServices', value: '' } });
      expect(res.messageResponse.case).toBe('listServicesResponse');
      const names =
        res.messageResponse.case === 'listServicesResponse' ? res.messageResponse.value.service.map((s) => s.name) : [];
      expect(names.sort()).toEqual(
        [
          'fabric.v1.ContinuityService',
          'fabric.v1.DeadLetterService',
          'fabric.v1.InvalidationService',
          'fabric.v1.LagService',
          'grpc.health.v1.Health',
          'grpc.reflection.v1.ServerReflection',
          'grpc.reflection.v1alpha.ServerReflection',
        ].sort(),
      );
      expect(res.validHost).toBe('localhost');
    });

    it('returns the file declaring a method, with its dependencies, as FileDescriptorProtos', async () => {
      const res = await reflect(reflectionV1, {
        messageRequest: { case: 'fileContainingSymbol', value: 'fabric.v1.LagService.GetLag' },
      });
      expect(res.messageResponse.case).toBe('fileDescriptorResponse');
      const files =
        res.messageResponse.case === 'fileDescriptorResponse'
          ? res.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b))
          : [];
      expect(files.map((f) => f.name)).toEqual([
        'fabric/v1/control.proto',
        'fabric/v1/invalidation.proto',
        'google/protobuf/timestamp.proto',
      ]);
      const control = files[0]!;
      expect(control.dependency.sort()).toEqual(['fabric/v1/invalidation.proto', 'google/protobuf/timestamp.proto']);
      const lagService = control.service.find((s) => s.name === 'LagService')!;
      expect(lagService.method.map((m) => [m.name, m.inputType, m.outputType, m.serverStreaming ?? false])).toEqual([
        ['GetLag', '.fabric.v1.GetLagRequest', '.fabric.v1.GetLagResponse', false],
        ['WatchLag', '.fabric.v1.WatchLagRequest', '.fabric.v1.WatchLagResponse', true],
      ]);
    });

    it('finds messages, nested enums and files by name; NOT_FOUND otherwise', async () => {
      const fileOf = async (messageRequest: Parameters<typeof reflect>[1]['messageRequest']) => {
        const res = await reflect(reflectionV1alpha, { messageRequest });
        if (res.messageResponse.case === 'errorResponse') return `error ${res.messageResponse.value.errorCode}`;
        if (res.messageResponse.case !== 'fileDescriptorResponse') return 'unexpected';
        return fromBinary(FileDescriptorProtoSchema, res.messageResponse.value.fileDescriptorProto[0]!).name;
      };
      expect(await fileOf({ case: 'fileContainingSymbol', value: 'fabric.v1.DeadLetter' })).toBe(
        'fabric/v1/invalidation.proto',
      );
      expect(
        await fileOf({ case: 'fileContainingSymbol', value: 'grpc.health.v1.HealthCheckResponse.ServingStatus' }),
      ).toBe('grpc/health/v1/health.proto');
      expect(await fileOf({ case: 'fileByFilename', value: 'google/protobuf/timestamp.proto' })).toBe(
        'google/protobuf/timestamp.proto',
      );
      expect(await fileOf({ case: 'fileContainingSymbol', value: 'fabric.v1.Nope' })).toBe(`error ${status.NOT_FOUND}`);
    });

    it('needs a token like every non-health service', async () => {
      expect(
        (await codeOf(reflect(reflectionV1, { messageRequest: { case: 'listServices', value: '' } }, null))).code,
      ).toBe(status.UNAUTHENTICATED);
    });
  });

  describe('authentication', () => {
    it('refuses a call without a token as UNAUTHENTICATED, and an unknown token too', async () => {
      expect(await codeOf(cp.client().lag.getLag({}))).toMatchObject({
        code: status.UNAUTHENTICATED,
        details: expect.stringContaining('authorization'),
      });
      expect(await codeOf(cp.client('not-a-token').lag.getLag({}))).toMatchObject({
        code: status.UNAUTHENTICATED,
        details: 'unknown token',
      });
    });

    it('refuses admin RPCs to a read token with PERMISSION_DENIED, and lets admin through', async () => {
      const request = { regions: ['us-east'], keys: ['auth-test:never-published'] };
      expect(await codeOf(cp.client(TOKENS.read).invalidation.invalidate(request))).toMatchObject({
        code: status.PERMISSION_DENIED,
        details: expect.stringContaining('"admin" scope'),
      });
      const replay = async () => {
        for await (const _ of cp.client(TOKENS.read).deadLetters.replayDeadLetters({ region: 'us-east', dryRun: true }))
          break;
      };
      expect((await codeOf(replay())).code).toBe(status.PERMISSION_DENIED);
      // Same request, admin token: refused only for the request's content, which proves the token passed.
      expect(
        await codeOf(cp.client(TOKENS.admin).invalidation.invalidate({ ...request, regions: ['us-east', 'us-east'] })),
      ).toMatchObject({ code: status.INVALID_ARGUMENT });
    });
  });

  describe('request errors', () => {
    it('names the bad field with INVALID_ARGUMENT', async () => {
      const admin = cp.client(TOKENS.admin);
      expect(await codeOf(admin.invalidation.invalidate({ regions: ['us-east'], patterns: ['user:*', '*'] }))).toEqual({
        code: status.INVALID_ARGUMENT,
        details: expect.stringMatching(/^patterns\[1\]: "\*" has no literal prefix/),
      });
      expect(await codeOf(admin.deadLetters.listDeadLetters({ pageSize: 10_000 }))).toEqual({
        code: status.INVALID_ARGUMENT,
        details: 'page_size: at most 500, got 10000',
      });
      const watch = async () => {
        for await (const _ of admin.lag.watchLag({ intervalMs: 5 })) break;
      };
      expect(await codeOf(watch())).toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: expect.stringMatching(/^interval_ms: /),
      });
    });

    it('answers NOT_FOUND for an unknown region, naming the field', async () => {
      const admin = cp.client(TOKENS.admin);
      expect(await codeOf(admin.lag.getLag({ region: 'mars' }))).toEqual({
        code: status.NOT_FOUND,
        details: 'region: unknown region "mars" (known: us-east, eu-west, ap-south)',
      });
      expect(await codeOf(admin.invalidation.invalidate({ regions: ['eu-west', 'mars'], keys: ['k'] }))).toMatchObject({
        code: status.NOT_FOUND,
        details: expect.stringMatching(/^regions\[1\]: unknown region "mars"/),
      });
    });
  });
});
