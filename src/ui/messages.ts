/**
 * Messages from the session are written for the command line ("use --technique …"). The page says
 * the same thing in terms of its own controls.
 */

const RULES: [RegExp, string | ((...m: string[]) => string)][] = [
  [
    /native runs one guest; use --technique trap-and-emulate for several VMs/,
    'Native runs exactly one guest on the bare machine. To run several VMs side by side, choose a VMM technique such as Trap-and-emulate in the Technique menu.',
  ],
  [
    /cannot allocate (\d+) MiB of guest memory on this host; try a smaller --mem/,
    (_, mib) =>
      `This browser could not allocate ${mib} MiB of guest memory. Close other tabs, or choose fewer VMs.`,
  ],
  [
    /technique '([^']+)' is not built yet \(see issue \d+\)/,
    (_, t) => `The ${t} technique is not built yet; choose another one in the Technique menu.`,
  ],
  [
    /the number of VMs must be a whole number from 1 to \d+, got .*/,
    'Choose between 1 and 4 VMs in the VMs menu.',
  ],
  [/\(run `npm run guests`\)/, '(this build was made without it)'],
  [/ with --mem\b/, ''],
  [/\btry a smaller --mem\b/, 'choose a smaller guest'],
];

/** The message as the page should show it. */
export function uiMessage(message: string): string {
  let out = message;
  for (const [re, to] of RULES) {
    out = typeof to === 'string' ? out.replace(re, to) : out.replace(re, (...m: string[]) => to(...m));
  }
  return out;
}
