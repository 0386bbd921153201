/** A line chart of named series (ECharts, loaded with the page that needs it). */
import { useMemo } from 'react';
import * as echarts from 'echarts/core';
import { LineChart as Lines } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { useEChart } from './useEChart';

echarts.use([Lines, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export interface Series {
  name: string;
  points: [number, number][];
}

export function LineChart({ series, xName, height = 280, label }: { series: Series[]; xName: string; height?: number; label: string }) {
  const el = useEChart(
    useMemo(
      () => ({
        animation: false,
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        grid: { left: 50, right: 20, top: 36, bottom: 36 },
        xAxis: { type: 'value', name: xName, nameLocation: 'middle', nameGap: 24, minInterval: 1 },
        yAxis: { type: 'value', scale: true },
        series: series.map((s) => ({ name: s.name, type: 'line', showSymbol: false, data: s.points })),
      }),
      [series, xName],
    ),
  );
  return <div ref={el} className="chart" role="img" aria-label={label} style={{ height }} />;
}
