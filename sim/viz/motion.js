// Replays each unit's path along the streets between two frames of the server, at the
// screen's refresh rate, on a canvas over the map picture (Vue options for ipyvue).
// Data from the server: `motion` {seq, t0, t1, units: [{c: colour, p: [[x, y, t], ...]}]}
// (metres, simulated minutes) and `geometry` {x0, x1, y0, y1, box: [left, bottom, w, h]}.
// Each frame is replayed over the time frames have been arriving apart (smoothed). The markers painted last, in metres, are kept on the canvas as
// `canvas.patrolMarkers` (and the painted frame count as `canvas.patrolPainted`) for tests.
module.exports = {
  mounted() {
    this.queue = [];
    this.trails = [];
    this.current = null;
    this.lastSeq = -1;
    this.running = true;
    const tick = (now) => {
      if (!this.running) return;
      this.paint(now);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    if (this.motion) this.take(this.motion);
  },
  beforeDestroy() { this.running = false; },
  watch: {
    motion(value) { this.take(value); },
  },
  methods: {
    take(frame) {
      if (!frame || frame.seq === this.lastSeq) return;
      this.lastSeq = frame.seq;
      const now = performance.now();
      if (this.arrived) {
        const gap = Math.min(now - this.arrived, 1000);
        this.interval = this.interval ? 0.8 * this.interval + 0.2 * gap : gap;
      }
      this.arrived = now;
      this.queue.push(frame);  // never dropped (a marker would jump): played faster instead
    },
    at(path, t) {  // the point of a path at simulated time t (between its points: the edge)
      if (t <= path[0][2]) return path[0];
      for (let i = 1; i < path.length; i++) {
        const a = path[i - 1], b = path[i];
        if (t <= b[2]) {
          const span = b[2] - a[2];
          const f = span > 0 ? (t - a[2]) / span : 1;
          return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])];
        }
      }
      return path[path.length - 1];
    },
    paint(now) {
      const canvas = this.$refs.canvas, g = this.geometry;
      if (!canvas || !g || !g.box) return;
      if (!this.current || (now - this.current.started >= this.current.duration && this.queue.length)) {
        if (this.queue.length) {
          const frame = this.queue.shift();
          const last = this.current && this.current.frame;
          if (!last || last.t1 !== frame.t0 || last.units.length !== frame.units.length) {
            this.trails = [];  // a new run (Reset): no trail from where the old one stood
          }
          const behind = this.queue.length;  // catch up when frames pile up
          this.current = {frame, started: now, duration: (this.interval || 100) / (1 + behind)};
        }
      }
      if (!this.current) return;
      const dpr = window.devicePixelRatio || 1;
      const w = canvas.clientWidth, h = canvas.clientHeight;
      if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
        canvas.width = Math.round(w * dpr);
        canvas.height = Math.round(h * dpr);
      }
      const ctx = canvas.getContext('2d');
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      const [left, bottom, bw, bh] = g.box;
      const px = (x) => (left + (x - g.x0) / (g.x1 - g.x0) * bw) * w;
      const py = (y) => (1 - bottom - (y - g.y0) / (g.y1 - g.y0) * bh) * h;
      const {frame, started, duration} = this.current;
      const f = Math.min(1, (now - started) / Math.max(duration, 1));
      const t = frame.t0 + f * (frame.t1 - frame.t0);
      const markers = [];
      frame.units.forEach((unit, i) => {
        const [x, y] = this.at(unit.p, t);
        markers.push([x, y]);
        const trail = this.trails[i] || (this.trails[i] = []);
        const last = trail[trail.length - 1];
        if (last && Math.hypot(x - last[0], y - last[1]) > 300) trail.length = 0;  // a jump
        if (!last || last[0] !== x || last[1] !== y) trail.push([x, y]);
        if (trail.length > 12) trail.shift();
        for (let k = 1; k < trail.length; k++) {  // a short trail that fades
          ctx.strokeStyle = unit.c;
          ctx.globalAlpha = 0.5 * k / trail.length;
          ctx.lineWidth = 3;
          ctx.beginPath();
          ctx.moveTo(px(trail[k - 1][0]), py(trail[k - 1][1]));
          ctx.lineTo(px(trail[k][0]), py(trail[k][1]));
          ctx.stroke();
        }
        ctx.globalAlpha = 1;
        ctx.fillStyle = unit.c;
        ctx.strokeStyle = '#000';
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.arc(px(x), py(y), 5.5, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      });
      canvas.patrolMarkers = markers;
      canvas.patrolPainted = (canvas.patrolPainted || 0) + 1;
    },
  },
};
