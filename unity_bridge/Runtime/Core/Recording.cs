using System;
using System.Collections.Generic;
using System.Text;

namespace Vtuber.Bridge.Core
{
    /// <summary>One FRAM chunk: an avatar frame (docs/recording.md section 5).</summary>
    public sealed class RecordedFrame
    {
        public int Layout;
        /// <summary>bit 0 face tracked, bit 1 body, bit 2 left hand, bit 3 right hand (avatar sides).</summary>
        public int Flags;
        public long Index;
        /// <summary>Source time in seconds (not necessarily starting at 0).</summary>
        public double T;
        public Vec3 RootPosition;
        public Quat RootRotation;
        /// <summary>HumanBone numbers of the rotations (-1: a bone-table name this reader does not know).</summary>
        public int[] Bones;
        public Quat[] Rotations;
        public int[] PositionBones;
        public Vec3[] Positions;
        /// <summary>Blendshape names (from the recording's table) and weights, in the frame's order.</summary>
        public string[] BlendNames;
        public float[] BlendWeights;
    }

    /// <summary>One VMCD chunk: a raw VMC datagram and its receive time (section 7).</summary>
    public sealed class RecordedDatagram
    {
        public double T;
        public byte[] Data;
    }

    /// <summary>
    /// A vtuber recording (.vtrec, docs/recording.md, version 1.x) read fully into memory.
    /// <see cref="TryRead"/> fails only when the file is not a readable recording at all (magic,
    /// major version, HEAD); damage later in the file stops reading at the bad chunk, keeps
    /// everything before it and says so in <see cref="Truncated"/> / <see cref="StopReason"/>.
    /// </summary>
    public sealed class Recording
    {
        public const int KnownMajor = 1;
        public const int MaxChunk = 16777216;
        static readonly byte[] Magic = Encoding.ASCII.GetBytes("VTUBEREC");
        static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);

        public int Major, Minor;
        public Dictionary<string, object> Header;
        /// <summary>"frames" or "vmc".</summary>
        public string Kind = "frames";
        public double Fps = 30.0;
        public bool Mirror = true;
        public readonly List<string> BoneTable = new List<string>();
        public readonly List<string> BlendshapeTable = new List<string>();
        public readonly List<RecordedFrame> Frames = new List<RecordedFrame>();
        public readonly List<RecordedDatagram> Datagrams = new List<RecordedDatagram>();
        public int LandmarkChunks, UnknownChunks;
        /// <summary>An END chunk was read (the writer closed the file cleanly).</summary>
        public bool Complete;
        public string EndJson;
        /// <summary>Reading stopped at a damaged chunk; <see cref="StopOffset"/> is its byte offset.</summary>
        public bool Truncated;
        public string StopReason;
        public long StopOffset = -1;

        /// <summary>Time of the first frame/datagram (replay times are relative to it).</summary>
        public double StartTime
        {
            get
            {
                if (Frames.Count > 0) return Frames[0].T;
                return Datagrams.Count > 0 ? Datagrams[0].T : 0.0;
            }
        }

        /// <summary>Seconds from the first to the last frame (or datagram).</summary>
        public double Duration
        {
            get
            {
                if (Frames.Count > 0) return Frames[Frames.Count - 1].T - Frames[0].T;
                return Datagrams.Count > 0 ? Datagrams[Datagrams.Count - 1].T - Datagrams[0].T : 0.0;
            }
        }

        /// <summary>One line for a log or an inspector: what was read and whether the tail was damaged.</summary>
        public string Summary()
        {
            var sb = new StringBuilder();
            sb.AppendFormat("{0} v{1}.{2}: {3} frames, {4} datagrams, {5:0.00} s", Kind, Major, Minor,
                            Frames.Count, Datagrams.Count, Duration);
            if (Truncated)
                sb.AppendFormat("; {0} at byte {1}: everything before it is usable", StopReason, StopOffset);
            else if (!Complete) sb.Append("; no END chunk (not closed cleanly)");
            return sb.ToString();
        }

        sealed class Layout
        {
            public int[] Bones, Positions, Blend;
        }

