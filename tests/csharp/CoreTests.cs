// Tests of the Unity bridge's Unity-free core (unity_bridge/Runtime/Core), run under mono by
// tests/test_unity_bridge.py. A tiny self-made runner: every public static void method of
// CoreTests whose name starts with "Test" is a test; golden-fixture cases are added per case.
//
// Usage: mono CoreTests.exe FIXTURES_DIR
// Prints "PASS name" / "FAIL name: reason" / "SKIP name: reason" and a last line
// "SUMMARY passed=N failed=M skipped=K". Exit status 1 when anything failed.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Threading;
using Vtuber.Bridge.Core;

public sealed class SkipException : Exception
{
    public SkipException(string why) : base(why) { }
}

public static class Check
{
    public static void True(bool c, string what)
    {
        if (!c) throw new Exception(what);
    }

    public static void Equal<T>(T expected, T actual, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
            throw new Exception(what + ": expected " + expected + ", got " + actual);
    }

    public static void Near(double expected, double actual, double tol, string what)
    {
        if (!(Math.Abs(expected - actual) <= tol))
            throw new Exception(what + ": expected " + expected.ToString("R") + " +- " + tol + ", got " + actual.ToString("R"));
    }
}

public static partial class Program
{
    public static string Fixtures;

    public static int Main(string[] args)
    {
        if (args.Length >= 1 && args[0] == "--listen") return Listen(args);
        Fixtures = args.Length > 0 ? args[0] : "tests/fixtures";
        var tests = new List<KeyValuePair<string, Action>>();
        foreach (var m in typeof(CoreTests).GetMethods(BindingFlags.Public | BindingFlags.Static))
            if (m.Name.StartsWith("Test", StringComparison.Ordinal) && m.GetParameters().Length == 0)
            {
                var mm = m;
                tests.Add(new KeyValuePair<string, Action>(m.Name, () => mm.Invoke(null, null)));
            }
        tests.AddRange(CoreTests.GoldenVmcCases());
        int passed = 0, failed = 0, skipped = 0;
        foreach (var t in tests)
        {
            try
            {
                t.Value();
                passed++;
                Console.WriteLine("PASS " + t.Key);
            }
            catch (Exception e)
            {
                var inner = e is TargetInvocationException && e.InnerException != null ? e.InnerException : e;
                if (inner is SkipException)
                {
                    skipped++;
                    Console.WriteLine("SKIP " + t.Key + ": " + inner.Message);
                }
                else
                {
                    failed++;
                    Console.WriteLine("FAIL " + t.Key + ": " + inner.GetType().Name + ": " + inner.Message);
                }
            }
        }
        Console.WriteLine("SUMMARY passed=" + passed + " failed=" + failed + " skipped=" + skipped);
        return failed == 0 ? 0 : 1;
    }
}

public static partial class Program
{
    /// <summary>
    /// --listen SECONDS: a real VmcUdpReceiver on a free loopback port (printed as "PORT n"); prints
    /// the newest pose ("TIME t", "BONE name x y z w", "BLEND name v") once a datagram with
    /// /VMC/Ext/T arrived and blendshapes were applied, or "TIMEOUT". For the Python end-to-end test.
    /// </summary>
    static int Listen(string[] args)
    {
        double seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10;
        using (var rx = new VmcUdpReceiver())
        {
            rx.Start(0, "127.0.0.1");
            Console.WriteLine("PORT " + rx.Port);
            Console.Out.Flush();
            var pose = new VmcPose();
            long seq = 0;
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            while (DateTime.UtcNow < deadline)
            {
                if (rx.TryGetLatest(pose, ref seq) && pose.HasTime && pose.Blendshapes.Count > 0)
                {
                    var inv = System.Globalization.CultureInfo.InvariantCulture;
                    Console.WriteLine("TIME " + pose.Time.ToString("R", inv));
                    for (int b = 0; b < HumanBones.Count; b++)
                    {
                        if (!pose.HasRotation[b]) continue;
                        var q = pose.Rotations[b];
                        Console.WriteLine(string.Format(inv, "BONE {0} {1:R} {2:R} {3:R} {4:R}", (HumanBone)b, q.x, q.y, q.z, q.w));
                    }
                    foreach (var kv in pose.Blendshapes)
                        Console.WriteLine(string.Format(inv, "BLEND {0} {1:R}", kv.Key, kv.Value));
                    Console.WriteLine("STATS datagrams=" + rx.Datagrams + " rejected=" + rx.Rejected + " errors=" + rx.ThreadErrors);
                    return 0;
                }
                Thread.Sleep(2);
            }
            Console.WriteLine("TIMEOUT");
            return 1;
        }
    }
}

public static class CoreTests
{
    // ------------------------------------------------------------------ helpers
    static object Json(string path)
    {
        object v;
        string err;
        if (!MiniJson.TryParse(File.ReadAllText(path, Encoding.UTF8), out v, out err))
            throw new Exception(path + ": " + err);
        return v;
    }

