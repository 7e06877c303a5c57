/** A small inline SVG of coverage over the last reports (no script needed). */
export function Sparkline(props: { values: number[]; label: string }) {
  const w = 120;
  const h = 28;
  const { values } = props;
  if (values.length === 0) return <span class="muted">no reports</span>;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const x = (i: number) => (values.length === 1 ? w / 2 : (i / (values.length - 1)) * (w - 4) + 2);
  const y = (v: number) => h - 3 - ((v - min) / span) * (h - 6);
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const last = values[values.length - 1]!;
  return (
    <svg class="spark" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={props.label}>
      <title>{props.label}</title>
      <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />
      <circle cx={x(values.length - 1)} cy={y(last)} r="2.5" fill="currentColor" />
    </svg>
  );
}
