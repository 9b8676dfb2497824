/**
 * The guest operations of case format 4 (spec/guest-operations.ts): CPUID, HLT, MOV to and from
 * control and debug registers, RDMSR/WRMSR, I/O instructions, exceptions and the others whose VM
 * exits hypervisors handle. Their rules (SDM Vol. 3C, December 2023, §26.1 "Instructions That
 * Cause VM Exits", §26.2 "Other Causes of VM Exits") are being written; until then every such
 * step is not modelled.
 */
import { sdm } from '../spec/citation.ts';
import { rule } from './rule.ts';

/** The decision points of the guest operations. */
export const GUEST_OPERATION_RULES = {
  notModelledYet: rule(
    'guest-operation.not-modelled',
    'VMX non-root operation',
    sdm('26.1', 'Instructions That Cause VM Exits'),
    'the guest operations of case format 4 are not modelled yet',
  ),
} as const;