    static Dictionary<string, object> Obj(object o) { return (Dictionary<string, object>)o; }

    static List<object> Arr(object o) { return (List<object>)o; }

    /// <summary>A .dgrams file: each datagram preceded by its big-endian uint32 length.</summary>
    public static List<byte[]> ReadDgrams(string path)
    {
        var all = File.ReadAllBytes(path);
        var list = new List<byte[]>();
        int p = 0;
        while (p < all.Length)
        {
            int n = (all[p] << 24) | (all[p + 1] << 16) | (all[p + 2] << 8) | all[p + 3];
            p += 4;
            var d = new byte[n];
            Buffer.BlockCopy(all, p, d, 0, n);
            list.Add(d);
            p += n;
        }
        return list;
    }

    static string Need(string name)
    {
        var path = Path.Combine(Program.Fixtures, name);
        if (!File.Exists(path)) throw new SkipException("fixture absent: " + path);
        return path;
    }

    static float F(object o) { return (float)(double)o; }

    static List<byte[]> AllVmcDatagrams()
    {
        var list = new List<byte[]>();
        foreach (var f in new[] { "vmc/python_frames.dgrams", "vmc/oscsend_messages.dgrams", "vmc/npmosc_bundle.dgrams" })
        {
            var p = Path.Combine(Program.Fixtures, f);
            if (File.Exists(p)) list.AddRange(ReadDgrams(p));
        }
        if (list.Count == 0) throw new SkipException("no VMC fixtures");
        return list;
    }

    // ------------------------------------------------------------------ golden VMC fixtures
    /// <summary>One test per case of vmc/vmc_fixtures.json (Python encoder, oscsend, npm osc).</summary>
    public static IEnumerable<KeyValuePair<string, Action>> GoldenVmcCases()
    {
        var path = Path.Combine(Program.Fixtures, "vmc", "vmc_fixtures.json");
        if (!File.Exists(path))
        {
            yield return new KeyValuePair<string, Action>("GoldenVmc", () => { throw new SkipException("absent: " + path); });
            yield break;
        }
        var doc = Obj(Json(path));
        foreach (var c in Arr(doc["cases"]))
        {
            var kase = Obj(c);
            yield return new KeyValuePair<string, Action>("GoldenVmc_" + kase["name"], () => CheckVmcCase(kase));
        }
    }

    static void CheckVmcCase(Dictionary<string, object> kase)
    {
        var dgrams = ReadDgrams(Path.Combine(Program.Fixtures, "vmc", (string)kase["file"]));
        var range = Arr(kase["datagrams"]);
        int first = (int)(double)range[0], count = (int)(double)range[1];
        var dec = new VmcDecoder();
        for (int i = first; i < first + count; i++)
            Check.True(dec.ApplyDatagram(dgrams[i]), "datagram " + i + " rejected: " + dec.LastError);
        Check.Equal(0L, dec.BadMessages, "malformed messages (" + dec.LastError + ")");
        var exp = Obj(kase["expected"]);
        var pose = dec.Pose;
        Check.True(pose.HasTime, "no /VMC/Ext/T");
        Check.Equal(F(exp["time"]), pose.Time, "time");
        Check.Equal((int)(double)exp["loaded"], pose.Loaded, "OK loaded");
        if (exp["root"] != null)
        {
            var r = Arr(exp["root"]).Select(F).ToArray();
            Check.True(pose.HasRoot, "no root");
            Check.Equal(r[0], pose.RootPosition.x, "root px"); Check.Equal(r[1], pose.RootPosition.y, "root py");
            Check.Equal(r[2], pose.RootPosition.z, "root pz"); Check.Equal(r[3], pose.RootRotation.x, "root qx");
            Check.Equal(r[4], pose.RootRotation.y, "root qy"); Check.Equal(r[5], pose.RootRotation.z, "root qz");
            Check.Equal(r[6], pose.RootRotation.w, "root qw");
        }
        var bones = Obj(exp["bones"]);
        for (int b = 0; b < HumanBones.Count; b++)
        {
            var name = ((HumanBone)b).ToString();
            object v;
            if (!bones.TryGetValue(name, out v))
            {
                Check.True(!pose.HasRotation[b], name + " present but not expected");
                continue;
            }
            var e = Arr(v).Select(F).ToArray();
            Check.True(pose.HasRotation[b] && pose.HasPosition[b], name + " missing");
            var p = pose.Positions[b];
            var q = pose.Rotations[b];
            var got = new[] { p.x, p.y, p.z, q.x, q.y, q.z, q.w };
            for (int k = 0; k < 7; k++) Check.Equal(e[k], got[k], name + "[" + k + "]");
        }
        var blend = Obj(exp["blendshapes"]);
        Check.Equal(blend.Count, pose.Blendshapes.Count, "number of applied blendshapes");
        foreach (var kv in blend)
        {
            float got;
            Check.True(pose.Blendshapes.TryGetValue(kv.Key, out got), "blendshape " + kv.Key + " missing");
            Check.Equal(F(kv.Value), got, "blendshape " + kv.Key);
        }
        foreach (var a in Arr(exp["other"]))
            Check.True(dec.Other.ContainsKey((string)a), "unknown address " + a + " not kept");
    }

