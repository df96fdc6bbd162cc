"""Audio lip-sync yardstick and latency benchmark (docs/lipsync.md).

Speech: espeak-ng reads sentences with many voices (vtuber.synth.speech), phone timings from
espeak-ng's own phoneme events. The vowel network is fitted (benchmarks/fit_lipsync_vowels.py) on
96 FIT voices x 22 FIT sentences; the figures here are on the 6 HELD-OUT voices (a low, a high, a
child-like, a fast one ...; no espeak-ng variant shared with a fitting voice) x the 6 HELD-OUT
sentences. Noise: sox mixes pink noise and a music-like chord 20 dB below the speech's active
level. Scored per 10 ms hop:

- open F1: mouth open (openness > 0.05) exactly on vowel and voiced-consonant frames;
- vowel accuracy: the largest of aa/ih/ou/ee/oh is the right one, on all vowel frames
  (diphthongs by their nucleus) and on the settled ones (the hop's whole 32 ms window inside
  the vowel, so the sound analysed is that vowel's alone);
- calibrated: the same after ``vtuber calibrate --audio`` on that voice's five isolated vowels;
- silent frames open in noise (the ones between and before sentences);
- baseline: WebRTC's voice activity detector (webrtcvad, when installed) as the open decision;
- cost: CPU time of the analysis per 10 ms hop, fed 10 ms at a time;
- latency: a file-fed input stream delivers 10 ms blocks in real time to the analyzer, which sends
  each new mouth as VMC blendshapes over UDP on loopback; a receiver on another thread takes the
  arrival time. Latency = arrival - the wall time at which the sample the mouth REPRESENTS was
  captured (the block's delivery time less the time from that sample to the block's newest:
  the declared audio delay ``analysis.DELAY`` is counted in), p50/p95/max.

Every hop is judged against the phone at the instant its mouth represents (its newest sample
less ``analysis.DELAY``).

Run: ``.venv/bin/python benchmarks/bench_lipsync.py [--quick] [--cache DIR]``.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from vtuber.audio.adapt import AdaptiveAnalyzer, adaptive_analyze
from vtuber.audio.analysis import (
    DELAY,
    HOP,
    RATE,
    VOWEL_KEYS,
    VOWEL_NAMES,
    Analyzer,
    MouthShape,
    VowelModel,
    analyze,
    hop_ends,
)
from vtuber.audio.calibrate import learn_vowels
from vtuber.audio.yardstick import OPEN_EPS, Scores, Take, calibration_take, make_take
from vtuber.synth.speech import (
    FIT_SENTENCES,
    FIT_VOICES,
    HELD_OUT_SENTENCES,
    HELD_OUT_VOICES,
)

ONLINE_WARM_S = 10.0  # the online warp's figures are given after this much of each take too


def score(takes: list[Take], model: VowelModel | None = None) -> Scores:
    sc = Scores()
    for tk in takes:
        shapes = analyze(tk.samples, model)
        sc.add(shapes, tk.truth(len(shapes), delay=DELAY), tk.settled(len(shapes), DELAY))
    return sc


def where_errors(takes: list[Take], model: VowelModel | None = None) -> None:
    """Where the vowel errors are: the confusion matrix over all vowel frames (rows: the truth,
    columns: the largest shape, or closed), per voice, per espeak-ng phoneme, and the share right
    by time since the vowel began."""
    cm = np.zeros((5, 6), dtype=np.int64)
    by_phone: dict[str, np.ndarray] = {}
    since_all, right_all = [], []
    for tk in takes:
        shapes = analyze(tk.samples, model)
        n = len(shapes)
        truth = tk.truth(n, delay=DELAY)
        t = hop_ends(n) - DELAY  # the instants the mouths represent
        since = np.full(n, np.nan)
        names = np.full(n, "", dtype="<U8")
        for p in tk.utterance.phones:
            inside = (t >= p.start) & (t < p.end)
            since[inside] = t[inside] - p.start
            names[inside] = p.name.strip().lstrip("',%=").rstrip(";")
        voice_cm = np.zeros((5, 6), dtype=np.int64)
        for i, s in enumerate(shapes):
            if truth[i] not in VOWEL_NAMES:
                continue
            col = int(np.argmax([s.vowels[k] for k in VOWEL_KEYS])) if s.open > OPEN_EPS else 5
            row = VOWEL_NAMES.index(truth[i])
            voice_cm[row, col] += 1
            key = f"{truth[i]} {names[i]}"
            by_phone.setdefault(key, np.zeros(6, dtype=np.int64))[col] += 1
            since_all.append(since[i])
            right_all.append(col == row)
        cm += voice_cm
        print(f"  {tk.voice.label:34s} right {np.trace(voice_cm) / voice_cm.sum():.3f}; per "
              "vowel (A I U E O closed): " +
              "; ".join(f"{VOWEL_NAMES[k]} " + " ".join(str(v) for v in voice_cm[k])
                        for k in range(5)))  # fmt: skip
    print("  per espeak-ng phoneme (shape phoneme: frames, right, A I U E O closed):")
    for key, counts in sorted(by_phone.items()):
        k = VOWEL_NAMES.index(key[0])
        right = counts[k] / counts.sum()
        print(f"    {key:8s} {counts.sum():4d} {right:.2f}  " + " ".join(str(v) for v in counts))
    print("  confusion (rows: truth; columns: A I U E O closed), all held-out vowel frames:")
    for k, row in enumerate(cm):
        print(f"    {VOWEL_NAMES[k]}: " + " ".join(f"{v:5d}" for v in row) +
              f"   recall {row[k] / max(row.sum(), 1):.3f}")  # fmt: skip
    sa, ra = np.array(since_all), np.array(right_all)
    parts = []
    for lo, hi in ((0, 10), (10, 20), (20, 30), (30, 60), (60, 120), (120, 1000)):
        m = (sa >= lo / 1000) & (sa < hi / 1000)
        parts.append(f"{lo}-{hi} ms {ra[m].mean():.3f} ({m.sum()})")
    print("  right by time since the vowel began: " + ", ".join(parts))


def latency(take: Take, seconds: float = 10.0, adapt: bool = False) -> dict[str, float]:
    """Real-time: FileInputStream -> Analyzer (``adapt``: AdaptiveAnalyzer, the warp learned
    online) -> VMC blendshapes over UDP -> receiver."""
    from vtuber.audio.capture import FileInputStream
    from vtuber.rig import AvatarFrame
    from vtuber.sinks.vmc import VMCSink

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.5)
    port = rx.getsockname()[1]
    sink = VMCSink([("127.0.0.1", port)])
    sink.open()
    analyzer = AdaptiveAnalyzer() if adapt else Analyzer()
    sent: dict[int, float] = {}  # mouth (its time, ms) -> capture time of the sample it represents
    arrivals: dict[int, float] = {}
    stop = threading.Event()

    def receive() -> None:
        while not stop.is_set():
            try:
                data = rx.recv(65536)
            except TimeoutError:
                continue
            now = time.perf_counter()
            marker = b"/VMC/Ext/T\x00\x00,f\x00\x00"
            i = data.find(marker)
            if i >= 0:
                t = float(np.frombuffer(data[i + len(marker) : i + len(marker) + 4], ">f4")[0])
                arrivals.setdefault(round(t * 1000), now)

    th = threading.Thread(target=receive, daemon=True)
    th.start()

    delivered = [0]  # samples delivered so far

    def callback(indata, frames, t_info, status) -> None:  # type: ignore[no-untyped-def]
        now = time.perf_counter()  # the block's newest sample was captured now
        delivered[0] += frames
        for shape in analyzer.push(indata[:, 0]):
            k = round(shape.t * 1000)
            sent[k] = now - (delivered[0] / RATE - shape.t)
            av = AvatarFrame(t=shape.t, blendshapes={**shape.vowels, "jawOpen": shape.open})
            sink.send(av)

    n = min(len(take.samples), int(seconds * RATE))
    with FileInputStream(take.samples[:n], RATE, blocksize=HOP, callback=callback) as stream:
        stream.wait()
    time.sleep(0.2)
    stop.set()
    th.join()
    sink.close()
    rx.close()
    lat = np.array([arrivals[k] - sent[k] for k in sent if k in arrivals]) * 1000.0
    return {
        "frames": float(len(sent)),
        "received": float(len(lat)),
        "p50_ms": float(np.percentile(lat, 50)),
        "p95_ms": float(np.percentile(lat, 95)),
        "max_ms": float(lat.max()),
    }


def webrtc_baseline(cache: Path) -> None:
    """WebRTC's voice activity detector as the mouth-open decision, on the same held-out set,
    if webrtcvad(-wheels) is installed (not a dependency: a baseline only)."""
    try:
        import webrtcvad  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        print("(webrtcvad not installed: no WebRTC VAD baseline)")
        return
    for mode in (2, 3):
        row = []
        for noise in (None, -20.0):
            sc = Scores()
            for v in HELD_OUT_VOICES:
                tk = make_take(v, HELD_OUT_SENTENCES, cache, noise_db=noise)
                vad = webrtcvad.Vad(mode)
                x = (np.clip(tk.samples, -1, 1) * 32767).astype("<i2")
                shapes = []
                for i in range(len(x) // HOP):
                    on = vad.is_speech(x[i * HOP : (i + 1) * HOP].tobytes(), RATE)
                    vowels = dict.fromkeys(VOWEL_KEYS, 0.2 if on else 0.0)
                    shapes.append(MouthShape(0.0, 0.0, on, 1.0 if on else 0.0, vowels))
                sc.add(shapes, tk.truth(len(shapes)))
            row.append(f"F1 {sc.f1:.3f}, silent open {sc.silent_open_rate:.3f}")
        print(f"WebRTC VAD mode {mode} as the mouth: clean {row[0]}; noise -20 dB {row[1]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="held-out set only, no latency run")
    ap.add_argument("--cache", default=None, help="folder for the generated WAV files")
    args = ap.parse_args()
    cache = Path(args.cache or Path(tempfile.gettempdir()) / "vtuber_lipsync_yardstick")

    voices = HELD_OUT_VOICES
    total = 0.0
    for name, vs, ss in (
        ("held-out voices x held-out sentences", voices, HELD_OUT_SENTENCES),
        ("the first four held-out voices x held-out sentences", voices[:4], HELD_OUT_SENTENCES),
        ("12 fit voices x held-out sentences", FIT_VOICES[::8], HELD_OUT_SENTENCES),
        ("held-out voices x 6 fit sentences", voices, FIT_SENTENCES[:6]),
    ):
        clean = [make_take(v, ss, cache) for v in vs]
        noisy = [make_take(v, ss, cache, noise_db=-20.0) for v in vs]
        total += sum(len(t.samples) for t in clean) / RATE
        c, n = score(clean), score(noisy)
        print(
            f"{name}: open F1 {c.f1:.3f} (noisy {n.f1:.3f}); right vowel {c.vowel_accuracy:.3f} "
            f"of {c.vowel_frames} vowel frames (noisy {n.vowel_accuracy:.3f}), "
            f"{c.settled_accuracy:.3f} of {c.settled_frames} settled ones; silent frames "
            f"open: clean {c.silent_open_rate:.3f}, noise -20 dB {n.silent_open_rate:.3f} "
            f"of {n.silent_frames}"
        )
        if args.quick:
            break
    where_errors([make_take(v, HELD_OUT_SENTENCES, cache) for v in voices])
    split = Scores()
    before, after = Scores(), Scores()
    online, online_late, online_noisy, plain_late = Scores(), Scores(), Scores(), Scores()
    warm = round(ONLINE_WARM_S * RATE / HOP)
    for v in voices:
        take = make_take(v, HELD_OUT_SENTENCES, cache)
        c = score([take])
        n = score([make_take(v, HELD_OUT_SENTENCES, cache, noise_db=-20.0)])
        # With `vtuber calibrate --audio` (this voice's five isolated vowels, 10 s):
        t0 = time.perf_counter()
        model, _ = learn_vowels(calibration_take(v, cache))
        took = time.perf_counter() - t0
        cal = score([take], model)
        shapes = analyze(take.samples)
        split.add(shapes, take.truth(len(shapes), split_diphthongs=True, delay=DELAY))
        for sc, m in ((before, None), (after, model)):
            sh = analyze(take.samples, m)
            sc.add(sh, take.truth(len(sh), delay=DELAY), take.settled(len(sh), DELAY))
        # Without calibration, the warp learned online from the speech (vtuber/audio/adapt.py):
        adaptive = AdaptiveAnalyzer()
        ad = adaptive.push(take.samples)
        truth, settled = take.truth(len(ad), delay=DELAY), take.settled(len(ad), DELAY)
        one, one_late = Scores(), Scores()
        for sc, h in ((one, 0), (online, 0), (one_late, warm), (online_late, warm)):
            sc.add(ad[h:], truth[h:], settled[h:])
        plain = analyze(take.samples)
        plain_late.add(plain[warm:], truth[warm:], settled[warm:])
        noisy_take = make_take(v, HELD_OUT_SENTENCES, cache, noise_db=-20.0)
        adn = adaptive_analyze(noisy_take.samples)
        online_noisy.add(adn, noisy_take.truth(len(adn), delay=DELAY))
        print(
            f"  {v.label:34s} online warp (final {adaptive.warp:.3f}): vowels "
            f"{one.vowel_accuracy:.3f} (settled {one.settled_accuracy:.3f}), after the first "
            f"{ONLINE_WARM_S:.0f} s {one_late.vowel_accuracy:.3f} of {one_late.vowel_frames}; "
            f"F1 {one.f1:.3f}"
        )
        print(
            f"  {v.label:34s} F1 {c.f1:.3f}  vowels {c.vowel_accuracy:.3f} (settled "
            f"{c.settled_accuracy:.3f}); calibrated (warp {model.warp:.3f}, {took:.1f} s): "
            f"{cal.vowel_accuracy:.3f} (settled {cal.settled_accuracy:.3f}); noise: silent open "
            f"{n.silent_open_rate:.3f}"
        )
    print(
        f"  all held-out voices calibrated: vowels {after.vowel_accuracy:.3f} "
        f"(settled {after.settled_accuracy:.3f}), uncalibrated {before.vowel_accuracy:.3f} "
        f"({before.settled_accuracy:.3f})"
    )
    print(
        f"  all held-out voices, warp learned online: vowels {online.vowel_accuracy:.3f} (settled "
        f"{online.settled_accuracy:.3f}; noisy {online_noisy.vowel_accuracy:.3f}; F1 "
        f"{online.f1:.3f}, noisy {online_noisy.f1:.3f}; silent open in noise "
        f"{online_noisy.silent_open_rate:.3f}); after the first {ONLINE_WARM_S:.0f} s of each "
        f"voice {online_late.vowel_accuracy:.3f} of {online_late.vowel_frames} (settled "
        f"{online_late.settled_accuracy:.3f}; without adaptation there "
        f"{plain_late.vowel_accuracy:.3f})"
    )
    print(f"  diphthongs scored as two halves instead of their nucleus: {split.vowel_accuracy:.3f}")
    print(f"speech scored: {total:.0f} s (each of clean and noisy)")
    take = make_take(HELD_OUT_VOICES[0], HELD_OUT_SENTENCES, cache)
    for what, a in (("analysis", Analyzer()), ("with the warp learned online", AdaptiveAnalyzer())):
        t0 = time.thread_time()
        for i in range(0, len(take.samples), HOP):  # as a microphone delivers it: 10 ms at a time
            a.push(take.samples[i : i + HOP])
        cpu = time.thread_time() - t0
        n_hops = len(take.samples) // HOP
        print(
            f"{what} cost: {1000 * cpu / n_hops:.3f} ms CPU per 10 ms hop "
            f"({100 * cpu / (len(take.samples) / RATE):.1f} % of one core in real time)"
        )
    if not args.quick:
        webrtc_baseline(cache)
        for what, adapt in (("", False), (", warp learned online", True)):
            lat = latency(make_take(HELD_OUT_VOICES[0], HELD_OUT_SENTENCES[:3], cache), adapt=adapt)
            print(
                f"latency represented sample -> VMC datagram received{what} (audio delay "
                f"{DELAY * 1000:.0f} ms included; {lat['received']:.0f} of "
                f"{lat['frames']:.0f} mouths): p50 {lat['p50_ms']:.1f} ms, p95 "
                f"{lat['p95_ms']:.1f} ms, max {lat['max_ms']:.1f} ms (10 ms blocks)"
            )


if __name__ == "__main__":
    main()
