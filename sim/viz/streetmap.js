// The map, drawn by the browser (Vue options for ipyvue): the streets from vectors sent once,
// and each unit moved along its street path between two frames of the server.
// `streets` (once): {limits: [x0, x1, y0, y1], streets: [x0, y0, x1, y1, ...] metres,
//   tint, palette, posts: [[x, y, kind]], names: [[text, x, y]], cover, credit, alert_min}.
// `coverage`: a colour per `cover` segment, or [] (sent only when it changes).
// `overlay` (each frame): {clock, calls: [[x, y, colour, waited_min]], followed, route}.
// `motion` (each frame): {seq, t0, t1, units: [{c: colour, p: [[x, y, t], ...]}]}.
// A painted frame is drawn only when something changed: a page at rest costs no CPU.
// Replay: a frame is played over the time frames have been arriving apart (smoothed), but a
// marker never moves more than STEP_MAX_M between two painted frames: the replay falls behind
// instead, and catches up only when more than CATCH_UP_FRAMES frames wait.
// Test hooks: on canvas.patrol-streets `patrolSegments` (street segments drawn) and
// `patrolNames` (name boxes, CSS px); on canvas.patrol-motion `patrolMarkers` (metres),
// `patrolPainted`, `patrolFrames` (frames received), `patrolCounts` (count label boxes),
// `patrolLabels` ([text, left, top] of each name, drawn over the markers in `patrolFont`) and
// `patrolToPx(x, y)` (metres -> CSS pixels). Each motion frame taken is confirmed to the
// server (`seen(seq)`): its play loop never runs more than a few frames ahead of the page.
const STEP_MAX_M = 45;
const CATCH_UP_FRAMES = 8;
const PICK_PX = 8;
const TRAIL_POINTS = 12;
const RINGS_PX = [9, 16, 26, 38, 52];
const DIRECTIONS = [[0, 1], [0, -1], [1, 0], [-1, 0], [1, 1], [-1, 1], [1, -1], [-1, -1]];
const FONT = '12px Roboto, "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif';
const BOLD = 'bold 11px Roboto, sans-serif';

function overlap(a, b) {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  return w > 0 && h > 0 ? w * h : 0;
}

function niceLength(metres) {
  if (metres <= 1) return 1;
  const scale = Math.pow(10, Math.floor(Math.log10(metres)));
  return Math.max(...[1, 2, 5].map((k) => k * scale).filter((v) => v <= metres));
}