    /// <summary>vtuber's rest pose in C# equals the one Python sends (python_rest fixture).</summary>
    public static void TestRestPoseMatchesPython()
    {
        var doc = Obj(Json(Need("vmc/vmc_fixtures.json")));
        var rest = Arr(doc["cases"]).Select(Obj).First(c => (string)c["name"] == "python_rest");
        var bones = Obj(Obj(rest["expected"])["bones"]);
        foreach (var kv in bones)
        {
            HumanBone b;
            Check.True(HumanBones.TryParse(kv.Key, out b), kv.Key);
            var e = Arr(kv.Value).Select(F).ToArray();
            var q = RestPose.Get(b);
            Check.True(Quat.AngleDegrees(new Quat(e[3], e[4], e[5], e[6]), q) < 1e-3, "rest pose of " + kv.Key + ": " + q);
        }
    }

    // ------------------------------------------------------------------ OSC parsing
    public static void TestOscRoundTripWithWriter()
    {
        var msg = OscWriter.Message("/VMC/Ext/Bone/Pos", "Head", 0f, 0.1f, 0f, 0f, 0.5f, 0f, 0.8660254f);
        var bundle = OscWriter.Bundle(msg, OscWriter.Message("/VMC/Ext/OK", 1), OscWriter.Bundle(OscWriter.Message("/x", "é")));
        var outp = new List<OscMessage>();
        string err;
        Check.True(OscReader.TryParse(bundle, outp, out err), "parse: " + err);
        Check.Equal(3, outp.Count, "messages");
        Check.Equal("/VMC/Ext/Bone/Pos", outp[0].Address, "address");
        Check.Equal("Head", outp[0].Args[0].Text, "bone name");
        Check.Equal(0.8660254f, (float)outp[0].Args[7].Float, "qw");
        Check.Equal(1L, outp[1].Args[0].Int, "OK");
        Check.Equal("é", outp[2].Args[0].Text, "UTF-8 string");
        Check.Equal(1UL, outp[0].TimeTag, "time tag");
    }

    public static void TestOscRejectsMalformed()
    {
        var good = OscWriter.Message("/VMC/Ext/Blend/Val", "Joy", 0.5f);
        var cases = new Dictionary<string, byte[]>
        {
            { "empty", new byte[0] },
            { "not multiple of 4", good.Take(good.Length - 1).ToArray() },
            { "cut argument", good.Take(good.Length - 4).ToArray() },
            { "no leading slash", Encoding.ASCII.GetBytes("VMC\0,f\0\0\0\0\0\0") },
            { "unknown type tag", Encoding.ASCII.GetBytes("/a\0\0,q\0\0") },
            { "unterminated address", Encoding.ASCII.GetBytes("/abcdefg") },
            { "bundle element too long", OscWriter.Bundle(good).Take(20 + good.Length - 4).ToArray() },
            { "bundle size negative", Concat(Encoding.ASCII.GetBytes("#bundle\0"), new byte[8], new byte[] { 0xFF, 0xFF, 0xFF, 0xF0 }) },
            { "bad utf8", Concat(new byte[] { (byte)'/', 0xC3, 0x28, 0 }, Encoding.ASCII.GetBytes(",\0\0\0")) },
        };
        byte[] deep = good;
        for (int i = 0; i < OscReader.MaxBundleDepth + 1; i++) deep = OscWriter.Bundle(deep);
        cases["nested too deep"] = deep;
        foreach (var kv in cases)
        {
            var outp = new List<OscMessage>();
            string err;
            Check.True(!OscReader.TryParse(kv.Value, outp, out err), kv.Key + " accepted");
            Check.True(err != null && outp.Count == 0, kv.Key + ": no error text or partial output");
        }
    }

    static byte[] Concat(params byte[][] parts)
    {
        return parts.SelectMany(p => p).ToArray();
    }

