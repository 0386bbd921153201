/** A bar chart of one value per label (ECharts). */
import { useMemo } from 'react';
import * as echarts from 'echarts/core';
import { BarChart as Bars } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { useEChart } from './useEChart';

echarts.use([Bars, GridComponent, TooltipComponent, CanvasRenderer]);

export function BarChart({ labels, values, name, label, height = 260 }: { labels: string[]; values: number[]; name: string; label: string; height?: number }) {
  const el = useEChart(
    useMemo(
      () => ({
        animation: false,
        tooltip: { trigger: 'axis' },
        grid: { left: 60, right: 20, top: 20, bottom: 40 },
        xAxis: { type: 'category', data: labels },
        yAxis: { type: 'value', name },
        series: [{ type: 'bar', data: values, name }],
      }),
      [labels, values, name],
    ),
  );
  return <div ref={el} className="chart" role="img" aria-label={label} style={{ height }} />;
}
