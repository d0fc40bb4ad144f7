// Playing audio while it streams: raw PCM through Web Audio (scheduled chunk after chunk),
// MP3 through Media Source Extensions; other formats play once complete. Plus PCM → WAV.

/**
 * A live player for one response, or null when the format can only play once complete.
 * The returned object has push(bytes), end(), stop(); ownsPlayer is true when it drives the
 * page's <audio> element, played when the listener has already heard the audio.
 */
export function livePlayback(format, mediaType, rate, player) {
  if (format === "pcm") return pcmLive(rate);
  if (format === "mp3") return mseLive(player, mediaType || "audio/mpeg");
  return null;
}

function pcmLive(rate) {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return null;
  const ctx = new Ctx();
  let next = 0;
  let carry = null; // an odd byte left over between two chunks
  let closed = false;
  return {
    ownsPlayer: false,
    played: true,
    failed: false,
    push(bytes) {
      if (closed) return;
      let data = bytes;
      if (carry) {
        data = new Uint8Array(carry.length + bytes.length);
        data.set(carry);
        data.set(bytes, carry.length);
        carry = null;
      }
      if (data.length % 2) {
        carry = data.slice(data.length - 1);
        data = data.subarray(0, data.length - 1);
      }
      const n = data.length / 2;
      if (!n) return;
      const view = new DataView(data.buffer, data.byteOffset, data.length);
      const buffer = ctx.createBuffer(1, n, rate);
      const channel = buffer.getChannelData(0);
      for (let i = 0; i < n; i++) channel[i] = view.getInt16(2 * i, true) / 32768;
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(ctx.destination);
      const at = Math.max(next, ctx.currentTime + 0.05);
      source.start(at);
      next = at + buffer.duration;
    },
    end() {
      const left = Math.max(0, next - ctx.currentTime);
      setTimeout(() => this.stop(), (left + 0.5) * 1000);
    },
    stop() {
      if (closed) return;
      closed = true;
      ctx.close().catch(() => {});
    },
  };
}

function mseLive(player, mime) {
  if (!window.MediaSource || !MediaSource.isTypeSupported(mime)) return null;
  const source = new MediaSource();
  const queue = [];
  let buffer = null;
  let ended = false;
  let started = false;
  const live = {
    ownsPlayer: true,
    played: false,
    failed: false,
    push(bytes) {
      queue.push(bytes);
      pump();
      if (!started) {
        started = true;
        player.play().then(() => {
          live.played = true;
        }, () => {});
      }
    },
    end() {
      ended = true;
      pump();
    },
    stop() {
      ended = true;
      queue.length = 0;
      try {
        if (source.readyState === "open" && !(buffer && buffer.updating)) source.endOfStream();
      } catch {
        // already closed
      }
    },
  };
  function pump() {
    if (!buffer || buffer.updating || live.failed) return;
    try {
      if (queue.length) buffer.appendBuffer(queue.shift());
      else if (ended && source.readyState === "open") source.endOfStream();
    } catch (err) {
      live.failed = true; // the caller falls back to the complete file
      console.warn("streamed playback failed; playing the complete file instead", err);
    }
  }
  source.addEventListener(
    "sourceopen",
    () => {
      try {
        buffer = source.addSourceBuffer(mime);
        buffer.mode = "sequence";
        buffer.addEventListener("updateend", pump);
        buffer.addEventListener("error", () => {
          live.failed = true;
        });
        pump();
      } catch (err) {
        live.failed = true;
        console.warn("cannot stream this format here", err);
      }
    },
    { once: true },
  );
  player.src = URL.createObjectURL(source);
  return live;
}

/** Raw little-endian 16-bit mono chunks → a playable WAV blob. */
export function pcmToWav(chunks, rate) {
  let length = chunks.reduce((n, c) => n + c.byteLength, 0);
  length -= length % 2;
  const out = new Uint8Array(44 + length);
  const view = new DataView(out.buffer);
  const text = (offset, s) => [...s].forEach((ch, i) => view.setUint8(offset + i, ch.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + length, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, length, true);
  let offset = 44;
  for (const c of chunks) {
    const take = Math.min(c.byteLength, 44 + length - offset);
    out.set(c.subarray(0, take), offset);
    offset += take;
  }
  return new Blob([out], { type: "audio/wav" });
}
