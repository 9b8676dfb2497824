/**
 * Runtime schemas of the engine contract, for everything that arrives from outside: case files,
 * and observations returned by a plugged-in engine (which may print garbage). Each schema
 * mirrors a type of operations.ts or observations.ts; the `satisfies` checks below keep them in
 * step with those types. Zod also emits JSON Schema from these for the protocol documentation.
 */
import { z } from 'zod';
import { EXCEPTION_MNEMONICS } from './exceptions.ts';
import type { ExceptionMnemonic } from './exceptions.ts';
import { INACTIVE_ACTIVITIES } from './observations.ts';
import type { Observation } from './observations.ts';
import type { Operation } from './operations.ts';

const hex = z
  .string()
  .regex(/^0[xX][0-9a-fA-F]{1,16}$/, 'expected a 64-bit hexadecimal string such as "0x1000"');
const hex32 = hex.refine((text) => BigInt(text) <= 0xffffffffn, 'expected a 32-bit value (at most 0xffffffff)');
const cpu = z.number().int().min(0).max(255);
const form = z.enum(['memory', 'register']).optional();

const gpr = z.number().int().min(0).max(15);

const pointerOp = <K extends string>(kind: K) =>
  z.object({ kind: z.literal(kind), cpu, pointer: hex, form }).strict();
const bareOp = <K extends string>(kind: K) => z.object({ kind: z.literal(kind), cpu }).strict();
const invOp = <K extends string>(kind: K) =>
  z.object({ kind: z.literal(kind), cpu, type: hex, descriptor: z.tuple([hex, hex]), form }).strict();

const hex16 = hex.refine((text) => BigInt(text) <= 0xffffn, 'expected a 16-bit value (at most 0xffff)');
const randomOp = <K extends string>(kind: K) =>
  z.object({ kind: z.literal(kind), cpu, gpr, size: z.union([z.literal(16), z.literal(32), z.literal(64)]) }).strict();
const xsaveOp = <K extends string>(kind: K) => z.object({ kind: z.literal(kind), cpu, mask: hex }).strict();

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
  z.object({ kind: z.literal('mov-cr0'), cpu, value: hex, gpr: gpr.optional() }).strict(),
  z.object({ kind: z.literal('mov-cr4'), cpu, value: hex, gpr: gpr.optional() }).strict(),
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
  ...guestOperationSchemas(),
]);

/** Schemas of the guest operations of case format 4 (spec/guest-operations.ts). */
function guestOperationSchemas() {
  return [
    z.object({ kind: z.literal('cpuid'), cpu, eax: hex, ecx: hex }).strict(),
    bareOp('hlt'),
    bareOp('invd'),
    z.object({ kind: z.literal('wbinvd'), cpu, variant: z.enum(['wbinvd', 'wbnoinvd']).optional() }).strict(),
    z.object({ kind: z.literal('invlpg'), cpu, address: hex }).strict(),
    bareOp('rdtsc'),
    bareOp('rdtscp'),
    z.object({ kind: z.literal('rdpmc'), cpu, ecx: hex }).strict(),
    bareOp('pause'),
    z.object({ kind: z.literal('mov-from-cr'), cpu, cr: z.union([z.literal(0), z.literal(3), z.literal(4), z.literal(8)]), gpr }).strict(),
    z.object({ kind: z.literal('mov-cr3'), cpu, value: hex, gpr: gpr.optional() }).strict(),
    z.object({ kind: z.literal('mov-cr8'), cpu, value: hex, gpr: gpr.optional() }).strict(),
    bareOp('clts'),
    z
      .object({ kind: z.literal('lmsw'), cpu, value: hex, form, address: hex.optional() })
      .strict()
      .refine((op) => op.form !== 'memory' || op.address !== undefined, 'the memory form of lmsw needs its address'),
    z
      .object({ kind: z.literal('mov-dr'), cpu, direction: z.enum(['to', 'from']), dr: z.number().int().min(0).max(7), gpr, value: hex.optional() })
      .strict()
      .refine((op) => (op.direction === 'to') === (op.value !== undefined), 'mov-dr needs a value when (and only when) direction is "to"'),
    z.object({ kind: z.literal('rdmsr'), cpu, ecx: hex }).strict(),
    z.object({ kind: z.literal('wrmsr'), cpu, ecx: hex, value: hex }).strict(),
    z
      .object({
        kind: z.literal('io'),
        cpu,
        direction: z.enum(['in', 'out']),
        port: z.number().int().min(0).max(0xffff),
        size: z.union([z.literal(1), z.literal(2), z.literal(4)]),
        string: z.boolean().optional(),
        rep: z.boolean().optional(),
        immediate: z.boolean().optional(),
        address: hex.optional(),
      })
      .strict()
      .refine((op) => op.immediate !== true || (op.string !== true && op.port <= 0xff), 'an immediate port is at most 0xff and not a string form')
      .refine((op) => op.string === true || (op.rep !== true && op.address === undefined), 'rep and address belong to string forms only'),
    z.object({ kind: z.literal('xsetbv'), cpu, ecx: hex, value: hex }).strict(),
    bareOp('monitor'),
    bareOp('mwait'),
    z.object({ kind: z.literal('exception'), cpu, vector: z.number().int().min(0).max(31), errorCode: hex32.optional(), address: hex.optional() }).strict(),
    ...systemInstructionSchemas(),
  ] as const;
}