module.exports = {
  mounted() {
    this.queue = [];
    this.trails = [];
    this.current = null;
    this.lastSeq = -1;
    this.tSim = 0;
    this.nameBoxes = [];
    this.nameLabels = [];
    this.staticKey = '';
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
    streets() { this.staticKey = ''; },
    coverage() { this.staticKey = ''; },
  },
  methods: {
    view(canvas) {  // metres -> CSS pixels of a canvas (equal scale, centred)
      const [x0, x1, y0, y1] = this.streets.limits;
      const w = canvas.clientWidth, h = canvas.clientHeight;
      const s = Math.min(w / (x1 - x0), h / (y1 - y0));
      const ox = (w - (x1 - x0) * s) / 2, oy = (h - (y1 - y0) * s) / 2;
      return {w, h, s, px: (x) => ox + (x - x0) * s, py: (y) => oy + (y1 - y) * s};
    },
    sized(canvas) {  // backing pixels = CSS pixels x devicePixelRatio; true when resized
      const dpr = window.devicePixelRatio || 1;
      const w = Math.round(canvas.clientWidth * dpr), h = Math.round(canvas.clientHeight * dpr);
      const resized = canvas.width !== w || canvas.height !== h;
      if (resized) { canvas.width = w; canvas.height = h; }
      const ctx = canvas.getContext('2d');
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      return {ctx, key: `${w}x${h}`};
    },
    drawStatic() {
      const canvas = this.$refs.streets, m = this.streets;
      if (!canvas || !m || !m.limits || !canvas.clientWidth) return;
      const {ctx, key} = this.sized(canvas);
      if (key === this.staticKey) return;
      this.staticKey = key;
      const v = this.view(canvas);
      ctx.clearRect(0, 0, v.w, v.h);
      ctx.lineCap = 'round';
      const lines = (flat, colour, width) => {
        for (let i = 0; i + 3 < flat.length; i += 4) {
          ctx.strokeStyle = colour(i / 4);
          ctx.lineWidth = width;
          ctx.beginPath();
          ctx.moveTo(v.px(flat[i]), v.py(flat[i + 1]));
          ctx.lineTo(v.px(flat[i + 2]), v.py(flat[i + 3]));
          ctx.stroke();
        }
      };
      lines(m.streets, (k) => m.palette[m.tint[k]], 2);
      canvas.patrolSegments = m.streets.length / 4;
      const cover = this.coverage || [];
      if (cover.length && m.cover.length) lines(m.cover, (k) => cover[k], 3);
      const taken = m.posts.map(([x, y, kind]) => this.post(ctx, v.px(x), v.py(y), kind));
      taken.push(...this.scaleAndCredit(ctx, v));
      this.nameLabels = this.names(ctx, v, taken);  // drawn over the markers (labels)
      this.nameBoxes = this.nameLabels.map((n) => n.box);
      canvas.patrolNames = this.nameBoxes;
    },
    post(ctx, x, y, kind) {  // a station (square) or an office (triangle); its box
      ctx.fillStyle = '#fff';
      ctx.strokeStyle = '#000';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      if (kind === 'station') ctx.rect(x - 6, y - 6, 12, 12);
      else { ctx.moveTo(x, y - 7); ctx.lineTo(x + 7, y + 5); ctx.lineTo(x - 7, y + 5); ctx.closePath(); }
      ctx.fill();
      ctx.stroke();
      return [x - 7, y - 7, x + 7, y + 7];
    },
    scaleAndCredit(ctx, v) {  // a scale bar lower left, the OSM credit lower right (once)
      const [x0, x1, y0, y1] = this.streets.limits;
      const length = niceLength((x1 - x0) / 5);
      const left = x0 + 0.03 * (x1 - x0), bottom = y0 + 0.04 * (y1 - y0);
      const a = v.px(left), b = v.px(left + length), y = v.py(bottom);
      ctx.strokeStyle = '#000';
      ctx.lineWidth = 3;
      ctx.lineCap = 'butt';
      ctx.beginPath(); ctx.moveTo(a, y); ctx.lineTo(b, y); ctx.stroke();
      ctx.font = FONT;
      ctx.fillStyle = '#000';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      ctx.fillText(length >= 1000 ? `${length / 1000} km` : `${length} m`, (a + b) / 2, y - 3);
      const boxes = [[a - 2, y - 18, b + 2, y + 3]];
      const credit = this.streets.credit;
      if (credit) {
        ctx.font = '10px sans-serif';
        const w = ctx.measureText(credit).width;
        ctx.fillStyle = 'rgba(255,255,255,0.75)';
        ctx.fillRect(v.w - w - 6, v.h - 15, w + 6, 15);
        ctx.fillStyle = '#333';
        ctx.textAlign = 'right';
        ctx.fillText(credit, v.w - 3, v.h - 2);
        boxes.push([v.w - w - 6, v.h - 15, v.w, v.h]);
      }
      return boxes;
    },
    names(ctx, v, taken) {  // each name at the nearest offset clear of posts and other names
      ctx.font = FONT;
      const placed = [];
      for (const [text, x, y] of this.streets.names) {
        const w = ctx.measureText(text).width + 4, h = 16, ax = v.px(x), ay = v.py(y);
        let best = null;
        for (const r of RINGS_PX) {
          for (const [dx, dy] of DIRECTIONS) {
            const left = dx > 0 ? ax + r : dx < 0 ? ax - r - w : ax - w / 2;
            const top = dy > 0 ? ay - r - h : dy < 0 ? ay + r : ay - h / 2;
            const box = [left, top, left + w, top + h];
            const inside = overlap(box, [0, 0, v.w, v.h]);
            const cost = taken.reduce((sum, o) => sum + overlap(box, o), 0) + w * h - inside;
            if (!best || cost < best.cost) best = {box, cost};
            if (cost === 0) break;
          }
          if (best.cost === 0) break;
        }
        taken.push(best.box);
        placed.push({text, box: best.box});
      }
      return placed;
    },
    labels(ctx) {  // the names, over the markers, each glyph ringed white: always readable
      ctx.font = FONT;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      ctx.lineJoin = 'round';
      ctx.lineWidth = 3;
      ctx.strokeStyle = 'rgba(255,255,255,0.9)';
      ctx.fillStyle = '#111';
      for (const {text, box} of this.nameLabels) {
        ctx.strokeText(text, box[0] + 2, box[1] + 2);
        ctx.fillText(text, box[0] + 2, box[1] + 2);
      }
      return this.nameLabels.map(({text, box}) => [text, box[0] + 2, box[1] + 2]);
    },
    take(frame) {
      if (!frame || frame.seq === undefined || frame.seq === this.lastSeq) return;
      this.lastSeq = frame.seq;
      const now = performance.now();
      if (this.arrived) {
        const gap = Math.min(now - this.arrived, 1000);
        this.interval = this.interval ? 0.8 * this.interval + 0.2 * gap : gap;
      }
      this.arrived = now;
      const last = this.queue.length ? this.queue[this.queue.length - 1]
        : this.current && this.current.frame;
      if (last && (last.t1 !== frame.t0 || last.units.length !== frame.units.length)) {
        this.queue = [];  // a new run (Reset): shown at once, no trail from the old one
        this.current = null;
        this.trails = [];
      }
      this.queue.push(frame);
      this.seen(frame.seq);  // the server's play loop waits for pages that fall behind
      const canvas = this.$refs.canvas;
      if (canvas) canvas.patrolFrames = (canvas.patrolFrames || 0) + 1;
    },
    begin(frame) {  // start replaying a frame; its fastest unit bounds the step
      let vmax = 0;
      for (const unit of frame.units) {
        for (let i = 1; i < unit.p.length; i++) {
          const a = unit.p[i - 1], b = unit.p[i], dt = b[2] - a[2];
          if (dt > 1e-9) vmax = Math.max(vmax, Math.hypot(b[0] - a[0], b[1] - a[1]) / dt);
        }
      }
      this.current = {frame, vmax};
      this.tSim = frame.t0;
    },
    advance(now) {  // the simulated time shown at this painted frame
      const dt = Math.min(now - (this.lastPaint || now), 100);
      this.lastPaint = now;
      if ((!this.current || this.tSim >= this.current.frame.t1) && this.queue.length) {
        this.begin(this.queue.shift());
      }
      if (!this.current) return false;
      const {frame, vmax} = this.current;
      const behind = this.queue.length;
      const rate = (frame.t1 - frame.t0) / Math.max(this.interval || 100, 1);  // min per ms
      let step = rate * dt * (behind > CATCH_UP_FRAMES ? behind : 1);
      if (behind <= CATCH_UP_FRAMES && vmax > 0) step = Math.min(step, STEP_MAX_M / vmax);
      this.tSim = Math.min(this.tSim + step, frame.t1);
      return true;
    },
    at(path, t) {  // the point of a path at simulated time t (between its points: the edge)
      if (t <= path[0][2]) return [path[0][0], path[0][1]];
      for (let i = 1; i < path.length; i++) {
        const a = path[i - 1], b = path[i];
        if (t <= b[2]) {
          const span = b[2] - a[2];
          const f = span > 0 ? (t - a[2]) / span : 1;
          return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])];
        }
      }
      const last = path[path.length - 1];
      return [last[0], last[1]];
    },
    paint(now) {
      this.drawStatic();
      const canvas = this.$refs.canvas;
      if (!canvas || !this.streets || !this.streets.limits || !canvas.clientWidth) return;
      if (!this.advance(now)) return;
      const o = this.overlay || {};
      const shown = [this.tSim, this.current.frame, o, this.nameLabels, canvas.clientWidth,
        canvas.clientHeight, window.devicePixelRatio];
      if (this.shown && shown.every((x, i) => x === this.shown[i])) return;  // nothing moved
      this.shown = shown;
      const {ctx} = this.sized(canvas);
      const v = this.view(canvas);
      ctx.clearRect(0, 0, v.w, v.h);
      this.calls(ctx, v, o.calls || []);
      const markers = this.positions();
      this.route(ctx, v, markers[o.followed], o);
      this.units(ctx, v, markers);
      const followed = markers[o.followed];
      if (followed) {
        ctx.strokeStyle = '#000';
        ctx.lineWidth = 2.5;
        ctx.beginPath();
        ctx.arc(v.px(followed[0]), v.py(followed[1]), 11, 0, 2 * Math.PI);
        ctx.stroke();
      }
      canvas.patrolCounts = this.counts(ctx, v, markers);
      canvas.patrolLabels = this.labels(ctx);
      canvas.patrolFont = FONT;
      if (o.clock) this.clock(ctx, o.clock);
      canvas.patrolMarkers = markers;
      canvas.patrolToPx = (x, y) => [v.px(x), v.py(y)];
      canvas.patrolPainted = (canvas.patrolPainted || 0) + 1;
    },
    calls(ctx, v, calls) {  // diamonds growing with the wait; a red edge past the alert
      for (const [x, y, colour, waited] of calls) {
        const half = Math.sqrt(30 + Math.min(waited, 60) * 2.5) * 0.6;
        const cx = v.px(x), cy = v.py(y);
        ctx.fillStyle = colour;
        ctx.strokeStyle = waited > this.streets.alert_min ? 'red' : '#fff';
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(cx, cy - half); ctx.lineTo(cx + half, cy);
        ctx.lineTo(cx, cy + half); ctx.lineTo(cx - half, cy);
        ctx.closePath();
        ctx.fill();
        ctx.stroke();
      }
    },
    positions() {  // each unit's point (metres) at the simulated time shown
      return this.current.frame.units.map((unit) => this.at(unit.p, this.tSim));
    },
    route(ctx, v, here, o) {  // the followed unit's route: from its marker, along its path
      if (!here || !o.route || o.route.length < 4) return;
      const unit = this.current.frame.units[o.followed];
      const ahead = unit.p.filter((p) => p[2] > this.tSim);  // ends where the route starts
      const points = [here, ...ahead];
      for (let i = 2; i + 1 < o.route.length; i += 2) points.push([o.route[i], o.route[i + 1]]);
      ctx.setLineDash([7, 4]);
      ctx.strokeStyle = '#000';
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      points.forEach(([x, y], i) => ctx[i ? 'lineTo' : 'moveTo'](v.px(x), v.py(y)));
      ctx.stroke();
      ctx.setLineDash([]);
    },
    units(ctx, v, markers) {  // each unit at its marker, with a short fading trail
      const {frame} = this.current;
      frame.units.forEach((unit, i) => {
        const [x, y] = markers[i];
        const trail = this.trails[i] || (this.trails[i] = []);
        const last = trail[trail.length - 1];
        if (last && Math.hypot(x - last[0], y - last[1]) > 300) trail.length = 0;  // a jump
        if (!last || last[0] !== x || last[1] !== y) trail.push([x, y]);
        if (trail.length > TRAIL_POINTS) trail.shift();
        ctx.strokeStyle = unit.c;
        ctx.lineWidth = 3;
        for (let k = 1; k < trail.length; k++) {
          ctx.globalAlpha = 0.5 * k / trail.length;
          ctx.beginPath();
          ctx.moveTo(v.px(trail[k - 1][0]), v.py(trail[k - 1][1]));
          ctx.lineTo(v.px(trail[k][0]), v.py(trail[k][1]));
          ctx.stroke();
        }
        ctx.globalAlpha = 1;
        ctx.fillStyle = unit.c;
        ctx.strokeStyle = '#000';
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.arc(v.px(x), v.py(y), 5.5, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      });
    },
    counts(ctx, v, markers) {  // 'xN' beside stacked units, never over a place name
      const stacks = new Map();
      for (const [x, y] of markers) {
        const key = `${Math.round(x)},${Math.round(y)}`;
        const s = stacks.get(key) || {x, y, n: 0};
        s.n += 1;
        stacks.set(key, s);
      }
      ctx.font = BOLD;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      const drawn = [];
      for (const {x, y, n} of [...stacks.values()].filter((s) => s.n > 1).sort((a, b) => b.n - a.n)) {
        const text = `×${n}`, w = ctx.measureText(text).width + 4, h = 14;
        const cx = v.px(x), cy = v.py(y);
        const box = [[7, -h - 3], [7, 3], [-w - 7, -h - 3], [-w - 7, 3], [-w / 2, -h - 9], [-w / 2, 9]]
          .map(([dx, dy]) => [cx + dx, cy + dy, cx + dx + w, cy + dy + h])
          .find((b) => !this.nameBoxes.some((name) => overlap(b, name) > 0));
        if (!box) continue;  // every side covers a name: no label rather than a hidden name
        ctx.fillStyle = 'rgba(255,255,255,0.8)';
        ctx.fillRect(box[0], box[1], w, h);
        ctx.fillStyle = '#000';
        ctx.fillText(text, box[0] + 2, box[1] + 1);
        drawn.push(box);
      }
      return drawn;
    },
    clock(ctx, text) {
      ctx.font = 'bold 14px Roboto, "Noto Sans CJK SC", sans-serif';
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      const w = ctx.measureText(text).width + 8;
      ctx.fillStyle = 'rgba(255,255,255,0.85)';
      ctx.fillRect(4, 4, w, 20);
      ctx.fillStyle = '#000';
      ctx.fillText(text, 8, 7);
    },
    pick(event) {  // a click near a unit (within PICK_PX) follows it
      const canvas = this.$refs.canvas, markers = canvas && canvas.patrolMarkers;
      if (!markers || !markers.length) return;
      const box = canvas.getBoundingClientRect(), v = this.view(canvas);
      const cx = event.clientX - box.left, cy = event.clientY - box.top;
      let best = -1, bestPx = PICK_PX;
      markers.forEach(([x, y], i) => {
        const d = Math.hypot(v.px(x) - cx, v.py(y) - cy);
        if (d <= bestPx) { best = i; bestPx = d; }
      });
      if (best >= 0) this.clicked({unit: best});
    },
  },
};
