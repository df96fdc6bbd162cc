using System;
using System.Collections.Generic;

namespace Vtuber.Bridge.Core
{
    /// <summary>
    /// One avatar pose as VMC describes it: LOCAL rotations of a normalized humanoid (identity =
    /// T-pose, Unity basis, quaternions x y z w), optional local positions (metres), the root, and
    /// committed blendshape weights by name (the names as sent: VRM 0.x, VRM 1.0 or ARKit).
    /// </summary>
    public sealed class VmcPose
    {
        public readonly Quat[] Rotations = new Quat[HumanBones.Count];
        public readonly Vec3[] Positions = new Vec3[HumanBones.Count];
        public readonly bool[] HasRotation = new bool[HumanBones.Count];
        public readonly bool[] HasPosition = new bool[HumanBones.Count];
        public Vec3 RootPosition;
        public Quat RootRotation = Quat.Identity;
        public bool HasRoot;
        /// <summary>Weights committed by /VMC/Ext/Blend/Apply (or set by a recording frame).</summary>
        public readonly Dictionary<string, float> Blendshapes = new Dictionary<string, float>(StringComparer.Ordinal);
        /// <summary>Incremented each time <see cref="Blendshapes"/> changes as a whole (an Apply).</summary>
        public int BlendshapeVersion;
        /// <summary>/VMC/Ext/T (sender seconds) or the recording time.</summary>
        public float Time;
        public bool HasTime;
        /// <summary>/VMC/Ext/OK arguments: loaded, calibState, calibMode, trackingStatus (-1 = not sent).</summary>
        public int Loaded = -1, CalibrationState = -1, CalibrationMode = -1, TrackingStatus = -1;

        public VmcPose()
        {
            for (int i = 0; i < HumanBones.Count; i++) Rotations[i] = Quat.Identity;
        }

        public void Clear()
        {
            for (int i = 0; i < HumanBones.Count; i++)
            {
                Rotations[i] = Quat.Identity; Positions[i] = Vec3.Zero;
                HasRotation[i] = false; HasPosition[i] = false;
            }
            RootPosition = Vec3.Zero; RootRotation = Quat.Identity; HasRoot = false;
            Blendshapes.Clear(); BlendshapeVersion++;
            Time = 0f; HasTime = false;
            Loaded = CalibrationState = CalibrationMode = TrackingStatus = -1;
        }

        /// <summary>Copies everything into <paramref name="dst"/> (blendshapes only when their version differs).</summary>
        public void CopyTo(VmcPose dst)
        {
            Array.Copy(Rotations, dst.Rotations, HumanBones.Count);
            Array.Copy(Positions, dst.Positions, HumanBones.Count);
            Array.Copy(HasRotation, dst.HasRotation, HumanBones.Count);
            Array.Copy(HasPosition, dst.HasPosition, HumanBones.Count);
            dst.RootPosition = RootPosition; dst.RootRotation = RootRotation; dst.HasRoot = HasRoot;
            if (dst.BlendshapeVersion != BlendshapeVersion)
            {
                dst.Blendshapes.Clear();
                foreach (var kv in Blendshapes) dst.Blendshapes[kv.Key] = kv.Value;
                dst.BlendshapeVersion = BlendshapeVersion;
            }
            dst.Time = Time; dst.HasTime = HasTime;
            dst.Loaded = Loaded; dst.CalibrationState = CalibrationState;
            dst.CalibrationMode = CalibrationMode; dst.TrackingStatus = TrackingStatus;
        }
    }

    /// <summary>
    /// Applies VMC messages to a <see cref="VmcPose"/> (performer -> marionette direction):
    /// Root/Pos, Bone/Pos, Blend/Val + Blend/Apply, OK, T. Unknown addresses are counted and their
    /// latest arguments kept in <see cref="Other"/>; unknown bone names, too few or mistyped
    /// arguments make that one message ignored (counted in <see cref="BadMessages"/>); extra trailing
    /// arguments are ignored, as the VMC spec asks.
    ///
    /// Blend/Apply semantics: /VMC/Ext/Blend/Val values are staged and become visible in
    /// <see cref="VmcPose.Blendshapes"/> only when /VMC/Ext/Blend/Apply arrives; names not staged
    /// since the last Apply keep their committed value.
    /// </summary>
    public sealed class VmcDecoder
    {
        public const string AddrRoot = "/VMC/Ext/Root/Pos";
        public const string AddrBone = "/VMC/Ext/Bone/Pos";
        public const string AddrBlendVal = "/VMC/Ext/Blend/Val";
        public const string AddrBlendApply = "/VMC/Ext/Blend/Apply";
        public const string AddrOk = "/VMC/Ext/OK";
        public const string AddrTime = "/VMC/Ext/T";

        public readonly VmcPose Pose = new VmcPose();
        readonly Dictionary<string, float> staged = new Dictionary<string, float>(StringComparer.Ordinal);
        readonly List<OscMessage> scratch = new List<OscMessage>(128);

