/**
 * A rule is one decision point of the model: a place where the SDM decides an outcome. Every
 * verdict and every branch names the rule that produced it, so a report can say which SDM text
 * an engine's behaviour was checked against, and how many of the model's decision points a run
 * reached.
 */
import type { Citation } from '../spec/citation.ts';

/** One decision point of the model, with the SDM text it follows. */
export interface Rule {
  /** Stable identifier, `<area>.<decision>`, for example `vmptrld.vmxon-pointer`. */
  id: string;
  /** The instruction (`"VMPTRLD"`) or model area (`"memory"`) the rule belongs to. */
  instruction: string;
  /** Where the SDM states the rule. */
  citation: Citation;
  /** The rule in one line, in our own words. */
  summary: string;
}

/** Builds a {@link Rule}; a plain constructor so that rule tables read as data. */
export function rule(id: string, instruction: string, citation: Citation, summary: string): Rule {
  return { id, instruction, citation, summary };
}
