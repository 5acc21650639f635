/**
 * A minimal fragmented-MP4 (ISO BMFF) writer for the pillar's recordings: an init segment
 * (ftyp + moov with one H.264 track and Opus tracks) and then one moof + mdat per fragment.
 * Every fragment is self-contained (tfdt carries its decode time), so a file cut after any
 * complete fragment is still playable: that is what makes the clips survive a power cut.
 * Nothing is decoded: the samples are the encoders' own access units and Opus packets.
 */

export interface VideoTrackInfo {
  kind: "video";
  id: number;
  timescale: 90_000;
  width: number;
  height: number;
  sps: Buffer;
  pps: Buffer;
}

export interface OpusTrackInfo {
  kind: "opus";
  id: number;
  timescale: 48_000;
  channels: number;
  /** hdlr name, e.g. "pillar microphone" or "officer". */
  name: string;
}

export type TrackInfo = VideoTrackInfo | OpusTrackInfo;

/** One sample of a fragment: its data, duration in the track's timescale and whether it is a sync sample. */
export interface FragmentSample {
  data: Buffer;
  duration: number;
  key: boolean;
}

export interface TrackRun {
  trackId: number;
  /** Decode time of the first sample, in the track's timescale. */
  baseDecodeTime: number;
  samples: FragmentSample[];
}

function box(type: string, ...parts: Buffer[]): Buffer {
  const size = 8 + parts.reduce((n, p) => n + p.length, 0);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(size, 0);
  head.write(type, 4, "latin1");
  return Buffer.concat([head, ...parts], size);
}

function fullBox(type: string, version: number, flags: number, ...parts: Buffer[]): Buffer {
  const vf = Buffer.alloc(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, vf, ...parts);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (const [i, v] of values.entries()) b.writeUInt32BE(v >>> 0, i * 4);
  return b;
}

function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  for (const [i, v] of values.entries()) b.writeUInt16BE(v & 0xffff, i * 2);
  return b;
}

const MATRIX = u32(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);

function trak(t: TrackInfo): Buffer {
  const video = t.kind === "video";
  const tkhd = fullBox(
    "tkhd",
    0,
    0x3, // enabled, in movie
    u32(0, 0, t.id, 0, 0),
    Buffer.alloc(8),
    u16(0, 0, video ? 0 : 0x0100, 0),
    MATRIX,
    u32(video ? t.width << 16 : 0, video ? t.height << 16 : 0),
  );
  const mdhd = fullBox("mdhd", 0, 0, u32(0, 0, t.timescale, 0), u16(0x55c4, 0)); // language "und"
  const name = video ? "pillar camera" : t.name;
  const hdlr = fullBox(
    "hdlr",
    0,
    0,
    u32(0),
    Buffer.from(video ? "vide" : "soun", "latin1"),
    Buffer.alloc(12),
    Buffer.from(`${name}\0`, "utf8"),
  );
  const mediaHeader = video ? fullBox("vmhd", 0, 1, Buffer.alloc(8)) : fullBox("smhd", 0, 0, Buffer.alloc(4));
  const dinf = box("dinf", fullBox("dref", 0, 0, u32(1), fullBox("url ", 0, 1)));
  const stbl = box(
    "stbl",
    fullBox("stsd", 0, 0, u32(1), sampleEntry(t)),
    fullBox("stts", 0, 0, u32(0)),
    fullBox("stsc", 0, 0, u32(0)),
    fullBox("stsz", 0, 0, u32(0, 0)),
    fullBox("stco", 0, 0, u32(0)),
  );
  return box("trak", tkhd, box("mdia", mdhd, hdlr, box("minf", mediaHeader, dinf, stbl)));
}

function sampleEntry(t: TrackInfo): Buffer {
  const base = Buffer.concat([Buffer.alloc(6), u16(1)]); // reserved, data_reference_index
  if (t.kind === "video") {
    const avcC = box(
      "avcC",
      Buffer.from([1, t.sps[1] ?? 66, t.sps[2] ?? 0xc0, t.sps[3] ?? 30, 0xff, 0xe1]),
      u16(t.sps.length),
      t.sps,
      Buffer.from([1]),
      u16(t.pps.length),
      t.pps,
    );
    return box(
      "avc1",
      base,
      Buffer.alloc(16), // pre_defined, reserved
      u16(t.width, t.height),
      u32(0x00480000, 0x00480000, 0),
      u16(1),
      Buffer.alloc(32), // compressor name
      u16(0x0018, 0xffff),
      avcC,
    );
  }
  const dOps = box("dOps", Buffer.from([0, t.channels]), u16(312), u32(48_000), u16(0), Buffer.from([0]));
  return box("Opus", base, Buffer.alloc(8), u16(t.channels, 16, 0, 0), u32(48_000 << 16), dOps);
}

/** ftyp + moov for these tracks (no samples: they all come in fragments). */
export function initSegment(tracks: TrackInfo[]): Buffer {
  const ftyp = box("ftyp", Buffer.from("iso6", "latin1"), u32(0), Buffer.from("iso6mp41dashavc1Opus", "latin1"));
  const mvhd = fullBox(
    "mvhd",
    0,
    0,
    u32(0, 0, 1000, 0, 0x00010000),
    u16(0x0100),
    Buffer.alloc(10),
    MATRIX,
    Buffer.alloc(24),
    u32(Math.max(...tracks.map((t) => t.id)) + 1),
  );
  const trex = tracks.map((t) => fullBox("trex", 0, 0, u32(t.id, 1, 0, 0, 0)));
  return Buffer.concat([ftyp, box("moov", mvhd, ...tracks.map(trak), box("mvex", ...trex))]);
}

const SYNC = 0x02000000; // sample_depends_on = 2 (an I frame / any audio frame)
const NON_SYNC = 0x01010000; // depends on others, is_non_sync_sample

/** One moof + mdat: the runs of every track that has samples, their data in one mdat. */
export function fragment(sequence: number, runs: TrackRun[]): Buffer {
  const used = runs.filter((r) => r.samples.length > 0);
  const build = (offsets: number[]) =>
    box(
      "moof",
      fullBox("mfhd", 0, 0, u32(sequence)),
      ...used.map((r, i) => {
        const perSample = Buffer.alloc(r.samples.length * 12);
        for (const [j, s] of r.samples.entries()) {
          perSample.writeUInt32BE(s.duration >>> 0, j * 12);
          perSample.writeUInt32BE(s.data.length, j * 12 + 4);
          perSample.writeUInt32BE(s.key ? SYNC : NON_SYNC, j * 12 + 8);
        }
        const tfdt = Buffer.alloc(8);
        tfdt.writeBigUInt64BE(BigInt(Math.max(0, Math.round(r.baseDecodeTime))));
        return box(
          "traf",
          fullBox("tfhd", 0, 0x020000, u32(r.trackId)), // default-base-is-moof
          fullBox("tfdt", 1, 0, tfdt),
          fullBox("trun", 0, 0x000701, u32(r.samples.length, offsets[i] ?? 0), perSample),
        );
      }),
    );
  // The offsets depend on the moof's size, which does not depend on their values.
  const moofSize = build(used.map(() => 0)).length;
  const offsets: number[] = [];
  let at = moofSize + 8;
  for (const r of used) {
    offsets.push(at);
    at += r.samples.reduce((n, s) => n + s.data.length, 0);
  }
  const mdat = box("mdat", ...used.flatMap((r) => r.samples.map((s) => s.data)));
  return Buffer.concat([build(offsets), mdat]);
}
