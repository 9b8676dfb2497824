/**
 * Citations of the Intel SDM. Section numbers move between editions (the VMX chapters moved up
 * by one between 2016 and 2023), titles move less, so every citation carries both, plus the
 * edition it was read in.
 */

/** The SDM edition this project's citations were checked against. */
export const SDM_EDITION = 'December 2023';

/** A place in the Intel SDM. */
export interface Citation {
  /** Volume, for example `"3C"` (VMX chapters) or `"3D"` (appendices A-C). */
  volume: string;
  /** Section, table or appendix number in {@link Citation.edition}, for example `"31.3"`. */
  section: string;
  /** Title of that section, table or page, for example `"VMPTRLD—Load Pointer to Virtual-Machine Control Structure"`. */
  title: string;
  /** Edition the section number belongs to. */
  edition: string;
}

/** A citation of the {@link SDM_EDITION} edition. */
export function sdm(section: string, title: string, volume = '3C'): Citation {
  return { volume, section, title, edition: SDM_EDITION };
}

/** One-line human form: `SDM Vol. 3C §31.3 "VMPTRLD—..." (December 2023)`. */
export function formatCitation(citation: Citation): string {
  return `SDM Vol. ${citation.volume} §${citation.section} "${citation.title}" (${citation.edition})`;
}
