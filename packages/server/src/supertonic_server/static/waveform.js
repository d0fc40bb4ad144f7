// The waveform of the last result on a canvas: decoded with Web Audio, min/max per pixel
// column, the played part highlighted, click to seek the <audio> player.

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export class Waveform {
  constructor(canvas, player, placeholder) {
    this.canvas = canvas;
    this.player = player;
    this.placeholder = placeholder;
    this.samples = null;
    this.duration = 0;
    this.peaks = null;
    this.frame = 0;
    new ResizeObserver(() => this.draw(true)).observe(canvas);
    window.addEventListener("themechange", () => this.draw());
    canvas.addEventListener("click", (e) => this.seek(e));
    for (const ev of ["play", "timeupdate", "seeked"]) player.addEventListener(ev, () => this.follow());
  }

  /** Decode an audio blob, draw it, and return the AudioBuffer. */
  async decode(blob) {
    const bytes = await blob.arrayBuffer();
    const Offline = window.OfflineAudioContext || window.webkitOfflineAudioContext;
    const ctx = new Offline(1, 1, 44100);
    const audio = await ctx.decodeAudioData(bytes);
    this.samples = audio.getChannelData(0);
    this.duration = audio.duration;
    this.canvas.dataset.duration = audio.duration.toFixed(3);
    this.placeholder.hidden = true;
    this.draw(true);
    return audio;
  }

  clear() {
    this.samples = null;
    this.peaks = null;
    this.duration = 0;
    delete this.canvas.dataset.duration;
    this.placeholder.hidden = false;
    this.draw(true);
  }

  seek(event) {
    if (!this.samples) return;
    const duration = Number.isFinite(this.player.duration) ? this.player.duration : this.duration;
    const rect = this.canvas.getBoundingClientRect();
    this.player.currentTime = ((event.clientX - rect.left) / rect.width) * duration;
    this.draw();
  }

  follow() {
    cancelAnimationFrame(this.frame);
    const step = () => {
      this.draw();
      if (!this.player.paused && !this.player.ended) this.frame = requestAnimationFrame(step);
    };
    step();
  }

  draw(resized = false) {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
      resized = true;
    }
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, width, height);
    if (!this.samples) return;
    if (resized || !this.peaks || this.peaks.length !== width * 2) this.peaks = peaks(this.samples, width);
    const duration = Number.isFinite(this.player.duration) && this.player.duration > 0 ? this.player.duration : this.duration;
    const played = duration ? Math.min(1, this.player.currentTime / duration) * width : 0;
    const mid = height / 2;
    const scale = mid * 0.92;
    const wave = cssVar("--wave");
    const done = cssVar("--wave-played");
    for (let x = 0; x < width; x++) {
      const lo = this.peaks[2 * x];
      const hi = this.peaks[2 * x + 1];
      g.fillStyle = x < played ? done : wave;
      g.fillRect(x, mid - hi * scale, 1, Math.max(1, (hi - lo) * scale));
    }
    g.fillStyle = cssVar("--border");
    g.fillRect(0, mid, width, Math.max(1, ratio / 2));
    if (played > 0) {
      g.fillStyle = cssVar("--text");
      g.fillRect(Math.min(width - 1, played), 0, Math.max(1, ratio), height);
    }
  }
}

/** Min and max of each of ``width`` equal slices of ``samples`` (interleaved). */
function peaks(samples, width) {
  const out = new Float32Array(width * 2);
  const per = samples.length / width;
  for (let x = 0; x < width; x++) {
    const start = Math.floor(x * per);
    const end = Math.max(start + 1, Math.floor((x + 1) * per));
    let lo = 0;
    let hi = 0;
    for (let i = start; i < end && i < samples.length; i++) {
      const s = samples[i];
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
    out[2 * x] = lo;
    out[2 * x + 1] = hi;
  }
  return out;
}
