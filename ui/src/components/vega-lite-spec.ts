/**
 * The Vega-Lite specs Kiln's data-flow analyses return, and which of them Studio can draw. Kept
 * apart from the chart component so pages can ask without loading the charting library.
 */
interface Channel {
  field?: string;
  type?: string;
  title?: string;
  stack?: boolean | string;
}

export interface VegaLiteSpec {
  title?: string;
  data?: { values?: Record<string, unknown>[] };
  mark?: string | { type: string };
  encoding?: { x?: Channel; y?: Channel; x2?: Channel; color?: Channel; facet?: Channel };
}

export const markOf = (spec: VegaLiteSpec) => (typeof spec.mark === 'string' ? spec.mark : spec.mark?.type);

/** Whether Studio's chart component can draw the spec (otherwise the page shows its data). */
export function drawable(spec: VegaLiteSpec | undefined): boolean {
  const mark = spec && markOf(spec);
  return !!spec?.data?.values && !!spec.encoding?.x?.field && !!spec.encoding?.y?.field && (mark === 'bar' || mark === 'point' || mark === 'rect');
}
