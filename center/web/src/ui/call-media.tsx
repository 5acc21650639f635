import { useEffect, useRef, useState } from "preact/hooks";
import type { Call } from "../calls.js";

/** The caller's live video (and audio) of a call, counting decoded frames for the tests and bench. */
export function CallMedia({
  call,
  placeholder,
  still,
}: {
  call: Call | undefined;
  placeholder: string;
  /** A picture to show until there is video (the press snapshot). */
  still?: string;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const audio = useRef<HTMLAudioElement>(null);
  const [size, setSize] = useState("");
  const stream = call?.video ?? null;
  useEffect(() => {
    const v = video.current;
    if (!v) return;
    v.srcObject = stream;
    if (!stream) return;
    let stop = false;
    const stats = (window as unknown as { pillarConsole: { stats: { frames: number; firstFrameAt: number | null } } })
      .pillarConsole.stats;
    const count = () =>
      v.requestVideoFrameCallback(() => {
        if (stop) return;
        stats.frames++;
        stats.firstFrameAt ??= performance.timeOrigin + performance.now();
        setSize(`live ${v.videoWidth}×${v.videoHeight}`);
        count();
      });
    count();
    return () => {
      stop = true;
      setSize("");
    };
  }, [stream]);
  useEffect(() => {
    if (audio.current) audio.current.srcObject = call?.audio ?? null;
  }, [call?.audio]);
  return (
    <div class="media">
      {still && !stream ? <img class="still" src={still} alt="" /> : null}
      <video ref={video} muted autoplay playsInline hidden={!stream && !!still} />
      {/* biome-ignore lint/a11y/useMediaCaption: a live call's audio has no captions */}
      <audio ref={audio} autoplay />
      <span class="overlay">{stream ? size : placeholder}</span>
    </div>
  );
}