        public static bool TryRead(byte[] data, out Recording recording, out string error)
        {
            recording = null;
            error = null;
            if (data == null || data.Length < 12) { error = "not a vtuber recording: too short"; return false; }
            for (int i = 0; i < 8; i++)
                if (data[i] != Magic[i]) { error = "not a vtuber recording: bad magic"; return false; }
            var r = new Recording { Major = U16(data, 8), Minor = U16(data, 10) };
            if (r.Major != KnownMajor)
            {
                error = "unsupported recording version " + r.Major + "." + r.Minor + " (this reader knows " + KnownMajor + ".x)";
                return false;
            }
            var layouts = new Dictionary<int, Layout>();
            int pos = 12;
            bool first = true;
            while (pos < data.Length)
            {
                string why = null;
                int remaining = data.Length - pos;
                string tag = null;
                int len = 0;
                if (remaining < 12) why = "truncated chunk";
                else
                {
                    len = (int)Math.Min(U32(data, pos + 4), (uint)int.MaxValue);
                    if (!TagOk(data, pos)) why = "bad chunk tag";
                    else if (len > MaxChunk) why = "implausible chunk length " + len;
                    else if (remaining < 12 + len) why = "truncated chunk";
                    else if (Crc32.Compute(data, pos, 8 + len) != U32(data, pos + 8 + len)) why = "CRC mismatch";
                    else
                    {
                        tag = Encoding.ASCII.GetString(data, pos, 4);
                        if (first && tag != "HEAD") why = "first chunk is " + tag + ", not HEAD";
                        else why = r.Chunk(tag, data, pos + 8, len, layouts);
                    }
                }
                if (why != null)
                {
                    if (first)
                    {
                        error = "not a readable recording: " + why + " in the header";
                        return false;
                    }
                    r.Truncated = true;
                    r.StopReason = why + " (after frame " + r.Frames.Count + ")";
                    r.StopOffset = pos;
                    break;
                }
                first = false;
                pos += 12 + len;
            }
            if (first) { error = "not a readable recording: no HEAD chunk"; return false; }
            recording = r;
            return true;
        }