/** Schemas of the guest operations case format 5 added (spec/system-instruction-operations.ts). */
function systemInstructionSchemas() {
  return [
    randomOp('rdrand'),
    randomOp('rdseed'),
    z.object({ kind: z.literal('invpcid'), cpu, type: hex, descriptor: z.tuple([hex, hex]), typeGpr: gpr.optional() }).strict(),
    z
      .object({
        kind: z.literal('descriptor-table'),
        cpu,
        instruction: z.enum(['sgdt', 'sidt', 'lgdt', 'lidt', 'sldt', 'str', 'lldt', 'ltr']),
        form,
        gpr: gpr.optional(),
        limit: hex16.optional(),
        base: hex.optional(),
        selector: hex16.optional(),
      })
      .strict()
      .refine((op) => op.form !== 'register' || !['sgdt', 'sidt', 'lgdt', 'lidt'].includes(op.instruction), 'sgdt, sidt, lgdt and lidt have a memory operand only')
      .refine((op) => op.form === 'register' || op.gpr === undefined, 'gpr belongs to the register form only')
      .refine(
        (op) => (op.instruction === 'lgdt' || op.instruction === 'lidt' ? op.limit !== undefined && op.base !== undefined : op.limit === undefined && op.base === undefined),
        'lgdt and lidt need limit and base (and only they take them)',
      )
      .refine((op) => (op.instruction === 'lldt' || op.instruction === 'ltr') === (op.selector !== undefined), 'lldt and ltr need a selector (and only they take one)'),
    z.object({ kind: z.literal('getsec'), cpu, eax: hex32.optional() }).strict(),
    xsaveOp('xsaves'),
    xsaveOp('xrstors'),
  ] as const;
}

const flags = z.number().int().min(0).max(0x8d5);

/** Schema of one {@link Observation}. */
export const observationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fault'), vector: z.enum(EXCEPTION_MNEMONICS as [ExceptionMnemonic, ...ExceptionMnemonic[]]), errorCode: hex32.optional(), flags }).strict(),
  z.object({ kind: z.literal('vmexit'), reason: z.number().int().min(0).max(0xffff), flags }).strict(),
  z
    .object({
      kind: z.literal('vmentry'),
      injected: z.object({ vector: z.number().int().min(0).max(255), type: z.number().int().min(0).max(7), errorCode: hex32.optional() }).strict().optional(),
      flags,
    })
    .strict(),
  z.object({ kind: z.literal('vmentry-failure'), exitReason: z.number().int().min(0).max(0xffff_ffff), qualification: hex, flags }).strict(),
  z.object({ kind: z.literal('vmsucceed'), value: hex.optional(), flags }).strict(),
  z.object({ kind: z.literal('vmfail-invalid'), flags }).strict(),
  z.object({ kind: z.literal('vmfail-valid'), error: z.number().int().min(0).max(0xffffffff), flags }).strict(),
  z.object({ kind: z.literal('ok'), value: hex.optional(), flags }).strict(),
  z.object({ kind: z.literal('unimplemented'), what: z.string(), flags }).strict(),
  z.object({ kind: z.literal('inactive'), activity: z.enum(INACTIVE_ACTIVITIES), flags }).strict(),
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
