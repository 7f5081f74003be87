// A small time-series line chart on <canvas>: several series over a sliding time window, sized
// for the device pixel ratio, redrawn at most once per animation frame, coloured from the theme's
// CSS variables. Used for the console's live figures (sparklines) and the live price demo. The
// canvas exposes what it drew in `data-points` (points inside the window) so tests can read it.

function cssVar(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

export class LineChart {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{ windowMs?: number, axes?: boolean, format?: (v: number) => string, zeroBased?: boolean }} options
   *   windowMs: visible time span (default 60 s); axes: draw grid, labels and legend (default true);
   *   format: y label formatter; zeroBased: keep 0 on the y axis (default false).
   */
  constructor(canvas, options = {}) {
    this.canvas = canvas;
    this.windowMs = options.windowMs ?? 60_000;
    this.axes = options.axes ?? true;
    this.format = options.format ?? ((v) => v.toFixed(2));
    this.zeroBased = options.zeroBased ?? false;
    /** @type {Map<string, { color: string, points: {t: number, v: number}[] }>} */
    this.series = new Map();
    this.pending = false;
    new ResizeObserver(() => this.invalidate()).observe(canvas);
    document.addEventListener("themechange", () => this.invalidate());
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.invalidate());
  }

  /** Adds a point `v` at time `t` (ms since the epoch) to series `name`. */
  push(name, t, v) {
    let series = this.series.get(name);
    if (!series) {
      series = { index: this.series.size, points: [] };
      this.series.set(name, series);
    }
    const points = series.points;
    // Replayed (caught-up) points can arrive late; keep each series sorted by time.
    if (points.length > 0 && points[points.length - 1].t > t) {
      let i = points.length - 1;
      while (i > 0 && points[i - 1].t > t) i--;
      points.splice(i, 0, { t, v });
    } else {
      points.push({ t, v });
    }
    const horizon = t - this.windowMs * 2;
    while (points.length > 0 && points[0].t < horizon) points.shift();
    this.invalidate();
  }

  colorOf(name) {
    const series = this.series.get(name);
    const index = series ? series.index : 0;
    return cssVar(`--series-${(index % 5) + 1}`, "#2f6fed");
  }

  invalidate() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw() {
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (width === 0 || height === 0) return;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);

    let latest = 0;
    let earliest = Number.POSITIVE_INFINITY;
    for (const { points } of this.series.values()) {
      if (points.length === 0) continue;
      latest = Math.max(latest, points[points.length - 1].t);
      earliest = Math.min(earliest, points[0].t);
    }
    const end = latest || Date.now();
    // Until the window fills up, zoom in on the data there is (at least 5 s).
    const span = Math.min(this.windowMs, Math.max(5_000, end - earliest));
    const start = end - span;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let visible = 0;
    for (const { points } of this.series.values()) {
      for (const p of points) {
        if (p.t < start) continue;
        visible++;
        min = Math.min(min, p.v);
        max = Math.max(max, p.v);
      }
    }
    canvas.dataset.points = String(visible);
    if (this.zeroBased) min = Math.min(0, min);
    if (!Number.isFinite(min)) {
      min = 0;
      max = 1;
    }
    if (max - min < 1e-9) {
      max += 1;
      if (!this.zeroBased) min -= 1;
    }
    const padY = (max - min) * 0.08;
    if (!(this.zeroBased && min === 0)) min -= padY;
    max += padY;

    const left = this.axes ? 62 : 1;
    const right = this.axes ? 12 : 1;
    const top = this.axes ? 28 : 3;
    const bottom = this.axes ? 24 : 3;
    const plotW = Math.max(1, width - left - right);
    const plotH = Math.max(1, height - top - bottom);
    const x = (t) => left + ((t - start) / span) * plotW;
    const y = (v) => top + (1 - (v - min) / (max - min)) * plotH;

    const muted = cssVar("--muted", "#888");
    const border = cssVar("--border", "#ddd");
    if (this.axes) {
      ctx.font = "11px system-ui, sans-serif";
      ctx.fillStyle = muted;
      ctx.strokeStyle = border;
      ctx.lineWidth = 1;
      ctx.textBaseline = "middle";
      ctx.textAlign = "right";
      for (let i = 0; i <= 4; i++) {
        const v = min + ((max - min) * i) / 4;
        const py = Math.round(y(v)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(left, py);
        ctx.lineTo(width - right, py);
        ctx.stroke();
        ctx.fillText(this.format(v), left - 8, py);
      }
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      const step = Math.max(1000, Math.round(span / 6 / 1000) * 1000);
      for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
        const label = new Date(t).toLocaleTimeString([], {
          hour12: false,
          hour: "2-digit",
          minute: "2-digit",
          second: "2-digit",
        });
        ctx.fillText(label, x(t), height - bottom + 6);
      }
      // Legend
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      let lx = left;
      for (const name of this.series.keys()) {
        ctx.fillStyle = this.colorOf(name);
        ctx.fillRect(lx, 10, 12, 3);
        ctx.fillStyle = muted;
        ctx.fillText(name, lx + 16, 12);
        lx += ctx.measureText(name).width + 34;
      }
    }

    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top - 2, plotW, plotH + 4);
    ctx.clip();
    for (const [name, { points }] of this.series) {
      const color = this.colorOf(name);
      const inWindow = points.filter((p) => p.t >= start - span / 20);
      if (inWindow.length === 0) continue;
      ctx.strokeStyle = color;
      ctx.lineWidth = this.axes ? 2 : 1.5;
      ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(x(inWindow[0].t), y(inWindow[0].v));
      for (const p of inWindow) ctx.lineTo(x(p.t), y(p.v));
      ctx.stroke();
      if (!this.axes) {
        // Sparkline: a soft fill under the line.
        ctx.lineTo(x(inWindow[inWindow.length - 1].t), top + plotH);
        ctx.lineTo(x(inWindow[0].t), top + plotH);
        ctx.closePath();
        ctx.globalAlpha = 0.15;
        ctx.fillStyle = color;
        ctx.fill();
        ctx.globalAlpha = 1;
      } else {
        const last = inWindow[inWindow.length - 1];
        ctx.fillStyle = color;
        ctx.beginPath();
        ctx.arc(x(last.t), y(last.v), 3.5, 0, Math.PI * 2);
        ctx.fill();
      }
    }
    ctx.restore();
  }
}