        /// <summary>Handles one CRC-checked chunk; returns why it is invalid, or null.</summary>
        string Chunk(string tag, byte[] d, int p, int len, Dictionary<int, Layout> layouts)
        {
            int end = p + len;
            switch (tag)
            {
                case "HEAD":
                    {
                        if (Header != null) return "second HEAD chunk";
                        string text;
                        if (!TryUtf8(d, p, len, out text)) return "HEAD is not UTF-8";
                        object v;
                        string err;
                        if (!MiniJson.TryParse(text, out v, out err)) return "HEAD is not JSON: " + err;
                        var h = v as Dictionary<string, object>;
                        if (h == null) return "HEAD is not a JSON object";
                        object x;
                        if (!h.TryGetValue("format", out x) || !"vtuber-recording".Equals(x)) return "HEAD format is not vtuber-recording";
                        Header = h;
                        if (h.TryGetValue("kind", out x) && x is string) Kind = (string)x;
                        if (h.TryGetValue("fps", out x) && x is double) Fps = (double)x;
                        if (h.TryGetValue("mirror", out x) && x is bool) Mirror = (bool)x;
                        if (!AddNames(h, "bones", BoneTable)) return "HEAD bones is not a list of strings";
                        if (!AddNames(h, "blendshapes", BlendshapeTable)) return "HEAD blendshapes is not a list of strings";
                        return null;
                    }
                case "NAME":
                    {
                        if (len < 2) return "NAME too short";
                        int n = U16(d, p), q = p + 2;
                        var names = new List<string>(n);
                        for (int i = 0; i < n; i++)
                        {
                            if (end - q < 2) return "NAME truncated";
                            int sl = U16(d, q); q += 2;
                            string s;
                            if (end - q < sl || !TryUtf8(d, q, sl, out s)) return "NAME entry out of range";
                            names.Add(s);
                            q += sl;
                        }
                        if (q != end) return "NAME has trailing bytes";
                        BlendshapeTable.AddRange(names);
                        return null;
                    }
                case "LAYT":
                    {
                        int q = p;
                        if (end - q < 3) return "LAYT too short";
                        int id = U16(d, q); q += 2;
                        var l = new Layout();
                        int nb = d[q++];
                        if (end - q < nb) return "LAYT truncated";
                        l.Bones = new int[nb];
                        for (int i = 0; i < nb; i++) l.Bones[i] = d[q++];
                        if (end - q < 1) return "LAYT truncated";
                        int np = d[q++];
                        if (end - q < np) return "LAYT truncated";
                        l.Positions = new int[np];
                        for (int i = 0; i < np; i++) l.Positions[i] = d[q++];
                        if (end - q < 2) return "LAYT truncated";
                        int nbl = U16(d, q); q += 2;
                        if (end - q != 2 * nbl) return "LAYT size does not match its counts";
                        l.Blend = new int[nbl];
                        for (int i = 0; i < nbl; i++) { l.Blend[i] = U16(d, q); q += 2; }
                        layouts[id] = l;
                        return null;
                    }
                case "FRAM":
                    {
                        if (len < 2) return "FRAM too short";
                        int id = U16(d, p);
                        Layout l;
                        if (!layouts.TryGetValue(id, out l)) return "FRAM uses undeclared layout " + id;
                        int expect = 44 + 16 * l.Bones.Length + 12 * l.Positions.Length + 4 * l.Blend.Length;
                        if (len != expect) return "FRAM size " + len + " does not match layout " + id + " (" + expect + ")";
                        var f = new RecordedFrame { Layout = id, Flags = d[p + 2], Index = U32(d, p + 4), T = F64(d, p + 8) };
                        int q = p + 16;
                        f.RootPosition = new Vec3(F32(d, q), F32(d, q + 4), F32(d, q + 8));
                        f.RootRotation = new Quat(F32(d, q + 12), F32(d, q + 16), F32(d, q + 20), F32(d, q + 24));
                        q += 28;
                        f.Bones = new int[l.Bones.Length];
                        f.Rotations = new Quat[l.Bones.Length];
                        for (int i = 0; i < l.Bones.Length; i++, q += 16)
                        {
                            if (l.Bones[i] >= BoneTable.Count) return "bone index " + l.Bones[i] + " outside the bone table";
                            f.Bones[i] = BoneNumber(l.Bones[i]);
                            f.Rotations[i] = new Quat(F32(d, q), F32(d, q + 4), F32(d, q + 8), F32(d, q + 12));
                        }
                        f.PositionBones = new int[l.Positions.Length];
                        f.Positions = new Vec3[l.Positions.Length];
                        for (int i = 0; i < l.Positions.Length; i++, q += 12)
                        {
                            if (l.Positions[i] >= BoneTable.Count) return "bone index " + l.Positions[i] + " outside the bone table";
                            f.PositionBones[i] = BoneNumber(l.Positions[i]);
                            f.Positions[i] = new Vec3(F32(d, q), F32(d, q + 4), F32(d, q + 8));
                        }
                        f.BlendNames = new string[l.Blend.Length];
                        f.BlendWeights = new float[l.Blend.Length];
                        for (int i = 0; i < l.Blend.Length; i++, q += 4)
                        {
                            if (l.Blend[i] >= BlendshapeTable.Count) return "blendshape index " + l.Blend[i] + " outside the table";
                            f.BlendNames[i] = BlendshapeTable[l.Blend[i]];
                            f.BlendWeights[i] = F32(d, q);
                        }
                        Frames.Add(f);
                        return null;
                    }
                case "VMCD":
                    {
                        if (len < 8) return "VMCD too short";
                        var g = new RecordedDatagram { T = F64(d, p), Data = new byte[len - 8] };
                        Buffer.BlockCopy(d, p + 8, g.Data, 0, len - 8);
                        Datagrams.Add(g);
                        return null;
                    }
                case "LMRK":
                    LandmarkChunks++;
                    return null;
                case "END ":
                    {
                        string text;
                        Complete = true;
                        EndJson = TryUtf8(d, p, len, out text) ? text : null;
                        return null;
                    }
                default:
                    UnknownChunks++; // newer minor versions may add chunk types
                    return null;
            }
        }

        readonly Dictionary<int, int> boneNumbers = new Dictionary<int, int>();