    /// <summary>Every truncation of every fixture datagram, and seeded random corruption: never an
    /// exception, and a rejected datagram leaves the decoded pose exactly as it was.</summary>
    public static void TestFuzzTruncatedAndCorruptDatagrams()
    {
        var all = AllVmcDatagrams();
        var rng = new Random(8);
        var dec = new VmcDecoder();
        int rejected = 0, tried = 0;
        var inputs = new List<byte[]>();
        foreach (var d in all)
            for (int n = 0; n < d.Length; n++) inputs.Add(d.Take(n).ToArray());
        for (int i = 0; i < 3000; i++)
        {
            var d = (byte[])all[rng.Next(all.Count)].Clone();
            int flips = 1 + rng.Next(4);
            for (int k = 0; k < flips; k++) d[rng.Next(d.Length)] = (byte)rng.Next(256);
            inputs.Add(d);
        }
        for (int i = 0; i < 300; i++)
        {
            var d = new byte[rng.Next(64) * 4];
            rng.NextBytes(d);
            if (d.Length > 0 && rng.Next(2) == 0) d[0] = (byte)(rng.Next(2) == 0 ? '/' : '#');
            inputs.Add(d);
        }
        var before = new VmcPose();
        foreach (var d in inputs)
        {
            dec.Pose.CopyTo(before);
            int beforeVersion = dec.Pose.BlendshapeVersion;
            bool ok = dec.ApplyDatagram(d); // must not throw
            tried++;
            if (!ok)
            {
                rejected++;
                Check.Equal(beforeVersion, dec.Pose.BlendshapeVersion, "rejected datagram applied blendshapes");
                for (int b = 0; b < HumanBones.Count; b++)
                    Check.True(before.Rotations[b].Equals(dec.Pose.Rotations[b]), "rejected datagram changed a bone");
            }
        }
        Check.True(rejected > inputs.Count / 2, "only " + rejected + " of " + tried + " bad inputs rejected");
        Check.Equal((long)rejected, dec.RejectedDatagrams, "rejected counter");
    }

    // ------------------------------------------------------------------ VMC semantics
    public static void TestBlendApplySemantics()
    {
        var dec = new VmcDecoder();
        dec.ApplyDatagram(OscWriter.Message("/VMC/Ext/Blend/Val", "Joy", 0.5f));
        Check.Equal(0, dec.Pose.Blendshapes.Count, "a Val before Apply must stay invisible");
        dec.ApplyDatagram(OscWriter.Message("/VMC/Ext/Blend/Apply"));
        Check.Equal(0.5f, dec.Pose.Blendshapes["Joy"], "Joy after Apply");
        dec.ApplyDatagram(OscWriter.Bundle(OscWriter.Message("/VMC/Ext/Blend/Val", "A", 1f),
                                           OscWriter.Message("/VMC/Ext/Blend/Val", "Joy", 0.25f)));
        Check.Equal(0.5f, dec.Pose.Blendshapes["Joy"], "Joy before the second Apply");
        Check.Equal(2, dec.StagedBlendshapes, "staged");
        dec.ApplyDatagram(OscWriter.Message("/VMC/Ext/Blend/Apply"));
        Check.Equal(0.25f, dec.Pose.Blendshapes["Joy"], "Joy after the second Apply");
        Check.Equal(1f, dec.Pose.Blendshapes["A"], "A");
    }

    public static void TestUnknownAndMalformedMessagesAreIgnored()
    {
        var dec = new VmcDecoder();
        var d = OscWriter.Bundle(
            OscWriter.Message("/VMC/Ext/Bone/Pos", "NotABone", 0f, 0f, 0f, 0f, 0f, 0f, 1f),
            OscWriter.Message("/VMC/Ext/Bone/Pos", "Head", 0f, 0f, 0f), // too few arguments
            OscWriter.Message("/VMC/Ext/Bone/Pos", "Neck", 0f, 0f, 0f, 0f, 0f, 0f, 1f, 9f, "extra"),
            OscWriter.Message("/VMC/Ext/Blend/Val", 3, 0.5f), // name is not a string
            OscWriter.Message("/VMC/Ext/Hmd/Pos", "hmd", 0f, 1.6f, 0f, 0f, 0f, 0f, 1f),
            OscWriter.Message("/VMC/Ext/Bone/Pos", "Spine", 0f, 0f, 0f, float.NaN, 0f, 0f, 1f));
        Check.True(dec.ApplyDatagram(d), "datagram");
        Check.Equal(4L, dec.BadMessages, "malformed messages");
        Check.True(dec.Pose.HasRotation[(int)HumanBone.Neck], "extra arguments must be ignored, not the message");
        Check.True(!dec.Pose.HasRotation[(int)HumanBone.Head], "Head with 3 arguments applied");
        Check.True(!dec.Pose.HasRotation[(int)HumanBone.Spine], "NaN rotation applied");
        Check.True(dec.Other.ContainsKey("/VMC/Ext/Hmd/Pos"), "unknown address not kept");
    }

