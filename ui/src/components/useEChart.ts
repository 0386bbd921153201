/** An ECharts instance bound to a div for the component's life, showing `option` (replaced whole when it changes). */
import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';

export function useEChart(option: echarts.EChartsCoreOption) {
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
    chart.current?.setOption(option, true);
  }, [option]);
  return el;
}
