/**
 * Runtime schemas of the process protocol (./messages.ts), for checking every line an emulator
 * prints, and the source of docs/protocol.schema.json (`npm run schema`, see ./json-schema.ts).
 * Operations and observations reuse the engine contract's schemas (spec/schemas.ts).
 */
import { z } from 'zod';
import { observationSchema, operationSchema } from '../schemas.ts';
import type {
  ByeMessage,
  CaseMessage,
  EmulatorHello,
  EmulatorMessage,
  EndMessage,
  ErrorMessage,
  HarnessHello,
  HarnessMessage,
  ObservationMessage,
} from './messages.ts';
import { GUEST_OPERATION_KINDS } from '../guest-operations.ts';
import { PROTOCOL_VERSION } from './messages.ts';

const hex = z
  .string()
  .regex(/^0[xX][0-9a-fA-F]{1,16}$/, 'expected a 64-bit hexadecimal string such as "0x1000"');
const caseId = z.number().int().min(0);
const operation = operationSchema.meta({ id: 'Operation', description: 'One operation of the engine contract (spec/operations.ts).' });
const observation = observationSchema.meta({ id: 'Observation', description: 'One observation of the engine contract (spec/observations.ts).' });
const processors = z.number().int().min(1).max(256);

/** The operation kinds, as the hello's `operations` list names them. */
const operationKind = z.enum([
  'vmxon',
  'vmxoff',
  'vmclear',
  'vmptrld',
  'vmptrst',
  'vmread',
  'vmwrite',
  'vmlaunch',
  'vmresume',
  'invept',
  'invvpid',
  'vmcall',
  'vmfunc',
  'mov-cr0',
  'mov-cr4',
  'write-feature-control',
  'set',
  'write-memory',
  ...GUEST_OPERATION_KINDS,
]);

const msrs = z
  .object({
    IA32_VMX_BASIC: hex,
    IA32_VMX_PINBASED_CTLS: hex,
    IA32_VMX_PROCBASED_CTLS: hex,
    IA32_VMX_EXIT_CTLS: hex,
    IA32_VMX_ENTRY_CTLS: hex,
    IA32_VMX_MISC: hex,
    IA32_VMX_CR0_FIXED0: hex,
    IA32_VMX_CR0_FIXED1: hex,
    IA32_VMX_CR4_FIXED0: hex,
    IA32_VMX_CR4_FIXED1: hex,
    IA32_VMX_VMCS_ENUM: hex,
    IA32_VMX_PROCBASED_CTLS2: hex.optional(),
    IA32_VMX_EPT_VPID_CAP: hex.optional(),
    IA32_VMX_TRUE_PINBASED_CTLS: hex.optional(),
    IA32_VMX_TRUE_PROCBASED_CTLS: hex.optional(),
    IA32_VMX_TRUE_EXIT_CTLS: hex.optional(),
    IA32_VMX_TRUE_ENTRY_CTLS: hex.optional(),
    IA32_VMX_VMFUNC: hex.optional(),
    IA32_VMX_PROCBASED_CTLS3: hex.optional(),
    IA32_VMX_EXIT_CTLS2: hex.optional(),
  })
  .strict()
  .describe('VMX capability MSR values (480H-493H) as hexadecimal strings; absent optional MSRs do not exist');

/** The profile an emulator announces (ProfileData with optional name and description). */
export const announcedProfileSchema = z
  .object({
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    physicalAddressWidth: z.number().int().min(32).max(52),
    featureControl: hex,
    msrs,
  })
  .strict();

/** Harness to emulator: the first line. */
export const harnessHelloSchema = z
  .object({ type: z.literal('hello'), protocol: z.literal(PROTOCOL_VERSION), harness: z.string().optional() })
  .strict()
  .meta({ id: 'HarnessHello', description: 'Harness to emulator, first line.' });

/** Emulator to harness: the first line. */
export const emulatorHelloSchema = z
  .object({
    type: z.literal('hello'),
    protocol: z.literal(PROTOCOL_VERSION),
    name: z.string().regex(/^[A-Za-z0-9._+-]{1,64}$/, 'expected 1-64 letters, digits, dots, dashes, underscores or pluses (it names saved files)'),
    version: z.string().max(100).optional(),
    profile: announcedProfileSchema,
    operations: z.array(operationKind).min(1),
    logicalProcessors: processors,
  })
  .strict()
  .meta({ id: 'EmulatorHello', description: 'Emulator to harness, first line: name, profile, operations it executes.' });

/** Harness to emulator: one case to run from the initial state. */
export const caseMessageSchema = z
  .object({ type: z.literal('case'), id: caseId, logicalProcessors: processors, operations: z.array(operation) })
  .strict()
  .meta({ id: 'Case', description: 'Harness to emulator: run these operations on a fresh machine.' });

/** Harness to emulator: the last line. */
export const byeMessageSchema = z
  .object({ type: z.literal('bye') })
  .strict()
  .meta({ id: 'Bye', description: 'Harness to emulator, last line: exit with status 0.' });

/** Emulator to harness: the observation of one step. */
export const observationMessageSchema = z
  .object({ type: z.literal('observation'), case: caseId, index: z.number().int().min(0), observation })
  .strict()
  .meta({ id: 'ObservationMessage', description: 'Emulator to harness: what step `index` of case `case` did.' });

/** Emulator to harness: a case is finished. */
export const endMessageSchema = z
  .object({ type: z.literal('end'), case: caseId })
  .strict()
  .meta({ id: 'End', description: 'Emulator to harness: case `case` is finished.' });

/** Emulator to harness: it cannot go on. */
export const errorMessageSchema = z
  .object({ type: z.literal('error'), case: caseId.optional(), message: z.string() })
  .strict()
  .meta({ id: 'Error', description: 'Emulator to harness: an internal error; the harness reports an emulator fault.' });

/** Any line the harness sends. */
export const harnessMessageSchema = z.discriminatedUnion('type', [harnessHelloSchema, caseMessageSchema, byeMessageSchema]);

/** Any line an emulator sends after its hello. */
export const emulatorMessageSchema = z.discriminatedUnion('type', [observationMessageSchema, endMessageSchema, errorMessageSchema]);

// Compile-time agreement between the schemas and the hand-written types (no code at run time).
type Parsed<S extends z.ZodType> = z.infer<S>;
type Agrees<Inferred, Declared> = Inferred extends Declared ? true : false;
type Assert<T extends true> = T;
/** Fails to compile when a schema and its type in messages.ts drift apart. */
export type SchemasAgreeWithTypes = [
  Assert<Agrees<Parsed<typeof harnessHelloSchema>, HarnessHello>>,
  Assert<Agrees<Parsed<typeof emulatorHelloSchema>, EmulatorHello>>,
  Assert<Agrees<Parsed<typeof caseMessageSchema>, CaseMessage>>,
  Assert<Agrees<Parsed<typeof byeMessageSchema>, ByeMessage>>,
  Assert<Agrees<Parsed<typeof observationMessageSchema>, ObservationMessage>>,
  Assert<Agrees<Parsed<typeof endMessageSchema>, EndMessage>>,
  Assert<Agrees<Parsed<typeof errorMessageSchema>, ErrorMessage>>,
  Assert<Agrees<Parsed<typeof harnessMessageSchema>, HarnessMessage>>,
  Assert<Agrees<Parsed<typeof emulatorMessageSchema>, EmulatorMessage>>,
];