    // ------------------------------------------------------------------ receiver thread (real UDP)
    public static void TestUdpReceiverSurvivesGarbageAndDeliversNewestPose()
    {
        using (var rx = new VmcUdpReceiver())
        using (var tx = new UdpClient())
        {
            rx.Start(0, "127.0.0.1");
            var to = new IPEndPoint(IPAddress.Loopback, rx.Port);
            var rng = new Random(8);
            int garbage = 0;
            foreach (var d in AllVmcDatagrams().Take(40))
            {
                var cut = d.Take(Math.Max(1, d.Length - 1 - rng.Next(Math.Min(16, d.Length - 1)))).ToArray();
                tx.Send(cut, cut.Length, to);
                var noise = new byte[8 + rng.Next(64)];
                rng.NextBytes(noise);
                noise[0] = (byte)'#';
                tx.Send(noise, noise.Length, to);
                garbage += 2;
            }
            var head = new Quat(0f, 0.25881904f, 0f, 0.9659258f);
            var good = OscWriter.Bundle(OscWriter.Message("/VMC/Ext/Bone/Pos", "Head", 0f, 0.08f, 0f, head.x, head.y, head.z, head.w),
                                        OscWriter.Message("/VMC/Ext/T", 42f));
            tx.Send(good, good.Length, to);
            var pose = new VmcPose();
            long seq = 0;
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (DateTime.UtcNow < deadline && !(pose.HasTime && pose.Time == 42f))
            {
                rx.TryGetLatest(pose, ref seq);
                Thread.Sleep(5);
            }
            Check.True(pose.HasTime && pose.Time == 42f, "the valid datagram after the garbage did not arrive");
            Check.Equal(head.y, pose.Rotations[(int)HumanBone.Head].y, "Head qy");
            Check.True(rx.Rejected > 0, "nothing rejected");
            Check.Equal(0L, rx.ThreadErrors, "receiver thread errors (" + rx.LastError + ")");
            Check.True(rx.IsRunning, "receiver thread stopped");
            Check.True(!rx.TryGetLatest(pose, ref seq), "TryGetLatest reported a change without a new datagram");
        }
    }

    public static void TestUdpReceiverReportsPortInUse()
    {
        using (var a = new VmcUdpReceiver())
        using (var b = new VmcUdpReceiver())
        {
            a.Start(0, "127.0.0.1");
            bool threw = false;
            try { b.Start(a.Port, "127.0.0.1"); }
            catch (SocketException) { threw = true; }
            Check.True(threw, "binding a used port must fail loudly");
            Check.True(!b.IsRunning, "b running");
        }
    }

    // ------------------------------------------------------------------ retargeting
    static Quat RandomQuat(Random r)
    {
        return new Quat((float)(r.NextDouble() * 2 - 1), (float)(r.NextDouble() * 2 - 1),
                        (float)(r.NextDouble() * 2 - 1), (float)(r.NextDouble() * 2 - 1)).Normalized();
    }

    public static void TestRetargetNormalizedRigIsIdentityMapping()
    {
        var present = Enumerable.Repeat(true, HumanBones.Count).ToArray();
        var rt = new HumanoidRetarget(present);
        var r = new Random(8);
        var pose = Enumerable.Range(0, HumanBones.Count).Select(_ => RandomQuat(r)).ToArray();
        for (int b = 0; b < HumanBones.Count; b++)
            Check.True(rt.LocalRotation(b, pose).Equals(pose[b]), "bone " + (HumanBone)b);
    }

    /// <summary>
    /// A rig with arbitrary rest rotations, no UpperChest and an extra Transform above Hips: every
    /// present bone's world rotation must equal (normalized world rotation) * (its rest world rotation).
    /// </summary>
    public static void TestRetargetArbitraryRestPoseKeepsWorldDeltas()
    {
        var r = new Random(8);
        var present = Enumerable.Repeat(true, HumanBones.Count).ToArray();
        present[(int)HumanBone.UpperChest] = false;
        present[(int)HumanBone.Jaw] = false;
        var restWorld = Enumerable.Range(0, HumanBones.Count).Select(_ => RandomQuat(r)).ToArray();
        var armature = RandomQuat(r); // the Transform parent of Hips (not a humanoid bone)
        var parentRest = new Quat[HumanBones.Count];
        for (int b = 0; b < HumanBones.Count; b++)
        {
            int p = HumanBones.Parent((HumanBone)b);
            while (p >= 0 && !present[p]) p = HumanBones.Parent((HumanBone)p);
            parentRest[b] = p < 0 ? armature : restWorld[p];
        }
        var rt = new HumanoidRetarget(present, restWorld, parentRest);
        var pose = Enumerable.Range(0, HumanBones.Count).Select(_ => RandomQuat(r)).ToArray();
        // normalized world rotations and the rig's world rotations, parents first (by depth)
        var order = Enumerable.Range(0, HumanBones.Count).OrderBy(b => Depth(b)).ToArray();
        var normWorld = new Quat[HumanBones.Count];
        var rigWorld = new Quat[HumanBones.Count];
        foreach (int b in order)
        {
            int p = HumanBones.Parent((HumanBone)b);
            normWorld[b] = (p < 0 ? Quat.Identity : normWorld[p]) * pose[b];
            if (!present[b]) continue;
            int rp = p;
            while (rp >= 0 && !present[rp]) rp = HumanBones.Parent((HumanBone)rp);
            var parentWorld = rp < 0 ? armature : rigWorld[rp];
            rigWorld[b] = parentWorld * rt.LocalRotation(b, pose);
            Check.True(Quat.AngleDegrees(normWorld[b] * restWorld[b], rigWorld[b]) < 0.05,
                       "world rotation of " + (HumanBone)b + " off by " + Quat.AngleDegrees(normWorld[b] * restWorld[b], rigWorld[b]) + " deg");
        }
        var zero = Enumerable.Repeat(Quat.Identity, HumanBones.Count).ToArray();
        Check.True(Quat.AngleDegrees(rt.LocalRotation((int)HumanBone.Neck, zero), parentRest[(int)HumanBone.Neck].Inverse() * restWorld[(int)HumanBone.Neck]) < 1e-3,
                   "identity pose must give the rest local rotation");
    }