        int BoneNumber(int tableIndex)
        {
            int n;
            if (boneNumbers.TryGetValue(tableIndex, out n)) return n;
            HumanBone b;
            n = HumanBones.TryParse(BoneTable[tableIndex], out b) ? (int)b : -1;
            boneNumbers[tableIndex] = n;
            return n;
        }

        /// <summary>
        /// Writes frame <paramref name="i"/> into <paramref name="pose"/>. Bones the frame does not
        /// carry get vtuber's rest pose when <paramref name="fillRest"/> (as the VMC stream does),
        /// else they are marked absent. Blendshapes are replaced by the frame's.
        /// </summary>
        public void ToPose(int i, VmcPose pose, bool fillRest)
        {
            var f = Frames[i];
            for (int b = 0; b < HumanBones.Count; b++)
            {
                pose.Rotations[b] = fillRest ? RestPose.Get((HumanBone)b) : Quat.Identity;
                pose.HasRotation[b] = fillRest;
                pose.HasPosition[b] = false;
            }
            for (int k = 0; k < f.Bones.Length; k++)
            {
                int b = f.Bones[k];
                if (b < 0) continue;
                pose.Rotations[b] = f.Rotations[k];
                pose.HasRotation[b] = true;
            }
            for (int k = 0; k < f.PositionBones.Length; k++)
            {
                int b = f.PositionBones[k];
                if (b < 0) continue;
                pose.Positions[b] = f.Positions[k];
                pose.HasPosition[b] = true;
            }
            pose.RootPosition = f.RootPosition;
            pose.RootRotation = f.RootRotation;
            pose.HasRoot = true;
            pose.Blendshapes.Clear();
            for (int k = 0; k < f.BlendNames.Length; k++) pose.Blendshapes[f.BlendNames[k]] = f.BlendWeights[k];
            pose.BlendshapeVersion++;
            pose.Time = (float)(f.T - StartTime);
            pose.HasTime = true;
            pose.TrackingStatus = (f.Flags & 3) != 0 ? 1 : 0;
        }

        /// <summary>Index of the last frame at or before <paramref name="t"/> seconds from the start (binary search).</summary>
        public int FrameAt(double t)
        {
            if (Frames.Count == 0) return -1;
            double target = StartTime + t;
            int lo = 0, hi = Frames.Count - 1;
            if (target <= Frames[0].T) return 0;
            while (lo < hi)
            {
                int mid = (lo + hi + 1) >> 1;
                if (Frames[mid].T <= target) lo = mid; else hi = mid - 1;
            }
            return lo;
        }

        static bool AddNames(Dictionary<string, object> h, string key, List<string> into)
        {
            object x;
            if (!h.TryGetValue(key, out x) || x == null) return true;
            var l = x as List<object>;
            if (l == null) return false;
            foreach (var o in l)
            {
                var s = o as string;
                if (s == null) return false;
                into.Add(s);
            }
            return true;
        }

        static bool TagOk(byte[] d, int p)
        {
            for (int i = 0; i < 4; i++) if (d[p + i] < 0x20 || d[p + i] > 0x7E) return false;
            return true;
        }

        static bool TryUtf8(byte[] d, int p, int n, out string s)
        {
            try { s = Utf8.GetString(d, p, n); return true; }
            catch (DecoderFallbackException) { s = null; return false; }
        }

        static int U16(byte[] d, int p) { return d[p] | (d[p + 1] << 8); }

        static uint U32(byte[] d, int p) { return (uint)(d[p] | (d[p + 1] << 8) | (d[p + 2] << 16) | (d[p + 3] << 24)); }

        static float F32(byte[] d, int p)
        {
            if (BitConverter.IsLittleEndian) return BitConverter.ToSingle(d, p);
            return BitConverter.ToSingle(new[] { d[p + 3], d[p + 2], d[p + 1], d[p] }, 0);
        }

