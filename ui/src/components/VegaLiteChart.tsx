/**
 * Draws the Vega-Lite specs Kiln's data-flow analyses return (bar, point and rect marks with
 * x, y, color and facet encodings) with ECharts, one small chart per facet value.
 */
import { useMemo } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { useEChart } from './useEChart';
import { markOf, type VegaLiteSpec } from './vega-lite-spec';

echarts.use([BarChart, ScatterChart, HeatmapChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

const label = (v: unknown) => (typeof v === 'number' ? String(Number(v.toPrecision(4))) : String(v ?? 'null'));

function option(spec: VegaLiteSpec, rows: Record<string, unknown>[], title?: string): echarts.EChartsCoreOption {
  const { x, y, x2, color } = spec.encoding!;
  const mark = markOf(spec);
  const base = { animation: false, title: title ? { text: title, textStyle: { fontSize: 12 } } : undefined, tooltip: { trigger: mark === 'point' ? 'item' : 'axis' }, grid: { left: 56, right: 16, top: title ? 48 : 32, bottom: 48 } };
  const groups = color?.field && color.type !== 'quantitative' ? [...new Set(rows.map((r) => label(r[color.field!])))] : [undefined];
  if (mark === 'rect') {
    const xs = [...new Set(rows.map((r) => label(r[x!.field!])))];
    const ys = [...new Set(rows.map((r) => label(r[y!.field!])))];
    const values = rows.map((r) => Number(r[color?.field ?? 'value']));
    return {
      ...base,
      tooltip: { position: 'top' },
      xAxis: { type: 'category', data: xs, axisLabel: { rotate: 45 } },
      yAxis: { type: 'category', data: ys },
      visualMap: { min: Math.min(-1, ...values), max: Math.max(1, ...values), calculable: true, orient: 'horizontal', left: 'center', bottom: 0, show: false },
      series: [{ type: 'heatmap', data: rows.map((r) => [xs.indexOf(label(r[x!.field!])), ys.indexOf(label(r[y!.field!])), Number(r[color?.field ?? 'value'])]) }],
    };
  }
  if (mark === 'point') {
    return {
      ...base,
      legend: groups[0] !== undefined ? { top: title ? 22 : 0 } : undefined,
      xAxis: { type: 'value', name: x!.title ?? x!.field, nameLocation: 'middle', nameGap: 28, scale: true },
      yAxis: { type: 'value', name: y!.title ?? y!.field, scale: true },
      series: groups.map((g) => ({
        type: 'scatter',
        name: g ?? y!.field,
        symbolSize: 5,
        data: rows.filter((r) => g === undefined || label(r[color!.field!]) === g).map((r) => [Number(r[x!.field!]), Number(r[y!.field!])]),
      })),
    };
  }
  // bar: categories along x (bins shown as "start–end"), one stacked series per colour.
  const binned = !!x2?.field;
  const key = (r: Record<string, unknown>) => (binned ? `${label(r[x!.field!])}–${label(r[x2!.field!])}` : label(r[x!.field!]));
  const categories = [...new Set(rows.map(key))];
  return {
    ...base,
    legend: groups[0] !== undefined ? { top: title ? 22 : 0 } : undefined,
    xAxis: { type: 'category', data: categories, name: x!.title ?? x!.field, nameLocation: 'middle', nameGap: 32, axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', name: y!.title ?? y!.field },
    series: groups.map((g) => ({
      type: 'bar',
      name: g ?? y!.field,
      stack: groups.length > 1 ? 'all' : undefined,
      data: categories.map((c) => rows.filter((r) => key(r) === c && (g === undefined || label(r[color!.field!]) === g)).reduce((sum, r) => sum + Number(r[y!.field!] ?? 0), 0)),
    })),
  };
}

function Panel({ spec, rows, title, height }: { spec: VegaLiteSpec; rows: Record<string, unknown>[]; title?: string; height: number }) {
  const el = useEChart(useMemo(() => option(spec, rows, title), [spec, rows, title]));
  return <div ref={el} className="chart" style={{ height }} />;
}

export function VegaLiteChart({ spec, label: name }: { spec: VegaLiteSpec; label: string }) {
  const rows = spec.data?.values ?? [];
  const facet = spec.encoding?.facet?.field;
  const facets = facet ? [...new Set(rows.map((r) => String(r[facet])))] : [];
  return (
    <div role="img" aria-label={name}>
      {spec.title && <div className="chart-title">{spec.title}</div>}
      {facet ? (
        <div className="facets">
          {facets.map((f) => (
            <Panel key={f} spec={spec} rows={rows.filter((r) => String(r[facet]) === f)} title={`${spec.encoding!.facet!.title ?? facet} = ${f}`} height={240} />
          ))}
        </div>
      ) : (
        <Panel spec={spec} rows={rows} height={300} />
      )}
    </div>
  );
}
