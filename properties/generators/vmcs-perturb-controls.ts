/**
 * Perturbation providers (perturbation-provider.ts) for the checks on the VMX controls, the
 * host-state area, event injection and the VM-entry MSR-load area: the coordinated changes,
 * memory contents and processor state that the generic one-field search of vmcs-perturb.ts
 * cannot find.
 */
import type { ProviderTable } from './perturbation-provider.ts';

/** Providers for the control, host-state, event-injection and MSR-load checks, by check id or group. */
export const CONTROL_PERTURBATIONS: ProviderTable = {};