        static double F64(byte[] d, int p)
        {
            long lo = U32(d, p), hi = U32(d, p + 4);
            return BitConverter.Int64BitsToDouble((hi << 32) | lo);
        }
    }

    /// <summary>
    /// Timeline-free playback state of a <see cref="Recording"/>: play / pause / seek / loop / speed,
    /// advanced by the caller's clock (Unity: Time.deltaTime). Samples poses for "frames" recordings
    /// (optionally interpolated between neighbouring frames) and for "vmc" recordings (datagrams
    /// decoded in order up to the current time).
    /// </summary>
    public sealed class RecordingPlayback
    {
        public readonly Recording Recording;
        public bool Loop = true;
        public bool IsPlaying;
        /// <summary>Playback rate (1 = real time); negative values are treated as 0.</summary>
        public float Speed = 1f;
        /// <summary>Seconds from the first frame, in [0, Duration].</summary>
        public double Time { get; private set; }
        /// <summary>Number of times playback wrapped around (loop) since the start.</summary>
        public int Loops { get; private set; }

        readonly VmcDecoder vmc = new VmcDecoder();
        int vmcCursor;

        public RecordingPlayback(Recording recording)
        {
            if (recording == null) throw new ArgumentNullException("recording");
            Recording = recording;
        }

        public double Duration { get { return Recording.Duration; } }

        public void Play() { if (Time >= Duration && !Loop) Time = 0; IsPlaying = true; }

        public void Pause() { IsPlaying = false; }

        public void Seek(double seconds)
        {
            Time = double.IsNaN(seconds) ? 0 : Math.Max(0, Math.Min(Duration, seconds));
        }

        /// <summary>Moves the playhead by <paramref name="dt"/> seconds of the caller's clock times <see cref="Speed"/>.</summary>
        public void Advance(double dt)
        {
            if (!IsPlaying || dt <= 0 || double.IsNaN(dt)) return;
            double d = Duration;
            double t = Time + dt * Math.Max(0f, Speed);
            if (t > d)
            {
                if (Loop && d > 0)
                {
                    Loops += (int)Math.Floor(t / d);
                    t %= d;
                }
                else
                {
                    t = d;
                    IsPlaying = false;
                }
            }
            Time = t;
        }

        /// <summary>Writes the pose at the playhead into <paramref name="pose"/>; false if there is nothing to play.</summary>
        public bool Sample(VmcPose pose, bool interpolate, bool fillRest)
        {
            var r = Recording;
            if (r.Frames.Count > 0)
            {
                int i = r.FrameAt(Time);
                r.ToPose(i, pose, fillRest);
                if (interpolate && i + 1 < r.Frames.Count)
                {
                    var a = r.Frames[i];
                    var b = r.Frames[i + 1];
                    double span = b.T - a.T;
                    float alpha = span > 0 ? (float)((r.StartTime + Time - a.T) / span) : 0f;
                    if (alpha > 0f) Blend(pose, b, Math.Min(1f, alpha));
                }
                return true;
            }
            if (r.Datagrams.Count > 0)
            {
                double target = r.StartTime + Time;
                if (vmcCursor > 0 && r.Datagrams[vmcCursor - 1].T > target) { vmc.Reset(); vmcCursor = 0; }
                while (vmcCursor < r.Datagrams.Count && r.Datagrams[vmcCursor].T <= target)
                    vmc.ApplyDatagram(r.Datagrams[vmcCursor++].Data);
                vmc.Pose.CopyTo(pose);
                return true;
            }
            return false;
        }

        static void Blend(VmcPose pose, RecordedFrame next, float alpha)
        {
            for (int k = 0; k < next.Bones.Length; k++)
            {
                int b = next.Bones[k];
                if (b < 0 || !pose.HasRotation[b]) continue;
                pose.Rotations[b] = Quat.Slerp(pose.Rotations[b], next.Rotations[k], alpha);
            }
            for (int k = 0; k < next.PositionBones.Length; k++)
            {
                int b = next.PositionBones[k];
                if (b < 0 || !pose.HasPosition[b]) continue;
                pose.Positions[b] = Vec3.Lerp(pose.Positions[b], next.Positions[k], alpha);
            }
            pose.RootPosition = Vec3.Lerp(pose.RootPosition, next.RootPosition, alpha);
            pose.RootRotation = Quat.Slerp(pose.RootRotation, next.RootRotation, alpha);
            for (int k = 0; k < next.BlendNames.Length; k++)
            {
                float v;
                if (pose.Blendshapes.TryGetValue(next.BlendNames[k], out v))
                    pose.Blendshapes[next.BlendNames[k]] = v + (next.BlendWeights[k] - v) * alpha;
            }
        }
    }
}