    static int Depth(int b)
    {
        int d = 0;
        for (int p = HumanBones.Parent((HumanBone)b); p >= 0; p = HumanBones.Parent((HumanBone)p)) d++;
        return d;
    }

    public static void TestBoneMaskGroupsAndExclusions()
    {
        var m = new BoneMask(BoneGroup.All & ~BoneGroup.Legs, new[] { HumanBone.LeftEye });
        Check.True(m[HumanBone.Head] && m[HumanBone.RightEye] && m[HumanBone.LeftIndexDistal], "enabled bones");
        Check.True(!m[HumanBone.LeftEye] && !m[HumanBone.RightFoot] && !m[HumanBone.LeftToes], "masked bones");
        Check.True(!m[-1] && !m[55], "out of range");
    }

    public static void TestExpressionNameMapResolvesBothVrmGenerations()
    {
        // a VRM 1.0 avatar's expressions (preset names) + an ARKit custom one
        var vrm1 = new ExpressionNameMap(new List<string[]> { new[] { "happy" }, new[] { "aa" }, new[] { "blinkLeft" }, new[] { "jawOpen" } });
        Check.Equal(0, vrm1.Resolve("Joy"), "Joy -> happy");
        Check.Equal(0, vrm1.Resolve("happy"), "happy");
        Check.Equal(1, vrm1.Resolve("A"), "A -> aa");
        Check.Equal(2, vrm1.Resolve("Blink_L"), "Blink_L -> blinkLeft");
        Check.Equal(3, vrm1.Resolve("JawOpen"), "case-insensitive custom");
        Check.Equal(-1, vrm1.Resolve("Sorrow"), "absent");
        // a VRM 0.x avatar: clip names + presets
        var vrm0 = new ExpressionNameMap(new List<string[]> { new[] { "Joy", "Joy" }, new[] { "Surprised" }, new[] { "A", "A" } });
        Check.Equal(0, vrm0.Resolve("happy"), "happy -> Joy");
        Check.Equal(1, vrm0.Resolve("surprised"), "surprised -> Surprised");
        Check.Equal(2, vrm0.Resolve("aa"), "aa -> A");
    }

    // ------------------------------------------------------------------ JSON
    public static void TestMiniJson()
    {
        object v;
        string err;
        Check.True(MiniJson.TryParse("{\"a\": [1, 2.5e1, -3], \"b\": {\"c\": \"x\\u00e9\\n\"}, \"d\": true, \"e\": null}", out v, out err), err);
        var o = Obj(v);
        Check.Equal(25.0, (double)Arr(o["a"])[1], "number");
        Check.Equal("x\u00e9\n", (string)Obj(o["b"])["c"], "string escapes");
        Check.True(o["e"] == null && (bool)o["d"], "literals");
        foreach (var bad in new[] { "", "{", "{\"a\" 1}", "[1,]", "[1 2]", "\"abc", "{\"a\":1} x", "tru", "[" + new string('[', 100) })
            Check.True(!MiniJson.TryParse(bad, out v, out err) && err != null, "accepted bad JSON: " + bad);
    }

    // ------------------------------------------------------------------ recordings
    static Recording ReadRec(string name)
    {
        Recording r;
        string err;
        Check.True(Recording.TryRead(File.ReadAllBytes(Need(name)), out r, out err), name + ": " + err);
        return r;
    }

    /// <summary>golden_v1.vtrec (written by vtuber/recording.py) decodes to golden_v1.json exactly.</summary>
    public static void TestGoldenRecordingMatchesJson()
    {
        var rec = ReadRec("golden_v1.vtrec");
        var doc = Obj(Json(Need("golden_v1.json")));
        var frames = Arr(doc["frames"]);
        Check.True(!rec.Truncated, "truncated: " + rec.StopReason);
        Check.True(rec.Complete, "END chunk not seen");
        Check.Equal("frames", rec.Kind, "kind");
        Check.Equal(frames.Count, rec.Frames.Count, "frames");
        for (int i = 0; i < frames.Count; i++) CheckFrame(rec, i, Obj(frames[i]));
        Check.True(rec.LandmarkChunks > 0, "LMRK chunk not seen");
    }

