/**
 * Runtime schemas of the engine contract, for everything that arrives from outside: case files,
 * and observations returned by a plugged-in engine (which may print garbage). Each schema
 * mirrors a type of operations.ts or observations.ts; the `satisfies` checks below keep them in
 * step with those types. Zod also emits JSON Schema from these for the protocol documentation.
 */
import { z } from 'zod';
import type { Observation } from './observations.ts';
import type { Operation } from './operations.ts';

const hex = z
  .string()
  .regex(/^0[xX][0-9a-fA-F]{1,16}$/, 'expected a 64-bit hexadecimal string such as "0x1000"');
const hex32 = hex.refine((text) => BigInt(text) <= 0xffffffffn, 'expected a 32-bit value (at most 0xffffffff)');
const cpu = z.number().int().min(0).max(255);
const form = z.enum(['memory', 'register']).optional();

const pointerOp = <K extends string>(kind: K) =>
  z.object({ kind: z.literal(kind), cpu, pointer: hex, form }).strict();
const bareOp = <K extends string>(kind: K) => z.object({ kind: z.literal(kind), cpu }).strict();
const invOp = <K extends string>(kind: K) =>
  z.object({ kind: z.literal(kind), cpu, type: hex, descriptor: z.tuple([hex, hex]), form }).strict();

/** Schema of one {@link Operation}. */
export const operationSchema = z.discriminatedUnion('kind', [
  pointerOp('vmxon'),
  bareOp('vmxoff'),
  pointerOp('vmclear'),
  pointerOp('vmptrld'),
  z.object({ kind: z.literal('vmptrst'), cpu, form }).strict(),
  z.object({ kind: z.literal('vmread'), cpu, encoding: hex, form }).strict(),
  z.object({ kind: z.literal('vmwrite'), cpu, encoding: hex, value: hex, form }).strict(),
  bareOp('vmlaunch'),
  bareOp('vmresume'),
  invOp('invept'),
  invOp('invvpid'),
  bareOp('vmcall'),
  z.object({ kind: z.literal('vmfunc'), cpu, eax: hex, ecx: hex }).strict(),
  z.object({ kind: z.literal('mov-cr0'), cpu, value: hex }).strict(),
  z.object({ kind: z.literal('mov-cr4'), cpu, value: hex }).strict(),
  z.object({ kind: z.literal('write-feature-control'), cpu, value: hex }).strict(),
  z
    .object({
      kind: z.literal('set'),
      cpu,
      what: z.enum(['efer.lma', 'cs.l', 'cpl', 'rflags.vm', 'mov-ss-blocking', 'efer.lme', 'cr3']),
      value: z.number().int().min(0).max(0xffffffff),
    })
    .strict()
    .refine(
      (op) => op.what === 'cr3' || op.value <= (op.what === 'cpl' ? 3 : 1),
      'value must be 0 or 1, 0 to 3 for cpl, 0 to 0xffffffff for cr3',
    ),
  z
    .object({ kind: z.literal('write-memory'), cpu, address: hex, value: hex32 })
    .strict()
    .refine((op) => (BigInt(op.address) & 3n) === 0n, 'address must be 4-byte aligned'),
]);

const flags = z.number().int().min(0).max(0x8d5);

/** Schema of one {@link Observation}. */
export const observationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fault'), vector: z.enum(['UD', 'GP']), flags }).strict(),
  z.object({ kind: z.literal('vmexit'), reason: z.number().int().min(0).max(0xffff), flags }).strict(),
  z.object({ kind: z.literal('vmentry'), flags }).strict(),
  z.object({ kind: z.literal('vmentry-failure'), exitReason: z.number().int().min(0).max(0xffff_ffff), qualification: hex, flags }).strict(),
  z.object({ kind: z.literal('vmsucceed'), value: hex.optional(), flags }).strict(),
  z.object({ kind: z.literal('vmfail-invalid'), flags }).strict(),
  z.object({ kind: z.literal('vmfail-valid'), error: z.number().int().min(0).max(0xffffffff), flags }).strict(),
  z.object({ kind: z.literal('ok'), flags }).strict(),
  z.object({ kind: z.literal('unimplemented'), what: z.string(), flags }).strict(),
]);

// Compile-time agreement between the schemas and the hand-written types.
type Parsed<S extends z.ZodType> = z.infer<S>;
const _operationsAgree = (op: Parsed<typeof operationSchema>): Operation => op;
const _observationsAgree = (obs: Parsed<typeof observationSchema>): Observation => obs;
void _operationsAgree;
void _observationsAgree;

/** Turns zod issues into one readable line per problem: `path: message`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    return `${where}: ${issue.message}`;
  });
}
