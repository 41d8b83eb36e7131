/** Small stroke icons (24×24 grid), drawn to match the UI's text weight. */
import type { ReactNode } from 'react';

function Icon({ children, label }: { children: ReactNode; label?: string }) {
  return (
    // biome-ignore lint/a11y/noSvgWithoutTitle: decorative unless labelled (then it has a <title>)
    <svg
      className="icon"
      viewBox="0 0 24 24"
      width="1em"
      height="1em"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden={label ? undefined : true}
      role={label ? 'img' : undefined}
    >
      {label ? <title>{label}</title> : null}
      {children}
    </svg>
  );
}

export const PlayIcon = () => (
  <Icon>
    <path d="M7 4.5v15l12-7.5z" fill="currentColor" />
  </Icon>
);
export const PauseIcon = () => (
  <Icon>
    <path d="M8 5v14M16 5v14" strokeWidth="3" />
  </Icon>
);
export const StepIcon = () => (
  <Icon>
    <path d="M5 12h10M11 7l5 5-5 5M19 5v14" />
  </Icon>
);
export const TrapIcon = () => (
  <Icon>
    <path d="M4 12h6M14 12h6M10 8l4 4-4 4" />
    <circle cx="12" cy="12" r="9.5" strokeDasharray="3 3" />
  </Icon>
);
export const UntilIcon = () => (
  <Icon>
    <path d="M4 7v10l7-5zM12 7v10l7-5z" fill="currentColor" strokeWidth="1.5" />
  </Icon>
);
export const ResetIcon = () => (
  <Icon>
    <path d="M4 12a8 8 0 1 0 2.5-5.8M4 4v4.5h4.5" />
  </Icon>
);
export const SunIcon = () => (
  <Icon>
    <circle cx="12" cy="12" r="4" />
    <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
  </Icon>
);
export const MoonIcon = () => (
  <Icon>
    <path d="M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z" />
  </Icon>
);
export const ClassroomIcon = () => (
  <Icon>
    <path d="M4 19V6.5h16V19M2 19h20M9 19v-3.5h6V19" />
    <path d="M7.5 10h9" />
  </Icon>
);
export const HelpIcon = () => (
  <Icon>
    <circle cx="12" cy="12" r="9.5" />
    <path d="M9.5 9.5a2.6 2.6 0 1 1 3.6 2.4c-.7.3-1.1.9-1.1 1.6v.5M12 17h.01" />
  </Icon>
);
export const OpenIcon = () => (
  <Icon>
    <path d="M3.5 7.5V18a1.5 1.5 0 0 0 1.5 1.5h14a1.5 1.5 0 0 0 1.5-1.5V9a1.5 1.5 0 0 0-1.5-1.5h-7L10 5H5a1.5 1.5 0 0 0-1.5 1.5z" />
    <path d="M12 16.5v-6M9.5 13l2.5-2.5 2.5 2.5" />
  </Icon>
);
export const LinkIcon = () => (
  <Icon>
    <path d="M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1" />
    <path d="M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1" />
  </Icon>
);
export const CloseIcon = () => (
  <Icon>
    <path d="M6 6l12 12M18 6L6 18" />
  </Icon>
);