    static void CheckFrame(Recording rec, int i, Dictionary<string, object> e)
    {
        var f = rec.Frames[i];
        string at = "frame " + i + ": ";
        Check.Equal((double)e["t"], f.T, at + "t");
        Check.Equal((long)(double)e["index"], f.Index, at + "index");
        var tr = Obj(e["tracking"]);
        int flags = ((bool)tr["face"] ? 1 : 0) | ((bool)tr["body"] ? 2 : 0) | ((bool)tr["leftHand"] ? 4 : 0) | ((bool)tr["rightHand"] ? 8 : 0);
        Check.Equal(flags, f.Flags, at + "flags");
        var rp = Arr(e["rootPosition"]).Select(F).ToArray();
        var rr = Arr(e["rootRotation"]).Select(F).ToArray();
        Check.True(rp[0] == f.RootPosition.x && rp[1] == f.RootPosition.y && rp[2] == f.RootPosition.z, at + "root position");
        Check.True(rr[0] == f.RootRotation.x && rr[1] == f.RootRotation.y && rr[2] == f.RootRotation.z && rr[3] == f.RootRotation.w, at + "root rotation");
        var bones = Obj(e["bones"]);
        Check.Equal(bones.Count, f.Bones.Length, at + "bone count");
        int k = 0;
        foreach (var kv in bones) // JSON keeps the frame's order, and so does the layout
        {
            Check.Equal(kv.Key, ((HumanBone)f.Bones[k]).ToString(), at + "bone order");
            var q = Arr(kv.Value).Select(F).ToArray();
            var g = f.Rotations[k];
            Check.True(q[0] == g.x && q[1] == g.y && q[2] == g.z && q[3] == g.w, at + kv.Key + " rotation " + g);
            k++;
        }
        var pos = Obj(e["positions"]);
        Check.Equal(pos.Count, f.PositionBones.Length, at + "position count");
        k = 0;
        foreach (var kv in pos)
        {
            Check.Equal(kv.Key, ((HumanBone)f.PositionBones[k]).ToString(), at + "position order");
            var p = Arr(kv.Value).Select(F).ToArray();
            var g = f.Positions[k];
            Check.True(p[0] == g.x && p[1] == g.y && p[2] == g.z, at + kv.Key + " position");
            k++;
        }
        var blend = Obj(e["blendshapes"]);
        Check.Equal(blend.Count, f.BlendNames.Length, at + "blendshape count");
        k = 0;
        foreach (var kv in blend)
        {
            Check.Equal(kv.Key, f.BlendNames[k], at + "blendshape order");
            Check.Equal(F(kv.Value), f.BlendWeights[k], at + kv.Key);
            k++;
        }
    }

    public static void TestTruncatedGoldenRecordingKeepsFramesBeforeTheBreak()
    {
        var full = ReadRec("golden_v1.vtrec");
        var cut = ReadRec("golden_v1_truncated.vtrec");
        Check.True(cut.Truncated && !cut.Complete, "truncation not reported");
        Check.Equal(full.Frames.Count - 1, cut.Frames.Count, "frames before the break");
        Check.True(cut.StopOffset > 12 && cut.StopOffset < File.ReadAllBytes(Need("golden_v1_truncated.vtrec")).Length, "stop offset " + cut.StopOffset);
        var doc = Obj(Json(Need("golden_v1.json")));
        for (int i = 0; i < cut.Frames.Count; i++) CheckFrame(cut, i, Obj(Arr(doc["frames"])[i]));
        Check.True(cut.Summary().Contains("after frame " + cut.Frames.Count), cut.Summary());
    }

    public static void TestGoldenVmcRecordingDatagramsDecode()
    {
        var rec = ReadRec("golden_vmc_v1.vtrec");
        var doc = Obj(Json(Need("golden_vmc_v1.json")));
        var dg = Arr(doc["datagrams"]);
        Check.Equal("vmc", rec.Kind, "kind");
        Check.Equal(dg.Count, rec.Datagrams.Count, "datagrams");
        var dec = new VmcDecoder();
        for (int i = 0; i < dg.Count; i++)
        {
            var e = Obj(dg[i]);
            Check.Equal((double)e["t"], rec.Datagrams[i].T, "t of datagram " + i);
            Check.Equal((string)e["hex"], BitConverter.ToString(rec.Datagrams[i].Data).Replace("-", "").ToLowerInvariant(), "bytes of datagram " + i);
            Check.True(dec.ApplyDatagram(rec.Datagrams[i].Data), "datagram " + i + ": " + dec.LastError);
        }
        Check.True(dec.OtherMessages > 0, "the unknown address in the fixture was not kept");
        var pb = new RecordingPlayback(rec);
        pb.Seek(pb.Duration);
        var pose = new VmcPose();
        Check.True(pb.Sample(pose, false, true), "sample");
        Check.True(pose.HasRotation[(int)HumanBone.Head], "Head from the VMC recording");
    }

