/**
 * The pillar config's JSON Schema (draft 2020-12): the single source of truth. TypeBox builds the
 * schema object; `PillarConfig` is derived from it; `config/pillar-config.schema.json` is the
 * same object written out (`npm run config:docs`), checked in sync by a test.
 * Fields that carry a `default` may be left out of a file: the loader fills them in.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";

export const CONFIG_VERSION = 1;

const Pin = Type.Integer({
  minimum: 0,
  maximum: 255,
  description: "GPIO line offset (gpio), Arduino pin (firmata) or any number (sim)",
});

const InputLine = Type.Object(
  {
    pin: Pin,
    activeLow: Type.Boolean({ default: true, description: "true when the contact pulls the line to ground" }),
  },
  { additionalProperties: false },
);

const OutputLine = Type.Object(
  {
    pin: Pin,
    activeLow: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

const LedMode = Type.Union(
  [
    Type.Literal("on"),
    Type.Literal("off"),
    Type.Object(
      { blinkMs: Type.Integer({ minimum: 50, maximum: 10_000, description: "half period" }) },
      { additionalProperties: false },
    ),
  ],
  { description: '"on", "off" or { "blinkMs": N }' },
);

const LedPattern = (d: Record<string, unknown>, description: string) =>
  Type.Object(
    { ready: LedMode, alarm: LedMode, answered: LedMode, strobe: LedMode },
    { additionalProperties: false, default: d, description },
  );

const Duration = (def: number, min: number, max: number, description: string) =>
  Type.Integer({ default: def, minimum: min, maximum: max, description });

export const PillarConfigSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    version: Type.Literal(CONFIG_VERSION, {
      description: "config format version; older files are migrated (a backup is kept)",
    }),
    pillar: Type.Object(
      {
        id: Type.String({
          pattern: "^[a-z0-9][a-z0-9-]{1,62}$",
          description: "unique pillar id, used in every MQTT topic",
        }),
        name: Type.Optional(Type.String({ maxLength: 120 })),
        mode: Type.Union([Type.Literal("production"), Type.Literal("development")], {
          default: "development",
          description: "production refuses unsigned configs, a plaintext broker URL and commands without issuedAt",
        }),
      },
      { additionalProperties: false },
    ),
    location: Type.Object(
      {
        lat: Type.Number({ minimum: -90, maximum: 90 }),
        lon: Type.Number({ minimum: -180, maximum: 180 }),
        address: Type.String({ minLength: 1, maxLength: 200 }),
        district: Type.String({ minLength: 1, maxLength: 100 }),
      },
      { additionalProperties: false },
    ),
    broker: Type.Object(
      {
        url: Type.String({
          pattern: "^(mqtts?|wss?)://",
          description: "mqtt://, mqtts://, ws:// or wss:// URL of the center's broker",
        }),
        failoverUrls: Type.Array(
          Type.String({ pattern: "^mqtts?://", description: "mqtt:// or mqtts:// URL of another node" }),
          {
            default: [],
            maxItems: 8,
            description:
              "other nodes of a clustered broker (docs/scale.md): after a lost connection the pillar tries the next URL of url + failoverUrls in turn",
          },
        ),
        clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: "default: pillar-{id}" })),
        username: Type.Optional(Type.String({ minLength: 1 })),
        password: Type.Optional(Type.String({ description: "secret: never logged" })),
        keepaliveS: Duration(30, 5, 1200, "MQTT keepalive in seconds"),
        connectTimeoutMs: Duration(5000, 500, 60_000, "give up one connection attempt after this"),
        reconnectMs: Duration(1000, 100, 60_000, "pause between reconnection attempts"),
        tls: Type.Optional(
          Type.Object(
            {
              caFile: Type.String({
                minLength: 1,
                description: "PEM file of the CA that signed the broker's certificate",
              }),
              certFile: Type.String({
                minLength: 1,
                description: "PEM file of this pillar's client certificate (CN = pillar id; `pillar keys cert`)",
              }),
              keyFile: Type.String({
                minLength: 1,
                description: "PEM file of the client certificate's private key; refused when group/others may read it",
              }),
              serverName: Type.Optional(
                Type.String({
                  minLength: 1,
                  maxLength: 253,
                  description: "name the broker's certificate must carry (default: the URL's host)",
                }),
              ),
              expiryWarningDays: Duration(30, 1, 365, "raise the `cert.expiring` fault this many days before expiry"),
              pollS: Duration(60, 1, 86_400, "also look for changed certificate files this often (besides fs.watch)"),
            },
            {
              additionalProperties: false,
              description:
                "mutual TLS for mqtts:// and wss:// (docs/mqtt-security.md); files are re-read when they change",
            },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    hal: Type.Object(
      {
        driver: Type.Union([Type.Literal("sim"), Type.Literal("gpio"), Type.Literal("firmata")], {
          description: "sim: in-process; gpio: Linux GPIO character device; firmata: I/O co-processor over serial",
        }),
        gpio: Type.Optional(
          Type.Object(
            {
              chipLabel: Type.String({
                default: "pinctrl-rp1",
                description: "gpiochip label: pinctrl-rp1 (Pi 5), pinctrl-bcm2711 (Pi 4, CM4)",
              }),
            },
            { additionalProperties: false },
          ),
        ),
        firmata: Type.Optional(
          Type.Object(
            {
              port: Type.String({ minLength: 1, description: "serial device of the co-processor, e.g. /dev/ttyACM0" }),
              baudRate: Type.Integer({ default: 57600, enum: [9600, 19200, 38400, 57600, 115200] }),
              heartbeatMs: Duration(2000, 200, 60_000, "link check period; a missed reply raises a fault"),
            },
            { additionalProperties: false },
          ),
        ),
        inputs: Type.Object({ button: InputLine, tamper: InputLine }, { additionalProperties: false }),
        outputs: Type.Object(
          { ready: OutputLine, alarm: OutputLine, answered: OutputLine, strobe: OutputLine },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    button: Type.Object(
      {
        debounceMs: Duration(20, 1, 1000, "a press counts when the contact is stable this long"),
        stuckAfterS: Duration(60, 5, 3600, "held longer than this raises button.stuck"),
      },
      { additionalProperties: false, default: {} },
    ),
    tamper: Type.Object(
      { debounceMs: Duration(50, 1, 5000, "the tamper switch must be stable this long") },
      { additionalProperties: false, default: {} },
    ),
    incident: Type.Object(
      {
        closeAfterAckS: Duration(
          600,
          10,
          86_400,
          "an acknowledged incident closes by itself after this (the center may close it earlier)",
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    commands: Type.Object(
      {
        maxAgeS: Duration(
          60,
          5,
          86_400,
          "a command or signaling message whose issuedAt is older than this is refused as stale",
        ),
        clockToleranceS: Duration(
          5,
          0,
          600,
          "allowed clock difference to the center: issuedAt this far in the future is still accepted",
        ),
      },
      {
        additionalProperties: false,
        default: {},
        description: "freshness of the center's commands and signaling (issuedAt is required in production mode)",
      },
    ),
    leds: Type.Object(
      {
        idle: LedPattern({ ready: "on", alarm: "off", answered: "off", strobe: "off" }, "no incident, no fault"),
        alarm: LedPattern(
          { ready: "off", alarm: { blinkMs: 250 }, answered: "off", strobe: "on" },
          "press sent, waiting for the center",
        ),
        // "help is coming": the answered lamp means voice contact only (EN 81-28), so an
        // acknowledgement with nobody speaking to the caller lights the alarm lamp steady instead
        acknowledged: LedPattern(
          { ready: "off", alarm: "on", answered: "off", strobe: "on" },
          "the center has acknowledged (help is coming); nobody is speaking to the caller: alarm lamp steady, not the answered lamp",
        ),
        fault: LedPattern(
          { ready: { blinkMs: 1000 }, alarm: "off", answered: "off", strobe: "off" },
          "idle with an active fault",
        ),
        calling: LedPattern(
          { ready: "off", alarm: { blinkMs: 500 }, answered: { blinkMs: 500 }, strobe: "on" },
          "an alarm call rings (offered, not yet answered) or waits for the officer to re-join",
        ),
        talking: LedPattern(
          { ready: "off", alarm: "off", answered: "on", strobe: "on" },
          "an officer answered the call: two-way audio",
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    dataDir: Type.String({
      default: "/var/lib/alarm-pillar",
      minLength: 1,
      description: "journal and state live here",
    }),
    heartbeat: Type.Object(
      { intervalS: Duration(30, 1, 3600, "health message period") },
      { additionalProperties: false, default: {} },
    ),
    outbox: Type.Object(
      {
        maxBytes: Type.Integer({
          default: 64 * 1024 * 1024,
          minimum: 65_536,
          description:
            "journal size bound: above 80% telemetry is dropped and an alarm raised; alarms are never dropped",
        }),
        compactBytes: Type.Integer({
          default: 1024 * 1024,
          minimum: 4096,
          description: "compact the journal once it is larger than this and mostly acknowledged",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    control: Type.Object(
      {
        port: Type.Integer({
          default: 8787,
          minimum: 0,
          maximum: 65535,
          description: "127.0.0.1 port of the simulation control endpoint (0: any free port)",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    watchdog: Type.Object(
      {
        maxLoopLagMs: Duration(
          5000,
          100,
          60_000,
          "a watchdog tick this late (the event loop was blocked) withholds systemd's feed",
        ),
        inputGraceS: Duration(
          60,
          1,
          3600,
          "a dead button line or I/O driver stops systemd's feed after this long (the pillar's own reconnects go first)",
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    provisioning: Type.Optional(
      Type.Object(
        {
          port: Type.Optional(
            Type.String({
              minLength: 1,
              description: "serial port the provisioning listener answers on (console/USB gadget), e.g. /dev/ttyGS0",
            }),
          ),
          baudRate: Type.Integer({ default: 115200, enum: [9600, 19200, 38400, 57600, 115200, 230400] }),
          publicKey: Type.Optional(
            Type.String({
              minLength: 1,
              description:
                "fleet public key (PEM) that signs configs; default /etc/alarm-pillar/fleet.pub, then config/keys/fleet.pub",
            }),
          ),
        },
        { additionalProperties: false, description: "`pillar flash` over a serial cable; see docs/provisioning.md" },
      ),
    ),
    call: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description: "offer live video and two-way audio to the center (docs/call.md)",
        }),
        callLimitS: Duration(600, 30, 7200, "a call (or look-in) ends by itself after this"),
        warningBeforeEndS: Duration(30, 5, 300, "a warning tone and a `warning` state this long before the limit"),
        answerTimeoutS: Duration(
          30,
          5,
          600,
          "an alarm call nobody picked up is re-offered to the secondary center after this",
        ),
        rejoinGraceS: Duration(
          30,
          5,
          300,
          "when the officer's side drops (page reload, network blip) the caller's side is kept this long for the same console to re-join (docs/call.md)",
        ),
        secondaryCenterTopic: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 200,
            pattern: "^[^#+]+$",
            description: "MQTT topic prefix of the secondary center; its offers go to {topic}/offer",
          }),
        ),
        maxPeerSessions: Type.Integer({
          default: 2,
          minimum: 1,
          maximum: 8,
          description:
            "WebRTC peer connections alive at once (the active session plus any still closing); a request beyond it gets `busy`",
        }),
        iceServers: Type.Array(Type.String({ pattern: "^(stun|turns?):" }), {
          default: [],
          description: "STUN/TURN URLs, e.g. stun:stun.example.org:3478 or turn:user:pass@host:3478",
        }),
        bindAddress: Type.Optional(
          Type.String({
            minLength: 1,
            description: "gather ICE candidates on this local address only (default: every interface)",
          }),
        ),
        volumes: Type.Object(
          {
            speaker: Type.Integer({
              default: 80,
              minimum: 0,
              maximum: 100,
              description: "speaker volume in percent (changeable by the call.volume command)",
            }),
            micGainDb: Type.Integer({ default: 0, minimum: -20, maximum: 30, description: "microphone gain in dB" }),
          },
          { additionalProperties: false, default: {} },
        ),
        camera: Type.Object(
          {
            driver: Type.Union(
              [Type.Literal("auto"), Type.Literal("sim"), Type.Literal("rpicam"), Type.Literal("v4l2")],
              { default: "auto", description: "auto: sim with the sim HAL, else rpicam" },
            ),
            mode: Type.Union([Type.Literal("onDemand"), Type.Literal("always")], {
              default: "onDemand",
              description:
                "onDemand: the encoder runs only during a call; always: it runs all the time (instant first frame from the cached GOP)",
            }),
            width: Type.Integer({ default: 1280, minimum: 160, maximum: 1920 }),
            height: Type.Integer({ default: 720, minimum: 120, maximum: 1080 }),
            fps: Type.Integer({ default: 30, minimum: 5, maximum: 60 }),
            bitrateKbps: Type.Integer({ default: 1500, minimum: 100, maximum: 8000 }),
            rotation: Type.Union([Type.Literal(0), Type.Literal(180)], { default: 0 }),
            device: Type.String({ default: "/dev/video0", description: "v4l2: the camera device" }),
            v4l2Mode: Type.Union([Type.Literal("m2m"), Type.Literal("copy")], {
              default: "m2m",
              description: "v4l2: m2m encodes raw frames on the SoC; copy passes a USB camera's own H.264",
            }),
          },
          { additionalProperties: false, default: {} },
        ),
        audio: Type.Object(
          {
            driver: Type.Union([Type.Literal("auto"), Type.Literal("sim"), Type.Literal("alsa")], {
              default: "auto",
              description: "auto: sim with the sim HAL, else alsa",
            }),
            captureDevice: Type.String({
              default: "default",
              description: "ALSA capture device (e.g. the echo-cancel source, docs/call.md)",
            }),
            playbackDevice: Type.String({ default: "default", description: "ALSA playback device" }),
            bitrateKbps: Type.Integer({
              default: 24,
              minimum: 8,
              maximum: 128,
              description: "Opus bitrate of the microphone",
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {}, description: "live video and two-way audio with the center" },
    ),
    prompts: Type.Object(
      {
        languages: Type.Array(Type.Union([Type.Literal("kk"), Type.Literal("ru"), Type.Literal("en")]), {
          default: ["kk", "ru"],
          maxItems: 3,
          uniqueItems: true,
          description: "languages of the spoken prompts to the caller, played in this order (empty: tones only)",
        }),
        dir: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 400,
            description:
              "folder with {lang}/{calling,please-wait,limit-warning}.opus and ringback.opus (default: config/prompts of the installation)",
          }),
        ),
      },
      {
        additionalProperties: false,
        default: {},
        description: "what the caller hears while waiting: spoken prompts (Ogg Opus) and the ringback tone",
      },
    ),
    timezone: Type.String({
      default: "Asia/Almaty",
      minLength: 1,
      maxLength: 64,
      pattern: "^[A-Za-z][A-Za-z0-9_+/-]*$",
      description: "IANA time zone of local times the pillar shows (the sim camera's burnt-in clock)",
    }),
    record: Type.Object(
      {
        mode: Type.Union([Type.Literal("off"), Type.Literal("incident"), Type.Literal("continuous")], {
          default: "incident",
          description:
            "incident: clips of each incident (pre-roll, call, post-roll), nothing written while idle; continuous: also a ring of segments under the quota; off: no recording (docs/recording.md)",
        }),
        preRollS: Duration(30, 0, 120, "seconds kept in memory before a press and written at its start"),
        postRollS: Duration(30, 0, 600, "seconds still recorded after the call ends or the incident closes"),
        preRollMaxMb: Type.Integer({
          default: 32,
          minimum: 1,
          maximum: 256,
          description: "memory bound of the pre-roll buffer (whole GOPs are dropped from the front beyond it)",
        }),
        fragmentMs: Type.Integer({
          default: 500,
          minimum: 100,
          maximum: 1000,
          description: "media per fMP4 fragment, fsynced one by one: a power cut loses at most this much",
        }),
        quotaMb: Type.Integer({
          default: 4096,
          minimum: 1,
          maximum: 1_000_000,
          description: "disk space for recordings; continuous segments, then confirmed clips go first",
        }),
        retentionDays: Type.Integer({
          default: 30,
          minimum: 1,
          maximum: 3650,
          description: "continuous segments and clips the center confirmed are deleted after this",
        }),
        segmentS: Duration(60, 10, 3600, "continuous mode: length of one segment"),
        snapshotMaxKb: Type.Integer({
          default: 200,
          minimum: 16,
          maximum: 1024,
          description: "largest JPEG published on pillar/v1/{id}/snapshot at a press",
        }),
      },
      { additionalProperties: false, default: {}, description: "recording of the camera and the call's audio" },
    ),
    selftest: Type.Object(
      {
        intervalS: Duration(
          300,
          5,
          86_400,
          "supervision: the non-intrusive checks (camera, storage, broker, clock, inputs) run this often (5 s at least: commissioning and tests)",
        ),
        audioHour: Type.Integer({
          default: 4,
          minimum: 0,
          maximum: 23,
          description: "supervision: the daily speaker → microphone tone test runs at this local hour (a quiet street)",
        }),
        audioRetryS: Duration(
          600,
          10,
          86_400,
          "a daily audio test postponed by a call or an open incident is tried again after this",
        ),
        minFreeMb: Type.Integer({
          default: 64,
          minimum: 1,
          maximum: 1_000_000,
          description: "the storage check fails with less free space than this in the data folder",
        }),
        toneHz: Type.Integer({
          default: 1500,
          minimum: 300,
          maximum: 3000,
          description: "frequency of the loop tone (away from the sim capsule's 440/880 Hz voice)",
        }),
        toneMs: Type.Integer({ default: 800, minimum: 200, maximum: 4000, description: "length of one loop tone" }),
        toneVolumes: Type.Array(Type.Integer({ minimum: 1, maximum: 100 }), {
          default: [50, 75, 100],
          minItems: 1,
          maxItems: 3,
          description: "speaker volume (percent) of each try: a tone not heard is tried again at the next volume",
        }),
      },
      { additionalProperties: false, default: {}, description: "self-test and supervision (docs/selftest.md)" },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          [
            Type.Literal("trace"),
            Type.Literal("debug"),
            Type.Literal("info"),
            Type.Literal("warn"),
            Type.Literal("error"),
          ],
          { default: "info" },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  {
    $id: "https://alarm-pillar.local/schema/pillar-config.json",
    title: "alarm-pillar config",
    additionalProperties: false,
  },
);

export type PillarConfig = Static<typeof PillarConfigSchema>;

/** The schema as a plain JSON document (draft 2020-12). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    ...(JSON.parse(JSON.stringify(PillarConfigSchema)) as TSchema),
  };
}
