/** A bar chart of one value per label (ECharts). */
import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { BarChart as Bars } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([Bars, GridComponent, TooltipComponent, CanvasRenderer]);

export function BarChart({ labels, values, name, label, height = 260 }: { labels: string[]; values: number[]; name: string; label: string; height?: number }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | undefined>(undefined);
  useEffect(() => {
    chart.current = echarts.init(el.current!);
    const resize = () => chart.current?.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.current?.dispose();
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(
      {
        animation: false,
        tooltip: { trigger: 'axis' },
        grid: { left: 60, right: 20, top: 20, bottom: 40 },
        xAxis: { type: 'category', data: labels },
        yAxis: { type: 'value', name },
        series: [{ type: 'bar', data: values, name }],
      },
      true,
    );
  }, [labels, values, name]);
  return <div ref={el} className="chart" role="img" aria-label={label} style={{ height }} />;
}