    /// <summary>Every prefix and seeded corruptions of the golden file: never an exception; a
    /// readable prefix yields a prefix of the frames.</summary>
    public static void TestFuzzRecordings()
    {
        var data = File.ReadAllBytes(Need("golden_v1.vtrec"));
        var full = ReadRec("golden_v1.vtrec");
        var rng = new Random(8);
        int readable = 0;
        for (int n = 0; n <= data.Length; n += (n < 400 ? 1 : 7))
        {
            Recording r;
            string err;
            if (Recording.TryRead(data.Take(n).ToArray(), out r, out err))
            {
                readable++;
                Check.True(r.Frames.Count <= full.Frames.Count, "more frames than the file has");
                for (int i = 0; i < r.Frames.Count; i++) Check.Equal(full.Frames[i].T, r.Frames[i].T, "prefix frame " + i);
                Check.True(n == data.Length || r.Truncated || !r.Complete, "cut file claims to be complete");
            }
            else Check.True(err != null, "no error text");
        }
        Check.True(readable > 0, "no prefix readable");
        for (int i = 0; i < 2000; i++)
        {
            var d = (byte[])data.Clone();
            int flips = 1 + rng.Next(3);
            for (int k = 0; k < flips; k++) d[rng.Next(d.Length)] = (byte)rng.Next(256);
            Recording r;
            string err;
            if (Recording.TryRead(d, out r, out err)) Check.True(r.Frames.Count <= full.Frames.Count, "frames");
        }
    }

    public static void TestPlaybackSeekLoopSpeedAndInterpolation()
    {
        var rec = ReadRec("golden_v1.vtrec");
        var pb = new RecordingPlayback(rec) { Loop = false };
        double dur = pb.Duration;
        Check.True(dur > 0.2, "duration " + dur);
        pb.Advance(1.0);
        Check.Equal(0.0, pb.Time, "advance while paused");
        pb.Play();
        pb.Speed = 2f;
        pb.Advance(0.05);
        Check.Near(0.1, pb.Time, 1e-9, "speed 2");
        pb.Advance(10);
        Check.True(!pb.IsPlaying && pb.Time == dur, "stops at the end without loop");
        pb.Loop = true;
        pb.Play();
        pb.Speed = 1f;
        pb.Seek(dur - 0.01);
        pb.Advance(0.03);
        Check.Near(0.02, pb.Time, 1e-9, "wraps with loop");
        Check.Equal(1, pb.Loops, "loops");
        pb.Seek(-5);
        Check.Equal(0.0, pb.Time, "seek clamps");
        // sampling: exactly on frame 1 -> frame 1's values; half-way between frames 0 and 1 -> in between
        var pose = new VmcPose();
        pb.Seek(rec.Frames[1].T - rec.StartTime);
        pb.Sample(pose, true, true);
        var head1 = rec.Frames[1].Rotations[Array.IndexOf(rec.Frames[1].Bones, (int)HumanBone.Head)];
        Check.True(Quat.AngleDegrees(head1, pose.Rotations[(int)HumanBone.Head]) < 1e-3, "frame 1 head");
        Check.Equal(rec.Frames[1].BlendWeights[0], pose.Blendshapes[rec.Frames[1].BlendNames[0]], "frame 1 blendshape");
        Check.True(Quat.AngleDegrees(RestPose.Get(HumanBone.LeftUpperArm), pose.Rotations[(int)HumanBone.LeftUpperArm]) < 1e-3,
                   "a bone the frame lacks gets the rest pose");
        double mid = 0.5 * (rec.Frames[0].T + rec.Frames[1].T) - rec.StartTime;
        pb.Seek(mid);
        pb.Sample(pose, true, true);
        var head0 = rec.Frames[0].Rotations[Array.IndexOf(rec.Frames[0].Bones, (int)HumanBone.Head)];
        double a = Quat.AngleDegrees(head0, pose.Rotations[(int)HumanBone.Head]);
        double b = Quat.AngleDegrees(head1, pose.Rotations[(int)HumanBone.Head]);
        Check.Near(a, b, 0.01, "interpolated head is half-way");
        pb.Sample(pose, false, true);
        Check.True(Quat.AngleDegrees(head0, pose.Rotations[(int)HumanBone.Head]) < 1e-3, "no interpolation: previous frame");
    }

    public static void TestRecordingRejectsNonRecordings()
    {
        Recording r;
        string err;
        Check.True(!Recording.TryRead(Encoding.ASCII.GetBytes("not a recording at all"), out r, out err) && err.Contains("magic"), "magic");
        var data = File.ReadAllBytes(Need("golden_v1.vtrec"));
        var v2 = (byte[])data.Clone();
        v2[8] = 2;
        Check.True(!Recording.TryRead(v2, out r, out err) && err.Contains("version"), "major 2 accepted: " + err);
        var minor = (byte[])data.Clone();
        minor[10] = 7;
        Check.True(Recording.TryRead(minor, out r, out err), "a newer minor must be accepted");
    }
}
