#!/usr/bin/env bash
# Regenerates the caller prompts in config/prompts/ (committed, installed with config/; the pillar never runs this):
# espeak-ng speaks each text (until recorded voices exist), ffmpeg encodes it the way the
# speaker driver plays audio: Ogg Opus, 48 kHz mono, 20 ms frames. The ringback is one cadence
# of the Kazakhstan/CIS ringing tone: 425 Hz for 1 s, then 4 s of silence (the pillar loops it).
# Needs espeak-ng and ffmpeg (with libopus).  Usage: scripts/make-prompts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=config/prompts
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

encode() { # encode <input args...> -- <output>
  local dst=${*: -1}
  ffmpeg -hide_banner -loglevel error -y "${@:1:$#-1}" -ac 1 -ar 48000 -c:a libopus -application voip \
    -b:a 24k -frame_duration 20 -map_metadata -1 -fflags +bitexact -flags:a +bitexact "$dst"
}

say() { # say <lang> <name> <text>
  mkdir -p "$out/$1"
  espeak-ng -v "$1" -s 150 -w "$tmp/$1-$2.wav" "$3"
  # 0.3 s of silence after the words, so two languages do not run into each other
  encode -i "$tmp/$1-$2.wav" -af "apad=pad_dur=0.3" "$out/$1/$2.opus"
}

say kk calling "Сіздің қоңырауыңыз полицияға жіберілуде. Бағананың жанында тұрыңыз."
say ru calling "Ваш вызов передаётся в полицию. Оставайтесь у колонны."
say kk please-wait "Күте тұрыңыз, полиция қызметкері қайта қосылуда."
say ru please-wait "Пожалуйста, подождите, оператор полиции переподключается."
say kk limit-warning "Қоңырау жақында аяқталады."
say ru limit-warning "Звонок скоро завершится."
say en calling "Your call is going to the police. Please stay by the pillar."
say en please-wait "Please wait, the police officer is reconnecting."
say en limit-warning "The call will end soon."

encode -f lavfi -i "sine=frequency=425:sample_rate=48000:duration=1,volume=2,apad=pad_dur=4" "$out/ringback.opus"
ls -l "$out" "$out"/*/