        /// <summary>Latest arguments of every address this decoder does not act on (kept, not applied).</summary>
        public readonly Dictionary<string, OscArgument[]> Other = new Dictionary<string, OscArgument[]>(StringComparer.Ordinal);
        public long Datagrams, RejectedDatagrams, Messages, BadMessages, OtherMessages;
        public string LastError;

        /// <summary>Number of staged (not yet applied) blendshape values.</summary>
        public int StagedBlendshapes { get { return staged.Count; } }

        /// <summary>
        /// Decodes one UDP payload and applies its messages. A malformed datagram is rejected as a
        /// whole (returns false, <see cref="LastError"/> set, pose unchanged); never throws for bad input.
        /// </summary>
        public bool ApplyDatagram(byte[] data, int offset, int count)
        {
            scratch.Clear();
            string error;
            if (!OscReader.TryParse(data, offset, count, scratch, out error))
            {
                RejectedDatagrams++;
                LastError = error;
                return false;
            }
            Datagrams++;
            for (int i = 0; i < scratch.Count; i++) Apply(scratch[i]);
            scratch.Clear();
            return true;
        }

        public bool ApplyDatagram(byte[] data) { return ApplyDatagram(data, 0, data == null ? 0 : data.Length); }

        /// <summary>Applies one message; returns false if it was ignored as malformed.</summary>
        public bool Apply(OscMessage m)
        {
            Messages++;
            var a = m.Args;
            switch (m.Address)
            {
                case AddrBone:
                    {
                        HumanBone bone;
                        Vec3 p; Quat q;
                        if (a.Length < 8 || a[0].Tag != 's' || !HumanBones.TryParse(a[0].Text, out bone) ||
                            !ReadPose(a, out p, out q))
                            return Bad(m);
                        int i = (int)bone;
                        Pose.Positions[i] = p; Pose.Rotations[i] = q;
                        Pose.HasPosition[i] = true; Pose.HasRotation[i] = true;
                        return true;
                    }
                case AddrRoot:
                    {
                        Vec3 p; Quat q;
                        if (a.Length < 8 || a[0].Tag != 's' || !ReadPose(a, out p, out q)) return Bad(m);
                        Pose.RootPosition = p; Pose.RootRotation = q; Pose.HasRoot = true;
                        return true;
                    }
                case AddrBlendVal:
                    {
                        float v;
                        if (a.Length < 2 || a[0].Tag != 's' || a[0].Text == null || !a[1].TryGetFloat(out v) || !IsFinite(v))
                            return Bad(m);
                        staged[a[0].Text] = v;
                        return true;
                    }
                case AddrBlendApply:
                    foreach (var kv in staged) Pose.Blendshapes[kv.Key] = kv.Value;
                    staged.Clear();
                    Pose.BlendshapeVersion++;
                    return true;
                case AddrOk:
                    if (a.Length < 1 || !IsInt(a[0])) return Bad(m);
                    Pose.Loaded = (int)a[0].Int;
                    Pose.CalibrationState = a.Length > 1 && IsInt(a[1]) ? (int)a[1].Int : -1;
                    Pose.CalibrationMode = a.Length > 2 && IsInt(a[2]) ? (int)a[2].Int : -1;
                    Pose.TrackingStatus = a.Length > 3 && IsInt(a[3]) ? (int)a[3].Int : -1;
                    return true;
                case AddrTime:
                    {
                        float t;
                        if (a.Length < 1 || !a[0].TryGetFloat(out t)) return Bad(m);
                        Pose.Time = t; Pose.HasTime = true;
                        return true;
                    }
                default:
                    OtherMessages++;
                    Other[m.Address] = a;
                    return true;
            }
        }

        public void Reset()
        {
            Pose.Clear();
            staged.Clear();
            Other.Clear();
        }

        bool Bad(OscMessage m)
        {
            BadMessages++;
            LastError = "ignored malformed " + m.Address;
            return false;
        }

        static bool IsInt(OscArgument a) { return a.Tag == 'i' || a.Tag == 'h'; }

        static bool IsFinite(float v) { return !float.IsNaN(v) && !float.IsInfinity(v); }

        static bool ReadPose(OscArgument[] a, out Vec3 p, out Quat q)
        {
            // arguments 1..7: position x y z, rotation x y z w (no allocation: runs 55 times a frame)
            p = Vec3.Zero; q = Quat.Identity;
            float px, py, pz, qx, qy, qz, qw;
            if (!Num(a[1], out px) || !Num(a[2], out py) || !Num(a[3], out pz) || !Num(a[4], out qx) ||
                !Num(a[5], out qy) || !Num(a[6], out qz) || !Num(a[7], out qw))
                return false;
            p = new Vec3(px, py, pz);
            q = new Quat(qx, qy, qz, qw);
            return true;
        }

        static bool Num(OscArgument a, out float v) { return a.TryGetFloat(out v) && IsFinite(v); }
    }
}
